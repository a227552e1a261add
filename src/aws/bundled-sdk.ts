/**
 * Loads an AWS SDK package of the built CLI from its CommonJS bundle in dist/sdk/ with a V8 code cache, so that a
 * command does not parse and compile half a megabyte of SDK on every run (Node 20 caches no compiled ES modules).
 * The build (scripts/build.mjs) turns every `import … from '@aws-sdk/…'` of src/ into a call of loadBundledSdk; under
 * tsx the packages are imported as usual and this file is not used.
 *
 * The cache lives in the user's cache folder, one file per bundle (its name carries the bundle's content hash) and
 * Node version. V8 checks a cache against its own version, flags and the source's length and ignores one that does
 * not match: the cache is then written again when the process exits. It is only read from a folder that only this
 * user can write to, since it is code.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { userCacheDir } from '../util/cache-dir.js';
import { makeDirs } from '../util/make-dirs.js';

type Exports = Record<string, unknown>;

const loaded = new Map<string, Exports>();

/** The bundles' folder: dist/sdk, beside the chunk (dist/chunks) or the entry (dist) this code was bundled into. */
function sdkDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.join(path.basename(here) === 'chunks' ? path.dirname(here) : here, 'sdk');
}

/** The exports of the bundle `file` (in dist/sdk). */
export function loadBundledSdk(file: string): Exports {
  const done = loaded.get(file);
  if (done) return done;
  const filename = path.join(sdkDir(), file);
  const source = fs.readFileSync(filename, 'utf8');
  const cacheFile = cachePath(file);
  const cachedData = cacheFile ? readCache(cacheFile) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
    cachedData,
  });
  const module = { exports: {} as Exports };
  script.runInThisContext()(module.exports, createRequire(filename), module, filename, path.dirname(filename));
  loaded.set(file, module.exports);
  // Written at exit, so that it also holds the functions this run compiled.
  if (cacheFile && (!cachedData || script.cachedDataRejected)) process.once('exit', () => writeCache(cacheFile, script));
  return module.exports;
}

function cachePath(file: string): string | undefined {
  if (process.env.MME_NO_CODE_CACHE) return undefined;
  return path.join(userCacheDir(), 'code-cache', `${file}.${process.version}-${process.arch}.v8`);
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
 * the same service from other builds or Node versions, so that upgrades do not pile them up. Failures are ignored.
 */
function writeCache(file: string, script: vm.Script): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const dir = path.dirname(file);
    makeDirs(dir, 0o700);
    fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(temp, file);
    const service = path.basename(file).replace(/-[0-9a-f]+\.cjs\..*$/, '');
    for (const old of fs.readdirSync(dir)) {
      if (old !== path.basename(file) && old.startsWith(`${service}-`) && old.endsWith('.v8')) fs.rmSync(path.join(dir, old), { force: true });
    }
  } catch {
    fs.rmSync(temp, { force: true });
  }
}
