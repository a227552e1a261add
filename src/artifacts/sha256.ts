import crypto from 'node:crypto';
import fs from 'node:fs';

/** The hex sha256 of a file, streamed: artifacts can be gigabytes. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
