import fs from 'node:fs';
import zlib from 'node:zlib';
import { Header } from 'tar';
import { usageError } from '../output/errors.js';
import { isGzip } from './bytes.js';

/**
 * Checks that a file is an artifact an MME can load, reading only its first kilobytes: a gzip stream whose
 * first tar entry is at the root. Returns a warning for the classic mistake of a folder nested in the archive.
 */
export async function checkArtifact(file: string): Promise<{ size: number; warning?: string }> {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw usageError(`${file} is not a file.`, 'Give a .tar.gz made by `mme package`.');
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw usageError(`${file} does not exist.`, 'Check the path, or build it with `mme package <folder>`.');
    throw err;
  }
  if (!(await isGzip(file))) throw usageError(`${file} is not a gzip file.`, 'An MME artifact is a .tar.gz: build one with `mme package <folder>`.');
  const first = await firstTarHeader(file);
  if (!first) throw usageError(`${file} is not a gzip-compressed tar archive.`, 'Build it with `mme package <folder>`.');
  const top = first.path?.split('/')[0];
  // "code/" at the root is the inference-script folder SageMaker containers look for, not a nesting mistake.
  if (first.type === 'Directory' && top && top !== '.' && top !== 'code') {
    return { size, warning: `${file} keeps its files under "${top}/"; SageMaker expects model files at the archive root. Rebuild it with \`mme package\`.` };
  }
  return { size };
}

async function firstTarHeader(file: string): Promise<Header | undefined> {
  const head = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const gunzip = zlib.createGunzip();
    const input = fs.createReadStream(file, { end: 64 * 1024 });
    const done = () => {
      input.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(chunks));
    };
    gunzip.on('data', (c: Buffer) => {
      chunks.push(c);
      if ((have += c.length) >= 512) done();
    });
    gunzip.on('error', done);
    gunzip.on('end', done);
    input.pipe(gunzip);
  });
  if (head.length < 512) return undefined;
  let header: Header;
  try {
    header = new Header(head.subarray(0, 512));
  } catch {
    return undefined; // not a tar header at all (tar throws on e.g. a bad base-256 number)
  }
  return header.cksumValid ? header : undefined;
}
