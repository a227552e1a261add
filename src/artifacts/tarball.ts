import fs from 'node:fs';
import { Header, Pax, type HeaderData } from 'tar';

/** One entry of a reproducible archive: its path inside the archive and, for files, where to read it. */
export interface TarEntry {
  path: string;
  type: 'File' | 'Directory';
  /** Absolute path of the file to read (files only). */
  source?: string;
  size: number;
  executable: boolean;
}

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

/**
 * A POSIX tar stream whose bytes depend only on the entries' paths and contents: fixed owner, mode and mtime,
 * entries in the order given (callers sort them). tar's own Header and Pax classes do the encoding.
 */
export async function* tarStream(entries: TarEntry[], mtime: Date): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    const data: HeaderData = {
      path: entry.type === 'Directory' ? entry.path + '/' : entry.path,
      mode: entry.type === 'Directory' || entry.executable ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      size: entry.type === 'File' ? entry.size : 0,
      mtime,
      type: entry.type,
    };
    const header = new Header(data);
    const block = Buffer.alloc(BLOCK);
    if (header.encode(block, 0)) yield new Pax({ ...data, atime: undefined, ctime: undefined }).encode(); // long paths
    yield block;
    if (entry.type !== 'File') continue;
    let read = 0;
    for await (const chunk of fs.createReadStream(entry.source!, { highWaterMark: 1024 * 1024 })) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (read !== entry.size) throw new Error(`${entry.source} changed while it was being packaged (${entry.size} bytes expected, ${read} read).`);
    const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (pad) yield ZEROS.subarray(0, pad);
  }
  yield ZEROS;
}
