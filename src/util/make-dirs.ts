import fs from 'node:fs';
import path from 'node:path';

/**
 * Makes a folder and the parents it lacks, like `mkdir -p`, failing as Node's `{ recursive: true }` does (EEXIST when
 * the folder is a file, ENOTDIR when a parent is). Not that option itself: on Node 20 it never returns when mkdir
 * answers ENOENT under a parent that exists (a path under /proc, say), and a command would hang at 100% CPU, deaf to
 * Ctrl-C. Here each level is made once, and the first failure is thrown as mkdir gave it.
 */
export function makeDirs(dir: string, mode?: number): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = path.dirname(d)) {
    const stat = fs.statSync(d, { throwIfNoEntry: false });
    if (stat?.isDirectory()) break;
    if (stat)
      throw Object.assign(new Error(`${d === target ? 'EEXIST: file already exists' : 'ENOTDIR: not a directory'}, mkdir '${target}'`), {
        code: d === target ? 'EEXIST' : 'ENOTDIR',
        path: target,
      });
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(d).isDirectory()) throw err;
    }
  }
}
