import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../output/errors.js';
import { writeAtomically } from '../store/atomic.js';
import { gzipParallel } from './gzip.js';
import { detectLayout, type Layout } from './layout.js';
import { tarStream, type TarEntry } from './tarball.js';

export interface PackageResult {
  path: string;
  size: number;
  sha256: string;
  files: string[];
  layout: Layout;
}

/**
 * Turns a model folder (or one file) into an MME artifact: files at the archive root, reproducible bytes.
 * The output is written through a temp file, so a failed run leaves nothing behind.
 */
export async function packageModel(input: string, output: string | undefined): Promise<PackageResult> {
  const source = path.resolve(input);
  const stat = await fsp.lstat(source).catch(() => undefined);
  if (!stat) throw usageError(`${input} does not exist.`, 'Give a model folder or a model file, e.g. `mme package ./m37/`.');
  const target = path.resolve(output ?? `${path.basename(source).replace(/\.tar\.gz$/, '')}.tar.gz`);
  if (stat.isFile() && (await isGzip(source))) throw usageError(`${input} is already a gzip file.`, 'Push it as it is: `mme push ' + input + '`.');
  if (stat.isDirectory() && (target + path.sep).startsWith(source + path.sep)) {
    throw usageError(`the output ${target} is inside the folder being packaged.`, 'Write it elsewhere with -o, e.g. -o ../m37.tar.gz.');
  }
  const entries = stat.isDirectory() ? await walk(source) : [await fileEntry(source, path.basename(source), source)];
  if (!entries.some((e) => e.type === 'File')) throw usageError(`${input} has no files to package.`, 'Put the model file(s) in it, e.g. xgboost-model.');
  const layout = detectLayout(entries.filter((e) => e.type === 'File').map((e) => ({ path: e.path, full: e.source! })));

  const mtime = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000);
  const hash = crypto.createHash('sha256');
  let size = 0;
  await writeAtomically(target, async (tmp) => {
    const out = await fsp.open(tmp, 'w');
    try {
      for await (const piece of gzipParallel(tarStream(entries, mtime))) {
        hash.update(piece);
        size += piece.length;
        await out.write(piece);
      }
    } finally {
      await out.close();
    }
  });
  return { path: target, size, sha256: hash.digest('hex'), files: entries.filter((e) => e.type === 'File').map((e) => e.path), layout };
}

/** Every entry under `root`, sorted by path, with links and special files checked. */
async function walk(root: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const visit = async (dir: string, rel: string) => {
    const names = (await fsp.readdir(dir)).sort();
    for (const name of names) {
      const full = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await fsp.lstat(full);
      if (st.isDirectory()) {
        entries.push({ path: relPath, type: 'Directory', size: 0, executable: true });
        await visit(full, relPath);
      } else {
        entries.push(await fileEntry(full, relPath, root, st));
      }
    }
  };
  await visit(root, '');
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function fileEntry(full: string, relPath: string, root: string, st?: fs.Stats): Promise<TarEntry> {
  st ??= await fsp.lstat(full);
  if (st.isSymbolicLink()) {
    // A link inside the folder is packaged as the file it points to; one pointing outside would smuggle in a file.
    const real = await fsp.realpath(full).catch(() => undefined);
    const realRoot = await fsp.realpath(root);
    if (!real || !(real === realRoot || real.startsWith(realRoot + path.sep)) || real === full) {
      throw usageError(`${full} is a symlink pointing outside ${root} (or nowhere).`, 'Copy the file into the folder instead of linking it.');
    }
    const target = await fsp.stat(real);
    if (!target.isFile()) throw usageError(`${full} is a symlink to a folder.`, 'Copy the folder in instead of linking it.');
    return { path: relPath, type: 'File', source: real, size: target.size, executable: (target.mode & 0o111) !== 0 };
  }
  if (!st.isFile()) throw usageError(`${full} is not a regular file (device, socket or pipe).`, 'Remove it from the model folder.');
  return { path: relPath, type: 'File', source: full, size: st.size, executable: (st.mode & 0o111) !== 0 };
}

export async function isGzip(file: string): Promise<boolean> {
  const fd = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fd.close();
  }
}
