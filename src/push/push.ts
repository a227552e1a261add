// `mme push` without the rendering: check, hash, compare with what is stored, upload, and say truthfully what
// happened to every artifact when anything fails or the user presses Ctrl-C.
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { sha256File } from '../artifacts/bytes.js';
import { checkArtifact } from '../artifacts/inspect.js';
import { checkModelName } from '../artifacts/names.js';
import { mapLimit } from '../util/map-limit.js';
import { ExitCode, MmeError, usageError } from '../output/errors.js';
import { wouldOverwrite } from '../store/overwrite.js';
import type { Store } from '../store/index.js';
import { testPhase } from '../util/test-phase.js';

const PUSHES_IN_FLIGHT = 4;
const HASHES_IN_FLIGHT = 4;
const HEADS_IN_FLIGHT = 16;
/** Names listed in a one-line message before "and N more". */
const LISTED = 5;

export interface PushRequest {
  files: string[];
  as?: string;
  force: boolean;
  skipIdentical: boolean;
  dryRun: boolean;
  signal: AbortSignal;
  warn(message: string): void;
  onProgress?(sentBytes: number, totalBytes: number): void;
}

export interface Pushed {
  name: string;
  file: string;
  url: string;
  size: number;
  sha256: string;
  overwrote: boolean;
}

export interface Skipped {
  name: string;
  file: string;
  url: string;
  sha256: string;
}

export interface PushPlan {
  name: string;
  file: string;
  size: number;
  url: string;
  overwrites: boolean;
}

export type PushOutcome = { dryRun: true; pushes: PushPlan[]; skipped: Skipped[] } | { dryRun: false; pushes: Pushed[]; skipped: Skipped[] };

/** "a, b, c, d, e and 3 more" */
export function listSome(names: string[], max = LISTED): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export async function pushArtifacts(store: Store, req: PushRequest): Promise<PushOutcome> {
  let phase = 'starting';
  try {
    return await pushSteps(store, req, (p) => (phase = p));
  } catch (err) {
    // Before the upload nothing has been sent: say where it stopped. The upload's own failures say what they left.
    if (req.signal.aborted && !(err instanceof MmeError && err.exitCode === ExitCode.interrupted)) {
      throw new MmeError(`push interrupted while ${phase}; nothing was uploaded.`, ExitCode.interrupted);
    }
    throw err;
  }
}

async function pushSteps(store: Store, req: PushRequest, at: (phase: string) => void): Promise<PushOutcome> {
  const { signal } = req;
  signal.throwIfAborted();
  if (req.as !== undefined && req.files.length > 1)
    throw usageError(`--as names one model, but ${req.files.length} artifacts were given.`, 'Push them one at a time, or drop --as.');

  // Everything is checked before the first byte is sent.
  at('checking the files');
  await testPhase('checking-files', signal);
  const items = await Promise.all(
    req.files.map(async (file) => {
      const name = checkModelName(req.as ?? path.basename(file), req.as !== undefined ? '--as' : `model name (from ${file})`);
      const { size, warning } = checkArtifact(file);
      if (warning) req.warn(warning);
      return { file, name, size };
    }),
  );
  signal.throwIfAborted();
  const dup = items.find((it, i) => items.findIndex((o) => o.name === it.name) !== i);
  if (dup) throw usageError(`two artifacts would both be pushed as ${dup.name}.`, 'Push them under different names.');

  at('hashing');
  await testPhase('hashing', signal);
  const hashes = await mapLimit(items, HASHES_IN_FLIGHT, (it) => sha256File(it.file, signal));

  at(`checking the names under ${store.url}`);
  await testPhase('checking', signal);
  const existing = await mapLimit(items, HEADS_IN_FLIGHT, (it) => store.head(it.name, { sha256: req.skipIdentical, signal }));
  signal.throwIfAborted();

  const skipped: Skipped[] = [];
  const todo: { file: string; name: string; size: number; sha256: string; exists: boolean }[] = [];
  items.forEach((it, i) => {
    const stored = existing[i];
    if (stored && req.skipIdentical && stored.sha256 === hashes[i] && stored.size === it.size) {
      skipped.push({ name: it.name, file: it.file, url: store.url + it.name, sha256: hashes[i] });
    } else {
      todo.push({ ...it, sha256: hashes[i], exists: Boolean(stored) });
    }
  });
  const taken = todo.filter((t) => t.exists);
  if (taken.length && !req.force)
    throw takenError(
      taken.map((t) => t.name),
      items.length,
      store.url,
      req.skipIdentical,
    );

  if (req.dryRun) {
    return { dryRun: true, skipped, pushes: todo.map((t) => ({ name: t.name, file: t.file, size: t.size, url: store.url + t.name, overwrites: t.exists })) };
  }

  await testPhase('uploading', signal);
  // One failure stops the others: their uploads are aborted (no orphan parts), and the message says what is left.
  const siblings = new AbortController();
  setMaxListeners(0, siblings.signal); // one listener per request in flight
  const onAbort = () => siblings.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const totalBytes = todo.reduce((n, t) => n + t.size, 0);
  const sent = new Array<number>(todo.length).fill(0);
  type Settled = { ok: Pushed } | { error: unknown; cancelled: boolean };
  let settled: Settled[];
  try {
    settled = await mapLimit(todo, PUSHES_IN_FLIGHT, async (t, i): Promise<Settled> => {
      if (siblings.signal.aborted) return { error: new Error('not started'), cancelled: true };
      try {
        const stored = await store.put(t.name, t.file, {
          overwrite: req.force,
          sha256: t.sha256,
          signal: siblings.signal,
          onProgress: (bytes) => {
            sent[i] = bytes;
            req.onProgress?.(
              sent.reduce((a, b) => a + b, 0),
              totalBytes,
            );
          },
        });
        return { ok: { name: t.name, file: t.file, url: store.url + t.name, size: stored.size, sha256: t.sha256, overwrote: t.exists } };
      } catch (error) {
        const cancelled = siblings.signal.aborted;
        siblings.abort();
        return { error, cancelled };
      }
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }

  const pushed = settled.flatMap((s) => ('ok' in s ? [s.ok] : []));
  if (pushed.length === todo.length) return { dryRun: false, pushes: pushed, skipped };
  throw pushFailure(
    settled,
    todo.map((t) => t.name),
    pushed,
    signal.aborted,
  );
}

function takenError(names: string[], total: number, url: string, skipIdentical: boolean): MmeError {
  if (names.length === 1 && total === 1) return wouldOverwrite(names[0], url);
  const differ = skipIdentical ? ' with different bytes' : '';
  return new MmeError(
    `${names.length} of ${total} artifacts already exist under ${url}${differ}: ${listSome(names)}; nothing was pushed.`,
    ExitCode.wouldOverwrite,
    skipIdentical
      ? 'Give the new versions new file names (e.g. m37-v2.tar.gz) and call those, or pass --force to overwrite them (instances may keep serving cached copies).'
      : 'Pass --skip-identical to skip those whose bytes are already stored, give new versions new file names (e.g. m37-v2.tar.gz), or pass --force to overwrite.',
  );
}

function pushFailure(settled: ({ ok: Pushed } | { error: unknown; cancelled: boolean })[], names: string[], pushed: Pushed[], interrupted: boolean): MmeError {
  const failures = settled.flatMap((s, i) => ('error' in s ? [{ name: names[i], error: s.error, cancelled: s.cancelled }] : []));
  const cause = failures.find((f) => !f.cancelled) ?? failures[0];
  const cancelled = failures.filter((f) => f !== cause);
  const left = failures.flatMap((f) => (f.error instanceof MmeError && /could not be aborted|may have been started/.test(f.error.message) ? [f.name] : []));
  const written = pushed.length ? ` ${pushed.length} pushed completely: ${listSome(pushed.map((p) => p.name))}.` : '';
  const stopped = cancelled.length ? ` ${cancelled.length} other upload(s) stopped and aborted.` : '';
  const orphans = left.length ? ` Parts may remain for: ${listSome(left)}.` : '';
  const base = cause.error instanceof MmeError ? cause.error : new MmeError(cause.error instanceof Error ? cause.error.message : String(cause.error));
  if (interrupted) {
    if (names.length === 1) return base.exitCode === ExitCode.interrupted ? base : new MmeError(base.message, ExitCode.interrupted, base.hint);
    return new MmeError(
      `push interrupted; ${failures.length} of ${names.length} upload(s) stopped and aborted, nothing half-written.${written}${orphans}`,
      ExitCode.interrupted,
      base.hint,
    );
  }
  if (names.length === 1) return base;
  return new MmeError(`${base.message.replace(/\.$/, '')}.${stopped}${written}${orphans}`, base.exitCode, base.hint);
}
