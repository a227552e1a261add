import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../output/errors.js';
import { writeAtomically } from '../store/atomic.js';
import { userCacheDir } from '../util/cache-dir.js';
import type { Manifest } from './manifest.js';
import { aliasProblem, versionName } from './names.js';

/** One alias's source in a sync folder: a model folder (packaged) or an artifact (used as it is). */
export interface SyncSource {
  alias: string;
  path: string;
  kind: 'folder' | 'artifact';
}

/** The models of a sync folder: each sub-folder, and each `<alias>.tar.gz`; other files are skipped (and named). */
export async function scanSyncDir(dir: string): Promise<{ sources: SyncSource[]; skipped: string[] }> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch((err) => {
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(
      `cannot read ${dir}: ${code === 'ENOENT' ? 'it does not exist' : code === 'ENOTDIR' ? 'it is not a folder' : code}.`,
      'Give a folder holding one model folder or <alias>.tar.gz per alias, e.g. `mme sync examples/merchants`.',
    );
  });
  const sources: SyncSource[] = [];
  const skipped: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) sources.push({ alias: e.name, path: full, kind: 'folder' });
    else if (e.isFile() && e.name.endsWith('.tar.gz')) sources.push({ alias: e.name.slice(0, -'.tar.gz'.length), path: full, kind: 'artifact' });
    else skipped.push(e.name);
  }
  for (const s of sources) {
    const problem = aliasProblem(s.alias);
    if (problem) throw usageError(`${s.path}: alias "${s.alias}" ${problem}.`, 'Rename it, or move it out of the folder. Nothing was changed.');
  }
  const dup = sources.find((s, i) => sources.findIndex((o) => o.alias === s.alias) !== i);
  if (dup) throw usageError(`${dir} holds both a folder and an artifact for alias ${dup.alias}.`, 'Keep one of them. Nothing was changed.');
  return { sources, skipped };
}

/**
 * What a source's bytes are, told from file sizes and times alone (as `aws s3 sync` and rsync do): the key of the
 * sha256 cache, so that an unchanged model is neither packaged nor hashed again.
 */
export function fingerprint(source: SyncSource): string {
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify([path.resolve(source.path), source.kind, process.env.SOURCE_DATE_EPOCH ?? '']));
  // Synchronous: a stat each, for a whole folder of models, costs less than as many round trips to the thread pool.
  const visit = (p: string, rel: string): void => {
    const st = fs.lstatSync(p);
    hash.update(JSON.stringify([rel, st.mode, st.size, st.mtimeMs, st.ino]));
    if (st.isDirectory()) for (const name of fs.readdirSync(p).sort()) visit(path.join(p, name), `${rel}/${name}`);
  };
  visit(source.path, '.');
  return hash.digest('hex');
}

/** fingerprint → sha256 of the artifact, kept in ~/.cache/mme (XDG_CACHE_HOME) between runs. */
export class HashCache {
  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, string>,
  ) {}

  /** Read synchronously, as the sources are stat'ed: one small file, at the start. */
  static open(): HashCache {
    const file = path.join(userCacheDir(), 'sync-sha256.json');
    let entries: Record<string, string> = {};
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (parsed && typeof parsed === 'object') entries = parsed;
    } catch {
      /* no cache yet, or unreadable: start empty */
    }
    return new HashCache(file, entries);
  }

  get(key: string): string | undefined {
    const v = this.entries[key];
    return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
  }

  private dirty = false;

  set(key: string, sha256: string): void {
    if (this.entries[key] === sha256) return;
    this.entries[key] = sha256;
    this.dirty = true;
  }

  /** Keeps the `keep` keys of this run (so the cache does not grow without end); best effort. Unchanged: not rewritten. */
  async save(keep: Set<string>): Promise<void> {
    if (!this.dirty) return;
    const kept = Object.fromEntries(Object.entries(this.entries).filter(([k]) => keep.has(k)));
    const others = Object.entries(this.entries)
      .filter(([k]) => !keep.has(k))
      .slice(-5000);
    await writeAtomically(this.file, (tmp) => fsp.writeFile(tmp, JSON.stringify({ ...Object.fromEntries(others), ...kept }))).catch(() => undefined);
  }
}

export type SyncAction = 'added' | 'changed' | 'unchanged';

export interface SyncPlanItem {
  alias: string;
  source: string;
  action: SyncAction;
  version: string;
  /** The live target before the sync (changed aliases). */
  previous: string | null;
  /** Whether the version's bytes must be uploaded (false: already under the prefix, or the alias is unchanged). */
  upload: boolean;
  sha256: string;
}

export interface SyncPlan {
  items: SyncPlanItem[];
  /** Aliases in the manifest with no source in the folder: removed with --prune. */
  prune: string[];
}

export function planSync(manifest: Manifest, hashes: { source: SyncSource; sha256: string }[], existing: Set<string>): SyncPlan {
  const items = hashes.map(({ source, sha256 }): SyncPlanItem => {
    const version = versionName(source.alias, sha256);
    const current = manifest.aliases[source.alias]?.target;
    const action: SyncAction = current === undefined ? 'added' : current === version ? 'unchanged' : 'changed';
    return {
      alias: source.alias,
      source: source.path,
      action,
      version,
      previous: current ?? null,
      upload: action !== 'unchanged' && !existing.has(version),
      sha256,
    };
  });
  const inDir = new Set(hashes.map((h) => h.source.alias));
  const prune = Object.keys(manifest.aliases)
    .filter((a) => !inDir.has(a))
    .sort();
  return { items, prune };
}
