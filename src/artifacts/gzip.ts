import zlib from 'node:zlib';
import { promisify } from 'node:util';
import os from 'node:os';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

const BLOCK = 512 * 1024;
const DICTIONARY = 32 * 1024; // deflate's window: each block is primed with the input just before it
// Blocks compress on libuv's thread pool; this many in flight keeps every core busy without holding much memory.
const IN_FLIGHT = Math.max(4, os.availableParallelism() * 3);

/**
 * gzip in parallel, the way pigz does it: the input is cut into fixed blocks, each compressed independently with
 * the previous 32 KiB as dictionary and ended with a sync flush, and the pieces are concatenated into one valid
 * gzip stream. Fixed block size and a zero header mtime make the output the same bytes for the same input.
 */
export async function* gzipParallel(source: AsyncIterable<Buffer>, level = 6): AsyncGenerator<Buffer> {
  yield Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 3]);
  const pending: Promise<Buffer>[] = [];
  let crc = 0;
  let total = 0;
  let previous: Buffer | undefined; // the block before `current`, for its dictionary
  let current: Buffer | undefined;
  const submit = (block: Buffer, last: boolean) => {
    const options: zlib.ZlibOptions = { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
    if (previous) options.dictionary = previous.subarray(Math.max(0, previous.length - DICTIONARY));
    pending.push(deflateRaw(block, options));
    previous = block;
  };
  for await (const block of rechunk(source, BLOCK)) {
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
