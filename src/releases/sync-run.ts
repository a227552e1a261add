/**
 * `mme sync`: a folder of models released in one switch. Every source is hashed (unchanged files keep their hash from
 * the cache), checked, and packaged if it is a model folder before a byte is sent; new content is uploaded as soon as
 * it is hashed, from the bytes hashed (a version is content-addressed and referenced by nothing until the manifest
 * write, so uploading before the plan is shown changes nothing clients see); then every changed alias moves in one
 * compare-and-swap write of the manifest, or none does.
 */
import fsp from 'node:fs/promises';
import { ExitCode, MmeError } from '../output/errors.js';
import type { Progress } from '../output/output.js';
import type { Store } from '../store/index.js';
import { mapLimit } from '../util/map-limit.js';
import { type Artifact, checkSource, ensureVersion, makeWorkDir, prepareArtifact } from './artifact.js';
import { limiter } from '../util/limiter.js';
import { moveAlias } from './manifest.js';
import { versionName } from './names.js';
import * as sync from './sync.js';
import { readManifest, releaser, updateManifest } from './update.js';
import { listVersions } from './versions.js';

const PACKAGES_IN_FLIGHT = 4;
const CHECKS_BETWEEN_YIELDS = 16; // artifacts' first kilobytes, read synchronously
const UPLOADS_IN_FLIGHT = 10; // as `aws s3 sync`
/** Artifacts read and hashed ahead of a free upload slot (at most 8 MiB each in memory). */
const READ_AHEAD = 2;

export interface SyncRunOptions {
  dryRun: boolean;
  prune: boolean;
  note?: string;
  signal: AbortSignal;
  /** A progress display for a step (hashing, uploading). */
  progress(text: string): Promise<Progress>;
  /** The plan, once every model is hashed: before the remaining uploads and the manifest write. */
  onPlan?(plan: sync.SyncPlan, summary: SyncSummary): void;
}

export interface SyncSummary {
  added: number;
  changed: number;
  unchanged: number;
  /** Aliases removed (with --prune). */
  pruned: string[];
  /** Aliases that have no model in the folder. */
  notInFolder: string[];
  uploads: number;
  items: sync.SyncPlanItem[];
}

export type SyncOutcome = SyncSummary & { dryRun: boolean; written: boolean; uploadedBytes?: number; moved?: number };

export async function runSync(store: Store, sources: sync.SyncSource[], options: SyncRunOptions): Promise<SyncOutcome> {
  const cache = sync.HashCache.open();
  // The temp folder for packaged model folders is made only if one is packaged.
  let work: Promise<string> | undefined;
  const workDir = () => (work ??= makeWorkDir());
  try {
    // What the folder holds (a stat per file) and what the prefix holds, at once: the manifest, and the listing if
    // some model is new or changed since the last run (the listing only matters when some alias changes: a sync with
    // nothing to do never makes it).
    const prints = sources.map(sync.fingerprint);
    const misses = sources.flatMap((_, i) => (cache.get(prints[i]) === undefined ? [i] : []));
    const reading = readManifest(store);
    const listing = misses.length ? listVersions(store) : undefined;
    // Both are awaited below; bad input found meanwhile must not leave their failures unhandled.
    for (const request of [reading, listing]) request?.catch(() => {});
    // Meanwhile, the sources not in the hash cache are checked: a bad one stops the sync before anything is sent. The
    // reads are synchronous, so they yield now and then to let the requests above go out.
    const kinds: ('artifact' | 'package')[] = [];
    for (const i of misses) {
      if (kinds.length % CHECKS_BETWEEN_YIELDS === 0) await new Promise(setImmediate);
      kinds.push(checkSource(sources[i].path));
    }
    const { manifest } = await reading;
    let existing = new Set<string>();
    // Uploads, from here on: every one is tried; one failure (or Ctrl-C) leaves the manifest untouched.
    const failures: { alias: string; error: unknown }[] = [];
    const uploaded = new Set<string>();
    let uploadedBytes = 0;
    const upload = async (alias: string, source: string, sha256: string, artifact?: Artifact) => {
      if (options.signal.aborted) return;
      uploaded.add(alias);
      try {
        // Hashed in an earlier run (the cache), but not stored under this prefix: read and hashed once more, and sent
        // from those bytes.
        if (!artifact) artifact = await prepareArtifact(source, await workDir(), alias, { keepBytes: true });
        if (artifact.sha256 !== sha256) throw new MmeError(`${source} changed while syncing.`, ExitCode.failed, 'Run the sync again.');
        await ensureVersion(store, alias, artifact, false, options.signal);
        artifact.release?.();
        uploadedBytes += artifact.size;
      } catch (error) {
        failures.push({ alias, error });
      }
    };
    // Sources whose sizes and times are unchanged since the last run keep their hash. Of the others (checked
    // above), model folders are packaged; then each new artifact is read once, hashed, and if its content is new,
    // uploaded from those bytes.
    const progress = await options.progress(`hashing ${sources.length} model(s)`);
    const artifacts = new Map<string, Artifact>();
    const known = new Map<number, string>();
    let done = 0;
    const hashed = (i: number, sha256: string) => {
      known.set(i, sha256);
      progress.update(`hashing ${sources.length} model(s): ${++done} done`);
    };
    sources.forEach((_, i) => {
      const sha256 = cache.get(prints[i]);
      if (sha256 !== undefined) hashed(i, sha256);
    });
    const unchanged = (i: number) => manifest.aliases[sources[i].alias]?.target === versionName(sources[i].alias, known.get(i)!);
    if (misses.length || !sources.every((_, i) => unchanged(i))) existing = new Set((await (listing ?? listVersions(store))).map((o) => o.name));
    try {
      // Model folders are packaged first, so that a packaging failure, too, comes before any upload.
      await mapLimit(
        misses.filter((_, k) => kinds[k] === 'package'),
        PACKAGES_IN_FLIGHT,
        async (i) => {
          const artifact = await prepareArtifact(sources[i].path, await workDir(), sources[i].alias);
          artifacts.set(sources[i].alias, artifact);
          hashed(i, artifact.sha256);
        },
      );
      const reads = misses.filter((_, k) => kinds[k] === 'artifact');
      const uploadSlot = limiter(UPLOADS_IN_FLIGHT);
      // One read at a time: a read hashes on this thread, so reads at once would only delay the uploads they feed.
      const readSlot = limiter(1);
      await mapLimit(reads, UPLOADS_IN_FLIGHT + READ_AHEAD, async (i) => {
        options.signal.throwIfAborted();
        const { alias, path: source } = sources[i];
        const artifact = await readSlot(() => prepareArtifact(source, '', alias, { checked: true, keepBytes: !options.dryRun })); // an artifact: not packaged
        hashed(i, artifact.sha256);
        const version = versionName(alias, artifact.sha256);
        // New content (as planSync will say: not stored, not live): sent now, from the bytes just hashed.
        if (artifact.bytes && !existing.has(version) && manifest.aliases[alias]?.target !== version)
          await uploadSlot(() => upload(alias, source, artifact.sha256, artifact));
        artifacts.set(alias, { ...artifact, bytes: undefined, release: undefined });
      });
    } finally {
      progress.stop();
    }
    const hashes = sources.map((source, i) => ({ source, sha256: known.get(i)! }));
    sources.forEach((_, i) => cache.set(prints[i], known.get(i)!));
    await cache.save(new Set(prints));
    const plan = sync.planSync(manifest, hashes, existing);
    const count = (a: string) => plan.items.filter((i) => i.action === a).length;
    const toUpload = plan.items.filter((i) => i.upload && i.action !== 'unchanged');
    const pruned = options.prune ? plan.prune : [];
    const planJson = {
      added: count('added'),
      changed: count('changed'),
      unchanged: count('unchanged'),
      pruned,
      notInFolder: plan.prune,
      uploads: toUpload.length,
      items: plan.items,
    };
    options.onPlan?.(plan, planJson);
    if (options.dryRun) return { dryRun: true, ...planJson, written: false };

    const rest = toUpload.filter((i) => !uploaded.has(i.alias));
    const upProgress = await options.progress(`uploading ${rest.length} version(s)`);
    let sent = 0;
    await mapLimit(rest, UPLOADS_IN_FLIGHT, async (item) => {
      await upload(item.alias, item.source, item.sha256, artifacts.get(item.alias));
      upProgress.update(`uploading ${rest.length} version(s): ${++sent} done`);
    }).finally(() => upProgress.stop());
    options.signal.throwIfAborted();
    if (failures.length) {
      const first = failures[0].error;
      throw new MmeError(
        `${failures.length} of ${toUpload.length} upload(s) failed (first, ${failures[0].alias}: ${first instanceof Error ? first.message : String(first)}); the manifest was not changed.`,
        first instanceof MmeError && first.exitCode === ExitCode.notFound ? first.exitCode : ExitCode.failed,
        'The versions that did upload stay unreferenced (collected by `mme gc`). Run the sync again.',
      );
    }

    const moves = plan.items.filter((i) => i.action !== 'unchanged');
    const note = options.note ?? null;
    const by = releaser();
    const at = new Date();
    // One compare-and-swap write moves every alias: the fleet switches all at once, or not at all. Nothing to move
    // or prune: the manifest read at the start is not read again.
    const { written } =
      !moves.length && !pruned.length
        ? { written: false }
        : await updateManifest(
            store,
            (m) => {
              let changed = false;
              for (const item of moves) {
                if (m.aliases[item.alias]?.target === item.version) continue;
                moveAlias(m, item.alias, item.version, { by, note, at });
                changed = true;
              }
              for (const alias of pruned) {
                if (m.aliases[alias]) {
                  delete m.aliases[alias];
                  changed = true;
                }
              }
              return { write: changed, result: undefined };
            },
            options.signal,
          );
    return { dryRun: false, ...planJson, uploadedBytes, written, moved: moves.length };
  } finally {
    const made = await work?.catch(() => undefined);
    if (made) await fsp.rm(made, { recursive: true, force: true });
  }
}
