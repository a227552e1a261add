import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isGzipHead, sha256File } from '../artifacts/bytes.js';
import { checkHead, readHead } from '../artifacts/inspect.js';
import { ExitCode, MmeError, usageError } from '../output/errors.js';
import { ONE_REQUEST_MAX, type Store } from '../store/index.js';
import { readWhole } from '../store/read-whole.js';
import { versionName } from './names.js';

export interface Artifact {
  file: string;
  sha256: string;
  size: number;
  /** Whether it was packaged from a model folder (or file) on the fly. */
  packaged: boolean;
  /** The bytes, when they were read whole to be hashed (see `keepBytes`): uploaded from memory, not read again. */
  bytes?: Buffer;
  /** Gives `bytes` back to their pool: call once they were sent (answered), never while a request may read them. */
  release?(): void;
}

export interface PrepareOptions {
  /**
   * A .tar.gz of at most one request's size is read whole, and its bytes kept with its hash, so that an upload that
   * follows reads and hashes it once. The caller drops them once uploaded.
   */
  keepBytes?: boolean;
  /** The .tar.gz was checked already (see {@link checkSource}): do not read its header again. */
  checked?: boolean;
}

/** A private temp folder for packaged artifacts, removed by the caller. */
export const makeWorkDir = () => fsp.mkdtemp(path.join(os.tmpdir(), 'mme-release-'));

/** SOURCE as an artifact: a .tar.gz is used as it is (checked), a model folder or file is packaged into `workDir`. */
export async function prepareArtifact(source: string, workDir: string, as: string, options: PrepareOptions = {}): Promise<Artifact> {
  const kind = options.checked ? 'artifact' : checkSource(source);
  if (kind === 'artifact') {
    const size = fs.statSync(source).size;
    const whole = options.keepBytes && size <= ONE_REQUEST_MAX ? await readWhole(source) : undefined;
    if (whole) {
      // One read serves the hash and the upload: the bytes hashed are the bytes sent, whatever happens to the file.
      const { bytes, digest, release } = whole;
      return { file: source, sha256: digest.toString('hex'), size: bytes.length, packaged: false, bytes, release };
    }
    return { file: source, sha256: await sha256File(source), size, packaged: false };
  }
  const { packageModel } = await import('../artifacts/package.js');
  const out = path.join(workDir, `${as.replace(/\//g, '_')}.tar.gz`);
  const r = await packageModel(source, out);
  return { file: r.path, sha256: r.sha256, size: r.size, packaged: true };
}

/** What SOURCE is: a .tar.gz used as it is (checked: a gzip'd tar), or anything else, packaged by prepareArtifact. */
export function checkSource(source: string): 'artifact' | 'package' {
  const st = fs.statSync(source, { throwIfNoEntry: false });
  if (!st) throw usageError(`${source} does not exist.`, 'Give a model folder (packaged on the fly) or a .tar.gz made by `mme package`.');
  if (!st.isFile()) return 'package';
  const { head } = readHead(source);
  if (!isGzipHead(head)) return 'package';
  checkHead(source, head);
  return 'artifact';
}

/**
 * Uploads the artifact under its content-addressed name unless that name exists (same bytes: nothing to send).
 * Returns the name and whether bytes were sent.
 */
export async function ensureVersion(
  store: Store,
  alias: string,
  artifact: Artifact,
  exists: boolean | undefined,
  signal?: AbortSignal,
): Promise<{ name: string; uploaded: boolean }> {
  const name = versionName(alias, artifact.sha256);
  if (exists ?? (await store.head(name)) !== undefined) return { name, uploaded: false };
  try {
    await store.put(name, artifact.file, { overwrite: false, sha256: artifact.sha256, bytes: artifact.bytes, signal });
    return { name, uploaded: true };
  } catch (err) {
    // Someone uploaded the same bytes under the same name meanwhile: that is the version we wanted.
    if (err instanceof MmeError && err.exitCode === ExitCode.wouldOverwrite) {
      if ((await store.head(name))?.size === artifact.size) return { name, uploaded: false };
      // Refused as an overwrite, yet nothing (or something else) is there: a write failure, whatever it was called.
      throw new MmeError(`cannot write ${name} under ${store.url} (${err.message})`, ExitCode.failed, 'Check what occupies that name.');
    }
    throw err;
  }
}
