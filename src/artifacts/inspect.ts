import fs from 'node:fs';
import zlib from 'node:zlib';
import { Header } from 'tar';
import { usageError } from '../output/errors.js';
import { isGzipHead } from './bytes.js';

/** How much of a file is read to find its first tar header: a gzip header and one tar header need far less. */
const HEAD_BYTES = 64 * 1024;

/**
 * Checks that a file is an artifact an MME can load, reading only its first kilobytes: a gzip stream whose
 * first tar entry is at the root. Returns a warning for the classic mistake of a folder nested in the archive.
 */
export function checkArtifact(file: string): { size: number; warning?: string } {
  const { size, head } = readHead(file);
  if (!isGzipHead(head)) throw usageError(`${file} is not a gzip file.`, 'An MME artifact is a .tar.gz: build one with `mme package <folder>`.');
  return { size, warning: checkHead(file, head) };
}

/**
 * A file's size and first {@link HEAD_BYTES} bytes; a missing file or a folder is bad input. Synchronous: from the
 * page cache this is some 20 µs, where 150 files on the thread pool took 60 ms.
 */
export function readHead(file: string): { size: number; head: Buffer } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw usageError(`${file} does not exist.`, 'Check the path, or build it with `mme package <folder>`.');
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw usageError(`${file} is not a file.`, 'Give a .tar.gz made by `mme package`.');
    const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, st.size));
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return { size: st.size, head: head.subarray(0, n) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks the first tar header in a gzip file's first bytes (see {@link readHead}): throws if there is none, returns
 * a warning if the archive keeps its files in a folder.
 */
export function checkHead(file: string, head: Buffer): string | undefined {
  const first = firstTarHeader(head);
  if (!first) throw usageError(`${file} is not a gzip-compressed tar archive.`, 'Build it with `mme package <folder>`.');
  const top = first.path?.split('/')[0];
  // "code/" at the root is the inference-script folder SageMaker containers look for, not a nesting mistake.
  if (first.type === 'Directory' && top && top !== '.' && top !== 'code') {
    return `${file} keeps its files under "${top}/"; SageMaker expects model files at the archive root. Rebuild it with \`mme package\`.`;
  }
  return undefined;
}

function firstTarHeader(gzipHead: Buffer): Header | undefined {
  // Inflated a little at a time (a truncated stream is fine with a sync flush): a kilobyte of deflate can inflate to a
  // megabyte, so the whole head is inflated only if its start was not enough.
  let tar: Buffer | undefined;
  for (const n of [1024, 8 * 1024, HEAD_BYTES]) {
    try {
      tar = zlib.gunzipSync(gzipHead.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return undefined; // not gzip, or corrupt from the start
    }
    if (tar.length >= 512 || n >= gzipHead.length) break;
  }
  if (!tar || tar.length < 512) return undefined;
  let header: Header;
  try {
    header = new Header(tar.subarray(0, 512));
  } catch {
    return undefined; // not a tar header at all (tar throws on e.g. a bad base-256 number)
  }
  return header.cksumValid ? header : undefined;
}
