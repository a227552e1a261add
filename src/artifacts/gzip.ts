import zlib from 'node:zlib';
import { promisify } from 'node:util';
import os from 'node:os';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

/** Uncompressed bytes per gzip member. */
export const MEMBER_BYTES = 1024 * 1024;
/**
 * The gzip header of a member of a multi-member artifact: FLG.FEXTRA with one subfield "ME" whose 4 bytes are the
 * member's whole length (header, deflate data, trailer), little-endian, so that a reader finds every member without
 * inflating one (as BGZF does with its "BC" subfield, whose 16-bit length is too small for MiB-sized members).
 */
export const MEMBER_HEADER_BYTES = 20;
const SUBFIELD = [0x4d, 0x45]; // "ME"
// Members compress on libuv's thread pool; this many in flight keeps every core busy without holding much memory.
const IN_FLIGHT = Math.max(4, os.availableParallelism() * 3);

/**
 * gzip in parallel: the input is cut into fixed blocks of MEMBER_BYTES, each compressed on its own into one gzip
 * member (RFC 1952 allows a file of several members; gzip, GNU tar, Python's gzip and tarfile read them as one
 * stream), so that `mme local` can inflate them in parallel too. Each member's header records its length (see
 * MEMBER_HEADER_BYTES). An input of one block is one plain member, without the length field. Fixed block size, zero
 * header mtime and fixed OS byte make the output the same bytes for the same input, whatever the thread count.
 */
export async function* gzipParallel(source: AsyncIterable<Buffer>, level = 6): AsyncGenerator<Buffer> {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  const pending: Promise<Buffer>[] = [];
  let first: Buffer | undefined; // held until a second block says whether the output has several members
  let several = false;
  const submit = (block: Buffer) => pending.push(member(block, level, xfl, several));
  for await (const block of rechunk(source, MEMBER_BYTES)) {
    if (!several && first === undefined) {
      first = block;
      continue;
    }
    if (!several) {
      several = true;
      submit(first!);
    }
    submit(block);
    while (pending.length >= IN_FLIGHT) yield await pending.shift()!;
  }
  if (!several) submit(first ?? Buffer.alloc(0));
  while (pending.length) yield await pending.shift()!;
}

async function member(block: Buffer, level: number, xfl: number, withLength: boolean): Promise<Buffer> {
  const crc = zlib.crc32(block);
  const data = await deflateRaw(block, { level });
  const headerBytes = withLength ? MEMBER_HEADER_BYTES : 10;
  const out = Buffer.allocUnsafe(headerBytes + data.length + 8);
  out.set([0x1f, 0x8b, 8, withLength ? 4 : 0, 0, 0, 0, 0, xfl, 3]);
  if (withLength) {
    out.writeUInt16LE(8, 10); // XLEN
    out.set(SUBFIELD, 12);
    out.writeUInt16LE(4, 14);
    out.writeUInt32LE(out.length, 16);
  }
  out.set(data, headerBytes);
  out.writeUInt32LE(crc >>> 0, headerBytes + data.length);
  out.writeUInt32LE(block.length, headerBytes + data.length + 4);
  return out;
}

/**
 * The length a member's header records (see MEMBER_HEADER_BYTES), or undefined when the bytes are not the header of
 * a member of a multi-member artifact (`header` holds at least MEMBER_HEADER_BYTES bytes).
 */
export function memberLength(header: Uint8Array): number | undefined {
  if (header.length < MEMBER_HEADER_BYTES) return undefined;
  const h = Buffer.from(header.buffer, header.byteOffset, MEMBER_HEADER_BYTES);
  if (h[0] !== 0x1f || h[1] !== 0x8b || h[2] !== 8 || h[3] !== 4) return undefined;
  if (h.readUInt16LE(10) !== 8 || h[12] !== SUBFIELD[0] || h[13] !== SUBFIELD[1] || h.readUInt16LE(14) !== 4) return undefined;
  return h.readUInt32LE(16);
}

/** Regroups a byte stream into blocks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (let chunk of source) {
    while (have + chunk.length >= size) {
      const take = size - have;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts, size);
      chunk = chunk.subarray(take);
      parts = [];
      have = 0;
    }
    if (chunk.length) {
      parts.push(chunk);
      have += chunk.length;
    }
  }
  if (have) yield Buffer.concat(parts, have);
}
