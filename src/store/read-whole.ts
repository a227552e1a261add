// Whole-file reads for one-request uploads, into buffers that are reused: a sync of 150 × 5 MB artifacts allocating
// a fresh buffer per file spent about as much time in the garbage collector as in hashing.
import fsp from 'node:fs/promises';
import { ONE_REQUEST_MAX } from './store.js';

/** Free buffers of ONE_REQUEST_MAX bytes (at most as many as were ever in use at once, capped). */
const free: Buffer[] = [];
const KEEP = 16;

export interface WholeFile {
  /** The file's bytes (a view of a pooled buffer). */
  bytes: Buffer;
  /** Gives the buffer back once nothing reads it any more (the upload answered). Not calling it is safe. */
  release(): void;
}

/**
 * The whole file, if it has at most ONE_REQUEST_MAX bytes (else undefined: stream it instead). Read to its end,
 * so the bytes are what the file held when read, whatever its size was when it was stat'ed.
 */
export async function readWhole(file: string, signal?: AbortSignal): Promise<WholeFile | undefined> {
  signal?.throwIfAborted();
  const buf = free.pop() ?? Buffer.allocUnsafeSlow(ONE_REQUEST_MAX + 1);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (free.length < KEEP) free.push(buf);
  };
  const fd = await fsp.open(file, 'r');
  try {
    let n = 0;
    for (;;) {
      const { bytesRead } = await fd.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > ONE_REQUEST_MAX) {
        release();
        return undefined;
      }
      signal?.throwIfAborted();
    }
    return { bytes: buf.subarray(0, n), release };
  } catch (err) {
    release();
    throw err;
  } finally {
    await fd.close();
  }
}
