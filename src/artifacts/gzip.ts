import zlib from 'node:zlib';
import { promisify } from 'node:util';
import os from 'node:os';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

/** Uncompressed bytes per independently compressed block. */
export const BLOCK_BYTES = 1024 * 1024;
// Blocks compress on libuv's thread pool; this many in flight keeps every core busy without holding much memory.
const IN_FLIGHT = Math.max(4, os.availableParallelism() * 3);

/**
 * The block index `mme package` appends to an artifact of several blocks, as a second, empty gzip member whose
 * header carries it in an FEXTRA subfield "MI":
 *
 *   1f 8b 08 04 00000000 00 03 | XLEN | "MI" LEN | blockBytes, (compressedLength, crc32) × count, count | 03 00 | 0 0
 *   (all little-endian u16/u32; the member inflates to nothing, so its CRC and size are 0)
 *
 * Readers that read every member (gzip, GNU tar, Python's gzip and tarfile, Go, Java) see an empty member; Python's
 * streaming tarfile (`mode="r|gz"`), which reads one member and does not parse FEXTRA, stops in the first one, at the
 * tar end marker. The data member itself is plain: a 10-byte header without flags, the blocks, the trailer.
 */
const INDEX_ID = [0x4d, 0x49]; // "MI"
/** A gzip header's XLEN is 16 bits: 12 bytes of fixed fields plus 8 per block. */
export const MAX_INDEXED_BLOCKS = Math.floor((0xffff - 12) / 8);
const INDEX_FIXED_BYTES = 26 + 8; // header, XLEN, subfield id and length, blockBytes, count, final block, trailer

/**
 * gzip in parallel, the way `pigz --independent` does it: the input is cut into fixed blocks of BLOCK_BYTES, each
 * compressed on its own (no dictionary from the block before) and ended with a sync flush, and the pieces are
 * concatenated into one standard gzip member. Then, when there are several blocks, the index member above, so that
 * `mme local` can inflate the blocks on every core. Fixed block size, zero mtime and a fixed OS byte make the output
 * the same bytes for the same input, whatever the thread count; an input of one block is one plain member.
 */
export async function* gzipParallel(source: AsyncIterable<Buffer>, level = 6): AsyncGenerator<Buffer> {
  yield Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 3]);
  const pending: Promise<Buffer>[] = [];
  const blocks: { length: number; crc: number }[] = [];
  let crc = 0;
  let total = 0;
  let current: Buffer | undefined;
  const submit = (block: Buffer, last: boolean) => {
    const compressed = deflateRaw(block, { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH });
    const entry = { length: 0, crc: zlib.crc32(block) };
    blocks.push(entry);
    pending.push(compressed.then((c) => ((entry.length = c.length), c)));
  };
  for await (const block of rechunk(source, BLOCK_BYTES)) {
    crc = zlib.crc32(block, crc);
    total += block.length;
    if (current) submit(current, false);
    current = block;
    while (pending.length >= IN_FLIGHT) yield await pending.shift()!;
  }
  submit(current ?? Buffer.alloc(0), true);
  while (pending.length) yield await pending.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield trailer;
  if (blocks.length > 1 && blocks.length <= MAX_INDEXED_BLOCKS) yield indexMember(blocks);
}

/** The index member for these blocks (compressed length and CRC of each), of BLOCK_BYTES each but the last. */
export function indexMember(blocks: { length: number; crc: number }[], blockBytes = BLOCK_BYTES): Buffer {
  const data = 8 + 8 * blocks.length;
  const out = Buffer.alloc(26 + data);
  out.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3]);
  out.writeUInt16LE(4 + data, 10);
  out.set(INDEX_ID, 12);
  out.writeUInt16LE(data, 14);
  out.writeUInt32LE(blockBytes, 16);
  blocks.forEach((b, i) => {
    out.writeUInt32LE(b.length, 20 + 8 * i);
    out.writeUInt32LE(b.crc >>> 0, 24 + 8 * i);
  });
  out.writeUInt32LE(blocks.length, 16 + data - 4);
  out.set([3, 0], 16 + data); // an empty final block; CRC and size 0 follow
  return out;
}

/** Where each block of an indexed artifact lies, and what it inflates to. */
export interface BlockIndex {
  blockBytes: number;
  blocks: { at: number; length: number; crc: number; bytes: number }[];
}

/**
 * Reads the block index of an `mme package` artifact from its last bytes, or undefined when the file has none or
 * anything about it does not add up (the file is then read as any gzip stream). `tail(n)` gives the file's last n
 * bytes; `size` is the file's size. Checked: the index member's exact layout, a plain 10-byte first header (`head`),
 * blocks that tile the data member exactly up to its trailer, and the trailer's size (mod 2^32).
 */
export async function readBlockIndex(head: Uint8Array, size: number, tail: (n: number) => Promise<Buffer>): Promise<BlockIndex | undefined> {
  if (head.length < 10 || head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 8 || head[3] !== 0) return undefined;
  if (size < 10 + 8 + INDEX_FIXED_BYTES) return undefined;
  const end = await tail(14);
  const count = end.readUInt32LE(0);
  if (end[4] !== 3 || end[5] !== 0 || end.readUInt32LE(6) !== 0 || end.readUInt32LE(10) !== 0) return undefined;
  if (count < 2 || count > MAX_INDEXED_BLOCKS) return undefined;
  const data = 8 + 8 * count;
  const indexBytes = 26 + data;
  if (size < 10 + 8 + indexBytes) return undefined;
  const index = await tail(indexBytes + 8); // with the data member's trailer before it
  const m = index.subarray(8);
  const fixed = [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3];
  if (fixed.some((b, i) => m[i] !== b) || m.readUInt16LE(10) !== 4 + data || m[12] !== INDEX_ID[0] || m[13] !== INDEX_ID[1]) return undefined;
  if (m.readUInt16LE(14) !== data) return undefined;
  const blockBytes = m.readUInt32LE(16);
  if (blockBytes < 1 || blockBytes > BLOCK_BYTES) return undefined; // what mme writes: memory per block stays small
  const totalBytes = index.readUInt32LE(4);
  const blocks: BlockIndex['blocks'] = [];
  let at = 10;
  for (let i = 0; i < count; i++) {
    const length = m.readUInt32LE(20 + 8 * i);
    // Deflate never grows a block by more than a few bytes per 16 KiB.
    if (length < 2 || length > blockBytes + (blockBytes >>> 10) + 64) return undefined;
    blocks.push({ at, length, crc: m.readUInt32LE(24 + 8 * i), bytes: blockBytes });
    at += length;
  }
  const lastBytes = totalBytes - (((count - 1) * blockBytes) % 2 ** 32);
  const last = blocks[count - 1];
  last.bytes = ((lastBytes % 2 ** 32) + 2 ** 32) % 2 ** 32;
  if (last.bytes < 1 || last.bytes > blockBytes) return undefined;
  if (at + 8 + indexBytes !== size) return undefined;
  return { blockBytes, blocks };
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
