// Whole-file reads for one-request uploads, into buffers that are reused: a sync of 150 × 5 MB artifacts allocating
// a fresh buffer per file spent about as much time in the garbage collector as in hashing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ONE_REQUEST_MAX } from './store.js';

/** Free buffers of ONE_REQUEST_MAX bytes (at most as many as were ever in use at once, capped). */
const free: Buffer[] = [];
const KEEP = 16;
/**
 * Each piece is hashed as soon as it is read, on this thread, while it is still in this core's cache: reading a whole
 * file on the thread pool and then hashing it here cost a third more CPU (150 × 5 MB: 0.9 s against 0.67 s).
 */
const PIECE = 128 * 1024;

export interface WholeFile {
  /** The file's bytes (a view of a pooled buffer). */
  bytes: Buffer;
  /** The sha256 of `bytes`. */
  digest: Buffer;
  /** Gives the buffer back once nothing reads it any more (the upload answered). Not calling it is safe. */
  release(): void;
}

/**
 * The whole file and its sha256, if it has at most ONE_REQUEST_MAX bytes (else undefined: stream it instead). Read
 * to its end, so the bytes are what the file held when read, whatever its size was when it was stat'ed. Synchronous
 * (at most 8 MiB, a few milliseconds from the page cache): round trips to the thread pool would cost more.
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
  const fd = fs.openSync(file, 'r');
  try {
    const hash = crypto.createHash('sha256');
    let n = 0;
    for (;;) {
      const read = fs.readSync(fd, buf, n, Math.min(PIECE, buf.length - n), null);
      if (read === 0) break;
      hash.update(buf.subarray(n, n + read));
      n += read;
      if (n > ONE_REQUEST_MAX) {
        release();
        return undefined;
      }
    }
    return { bytes: buf.subarray(0, n), digest: hash.digest(), release };
  } catch (err) {
    release();
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}
