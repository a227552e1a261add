// What a file's bytes say, read without loading the packaging code (tar, workers).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { testPhase } from '../util/test-phase.js';

/** The hex sha256 of a file, streamed: artifacts can be gigabytes. `signal` stops it between chunks. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const hash = crypto.createHash('sha256');
  let first = true;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024, signal })) {
    hash.update(chunk as Buffer);
    if (first && signal) await testPhase('hashing', signal);
    first = false;
  }
  signal?.throwIfAborted();
  return hash.digest('hex');
}

/** Whether the bytes start with gzip's magic number. */
export const isGzipHead = (head: Uint8Array) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** Whether the file starts with gzip's magic bytes. */
export async function isGzip(file: string): Promise<boolean> {
  const fd = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(2), 0, 2, 0);
    return isGzipHead(buffer.subarray(0, bytesRead));
  } finally {
    await fd.close();
  }
}
