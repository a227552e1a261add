import crypto from 'node:crypto';
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../output/errors.js';
import { checkOutputPath, writeOutput, type OutputTarget } from '../store/output-path.js';
import { isGzip } from './bytes.js';
import { MAX_ARTIFACT_ENTRIES } from './limits.js';
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
export async function packageModel(input: string, output: string | OutputTarget): Promise<PackageResult> {
  const target = typeof output === 'string' ? await checkOutputPath(output, '-o', [input]) : output;
  // `mme package` has checked that the input exists and that the target is not inside it.
  const source = path.resolve(input);
  const stat = await fsp.lstat(source);
  if (stat.isFile() && (await isGzip(source))) throw usageError(`${input} is already a gzip file.`, 'Push it as it is: `mme push ' + input + '`.');
  const entries = stat.isDirectory() ? await walk(source) : [await fileEntry(source, path.basename(source), source)];
  if (!entries.some((e) => e.type === 'File')) throw usageError(`${input} has no files to package.`, 'Put the model file(s) in it, e.g. xgboost-model.');
  if (entries.length > MAX_ARTIFACT_ENTRIES) {
    throw usageError(
      `${input} holds ${entries.length} files and folders; an artifact may hold at most ${MAX_ARTIFACT_ENTRIES} (mme local and mme predict refuse more).`,
      'Package only what the model needs to serve.',
    );
  }
  const layout = detectLayout(entries.filter((e) => e.type === 'File').map((e) => ({ path: e.path, full: e.source! })));

  const mtime = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000);
  const hash = crypto.createHash('sha256');
  let size = 0;
  await writeOutput(target, async (tmp) => {
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
  return { path: target.path, size, sha256: hash.digest('hex'), files: entries.filter((e) => e.type === 'File').map((e) => e.path), layout };
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
