// What a file's bytes say, read without loading the packaging code (tar, workers).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** The hex sha256 of a file, streamed: artifacts can be gigabytes. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Whether the file starts with gzip's magic bytes. */
export async function isGzip(file: string): Promise<boolean> {
  const fd = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fd.close();
  }
}
