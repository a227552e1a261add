import os from 'node:os';
import { ExitCode, MmeError } from '../output/errors.js';
import { PreconditionFailed, type Store } from '../store/index.js';
import { MANIFEST_NAME, checkWritable, emptyManifest, moveAlias, parseManifest, serializeManifest, type Manifest } from './manifest.js';

/** Attempts before a write that keeps losing its compare-and-swap gives up (exit 5). */
const MAX_ATTEMPTS = 60;

export interface ReadManifest {
  manifest: Manifest;
  /** Undefined when there is no manifest yet. */
  etag: string | undefined;
}

export const manifestUrl = (store: Store) => store.url + MANIFEST_NAME;

/** The fleet's alias manifest (an empty one when none was written yet): one GET. */
export async function readManifest(store: Store): Promise<ReadManifest> {
  const doc = await store.readDocument(MANIFEST_NAME);
  if (!doc) return { manifest: emptyManifest(), etag: undefined };
  return { manifest: parseManifest(doc.bytes, manifestUrl(store)), etag: doc.etag };
}

/** Who is releasing: MME_RELEASE_BY, else user@host. */
export function releaser(): string {
  if (process.env.MME_RELEASE_BY) return process.env.MME_RELEASE_BY;
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry (containers): keep $USER */
  }
  return `${user}@${os.hostname()}`;
}

export interface UpdateResult<T> {
  manifest: Manifest;
  result: T;
  /** False when `change` asked for no write. */
  written: boolean;
  attempts: number;
}

/**
 * Read, change, compare-and-swap write; on a lost race, read again and re-apply `change` to what the other writer
 * wrote (so no update is ever lost), with jittered backoff. `change` mutates the fresh manifest it is given and returns
 * `{ write: false }` to skip the write; it may throw (e.g. when the alias moved in a way that voids the request).
 */
export async function updateManifest<T>(
  store: Store,
  change: (manifest: Manifest, attempt: number) => { write: boolean; result: T },
  signal?: AbortSignal,
): Promise<UpdateResult<T>> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const { manifest, etag } = await readManifest(store);
    checkWritable(manifest, manifestUrl(store));
    const { write, result } = change(manifest, attempt);
    if (!write) return { manifest, result, written: false, attempts: attempt };
    try {
      await store.writeDocument(MANIFEST_NAME, serializeManifest(manifest), etag === undefined ? { ifNoneMatch: true } : { ifMatch: etag });
      return { manifest, result, written: true, attempts: attempt };
    } catch (err) {
      if (!(err instanceof PreconditionFailed)) throw err;
      if (attempt >= MAX_ATTEMPTS) {
        throw new MmeError(
          `lost the race to update ${manifestUrl(store)} ${attempt} times: others are changing it right now.`,
          ExitCode.wouldOverwrite,
          'Nothing was changed by this command; run it again.',
        );
      }
      const cap = Math.min(1000, 10 * 2 ** Math.min(attempt, 7));
      await new Promise((r) => setTimeout(r, cap / 2 + Math.random() * cap));
    }
  }
}

/**
 * Points `alias` at `target` now (release, promote): whatever moved the alias meanwhile, the request still holds, so a
 * lost race retries. Nothing is written when the alias already points there.
 */
export async function pointAlias(
  store: Store,
  alias: string,
  target: string,
  note: string | null,
  signal?: AbortSignal,
): Promise<{ previous: string | null; written: boolean }> {
  const by = releaser();
  const { result: previous, written } = await updateManifest(
    store,
    (m) => {
      const before = m.aliases[alias]?.target ?? null;
      if (before === target) return { write: false, result: before };
      moveAlias(m, alias, target, { by, note, at: new Date() });
      return { write: true, result: before };
    },
    signal,
  );
  return { previous, written };
}
