/**
 * Runs a CommonJS bundle of the built CLI (the CLI itself, dist/cli-<hash>.cjs, and each AWS SDK bundle in
 * dist/sdk/) with a V8 code cache, so that a command does not parse and compile a megabyte of JavaScript on every run:
 * Node 20 caches no compiled ES modules.
 *
 * The cache lives in the user's cache folder, one file per bundle (its name carries the bundle's content hash: V8
 * checks a cache against the source's length, not its content), folder (V8 keeps the file name the cache was made
 * with, for stack traces) and Node version. V8 checks a cache against its own version and flags and ignores one that
 * does not match: the cache is then written again when the process exits. It is only read from a folder that only this
 * user can write to, since it is code.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { userCacheDir } from './cache-dir.js';
import { makeDirs } from './make-dirs.js';

export type Exports = Record<string, unknown>;

/** The exports of the CommonJS bundle `filename` (named `<name>-<hash>.cjs`). */
export function runCachedScript(filename: string): Exports {
  const source = fs.readFileSync(filename, 'utf8');
  const cacheFile = cachePath(filename);
  const cachedData = cacheFile ? readCache(cacheFile) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
    cachedData,
  });
  const module = { exports: {} as Exports };
  script.runInThisContext()(module.exports, createRequire(filename), module, filename, path.dirname(filename));
  // Written at exit, so that it also holds the functions this run compiled.
  if (cacheFile && (!cachedData || script.cachedDataRejected)) process.once('exit', () => writeCache(cacheFile, script));
  return module.exports;
}

function cachePath(filename: string): string | undefined {
  if (process.env.MME_NO_CODE_CACHE) return undefined;
  const folder = createHash('sha256').update(path.dirname(filename)).digest('hex').slice(0, 8);
  return path.join(userCacheDir(), 'code-cache', `${path.basename(filename)}.${folder}.${process.version}-${process.arch}.v8`);
}

/** The cache's bytes, if it exists in a folder and a file that only this user can write to. */
function readCache(file: string): Buffer | undefined {
  try {
    const uid = process.getuid?.();
    for (const stat of [fs.statSync(path.dirname(file)), fs.statSync(file)]) {
      if ((uid !== undefined && stat.uid !== uid) || stat.mode & 0o022) return undefined;
    }
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Replaces the cache in one rename (a concurrent run reads the old file or the new one), and deletes the caches of
 * the same bundle from other builds or Node versions, so that upgrades do not pile them up. Failures are ignored.
 */
function writeCache(file: string, script: vm.Script): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const dir = path.dirname(file);
    makeDirs(dir, 0o700);
    fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(temp, file);
    const bundle = path.basename(file).replace(/-[0-9a-f]+\.cjs\..*$/, '');
    for (const old of fs.readdirSync(dir)) {
      if (old !== path.basename(file) && old.startsWith(`${bundle}-`) && old.endsWith('.v8')) fs.rmSync(path.join(dir, old), { force: true });
    }
  } catch {
    fs.rmSync(temp, { force: true });
  }
}
