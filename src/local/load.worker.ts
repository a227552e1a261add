/**
 * A loading thread of the local endpoint: the cold path of a model, off the server's event loop. It unpacks a
 * downloaded artifact (every check of extract.ts applies) keeping the model files' bytes as they are inflated
 * (nothing is read back from disk), and compiles the model from them: as they arrive when the runtime can (legacy
 * binary XGBoost models), so that compiling overlaps inflating, else once they are all in. The compiled model is
 * posted at once (an 'unpacked' event), before the model files are written to disk: the first request is answered
 * while they are, and the reply follows once the folder is complete. The compiled arrays live in SharedArrayBuffers:
 * posting them shares the memory with the main thread, which only wraps them.
 */
import { performance } from 'node:perf_hooks';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { BudgetExceeded, SharedBudget } from './budget.js';
import { ArtifactError, extractArtifact, type Unpacked } from './extract.js';
import type { LoadBudgets, LoadEvent, LoadFailure, LoadReply, LoadRequest } from './pool.js';
import { compileArtifact, compileEarly, isModelFile } from './runtime.js';
import { readArtifactFiles } from './runtimes/files.js';
import { ModelLoadError, type ArtifactFiles, type EarlyCompile } from './runtimes/types.js';

const port = parentPort!;
/** Larger model files are not held in memory while unpacking: they are read back from disk for the load. */
const KEEP_LIMIT = 1024 ** 3;
const cancels = new Map<number, AbortController>();
/**
 * The shared budgets, as this thread reserves from them: disk for what an extraction writes (kept by the folder),
 * memory for the model files held while loading (given back once the model is compiled; the cache then reserves the
 * compiled model's footprint).
 */
const shared = (workerData as { budgets?: LoadBudgets; slot: number } | undefined) ?? { slot: 0 };
const disk = shared.budgets && new SharedBudget('disk', shared.budgets.disk.limitBytes, shared.budgets.disk.buffer, shared.slot);
const memory = shared.budgets && new SharedBudget('memory', shared.budgets.memory.limitBytes, shared.budgets.memory.buffer, shared.slot);

port.on('message', (msg: LoadRequest) => {
  if (msg.type === 'cancel') return cancels.get(msg.id)?.abort();
  const job = msg.type === 'load' ? loadDir(msg.id, msg.dir) : unpackAndLoad(msg.id, msg.tarball, msg.dir, msg.limits);
  void job.then((reply) => port.postMessage(reply));
});

async function unpackAndLoad(
  id: number,
  tarball: string,
  dir: string,
  limits: Extract<LoadRequest, { type: 'unpack-and-load' }>['limits'],
): Promise<LoadReply> {
  const controller = new AbortController();
  cancels.set(id, controller);
  const started = performance.now();
  let loaded: LoadReply['loaded'];
  let handedOver = false;
  const early = new EarlyCompiles();
  let held = 0;
  try {
    const extracted = await extractArtifact(tarball, dir, limits, controller.signal, {
      disk,
      // A model file is held in memory to be loaded: reserved from its header, before a byte of it is inflated.
      onFile: (rel, size) => {
        if (memory && !rel.includes('/') && isModelFile(rel)) held += memory.reserve(size, `model file ${rel}`);
      },
      keep: (rel, size) => !rel.includes('/') && size <= KEEP_LIMIT && isModelFile(rel),
      onStart: () => port.postMessage({ id, event: 'started' } satisfies LoadEvent),
      onKeptData: (rel, bytes, available) => early.arrived(rel, bytes, available),
      onUnpacked: (unpacked) => {
        const ms = performance.now() - started;
        if (heldForTests(unpacked.bytes)) return;
        const files = keptFiles(dir, unpacked, early);
        if (files) loaded = compile(files);
        // The folder (and its disk reservation) is the main thread's from here; with the model when it is compiled.
        handedOver = true;
        port.postMessage({
          id,
          event: 'unpacked',
          unpacked: { files: unpacked.files, bytes: unpacked.bytes, diskBytes: unpacked.diskBytes, ms },
          loaded,
        } satisfies LoadEvent);
      },
    });
    if (heldForTests(extracted.bytes)) await new Promise(() => setInterval(() => {}, 1 << 30));
    if (loaded) return { id, written: true };
    // A model file too large to keep is read back now that it is written.
    loaded = await readArtifactFiles(dir, isModelFile, extracted.kept).then(compile, (err) => ({ failure: failureOf(err) }));
    return { id, written: true, loaded };
  } catch (err) {
    return handedOver ? { id, written: { failure: failureOf(err) } } : { id, unpacked: { failure: failureOf(err) } };
  } finally {
    memory?.release(held);
    cancels.delete(id);
  }
}

async function loadDir(id: number, dir: string): Promise<LoadReply> {
  let held = 0;
  try {
    if (memory) {
      for (const name of await fsp.readdir(dir)) {
        if (!isModelFile(name)) continue;
        const st = await fsp.stat(path.join(dir, name));
        if (st.isFile()) held += memory.reserve(st.size, `model file ${name}`);
      }
    }
    return { id, loaded: compile(await readArtifactFiles(dir, isModelFile)) };
  } catch (err) {
    return { id, loaded: { failure: failureOf(err) } };
  } finally {
    memory?.release(held);
  }
}

/**
 * The early compiles of the files being unpacked. Their work is deferred to after the current inflated chunk is
 * handled (setImmediate), so that the next chunk is already being inflated in the thread pool meanwhile.
 */
class EarlyCompiles {
  private readonly files = new Map<string, EarlyCompile | undefined>();
  private readonly due = new Map<string, number>();
  private scheduled = false;

  arrived(rel: string, bytes: Uint8Array, available: number): void {
    if (!this.files.has(rel)) this.files.set(rel, compileEarly(rel, bytes, { shared: true }));
    if (!this.files.get(rel)) return;
    this.due.set(rel, available);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const [name, n] of this.due) this.files.get(name)!.advance(n);
      this.due.clear();
    });
  }

  /** The file is complete: what its early compile made of it (undefined: compile it from its bytes). */
  result(rel: string): unknown {
    try {
      return this.files.get(rel)?.result();
    } catch {
      return undefined;
    }
  }
}

/** The artifact's model files from the bytes kept while unpacking; undefined when one was too large to keep. */
function keptFiles(dir: string, contents: Unpacked, early: EarlyCompiles): ArtifactFiles | undefined {
  const files: ArtifactFiles['files'] = [];
  for (const name of contents.topFiles) {
    if (!isModelFile(name)) continue;
    const bytes = contents.kept.get(name);
    if (!bytes) return undefined;
    files.push({ name, bytes, early: early.result(name) });
  }
  return { dir, files, folders: contents.topFolders, names: contents.topFiles };
}

function compile(files: ArtifactFiles): NonNullable<LoadReply['loaded']> {
  try {
    return { compiled: compileArtifact(files, { shared: true }) };
  } catch (err) {
    return { failure: failureOf(err) };
  }
}

function failureOf(err: unknown): LoadFailure {
  if (err instanceof ArtifactError) return { kind: 'artifact', message: err.message };
  if (err instanceof ModelLoadError) return { kind: 'model', file: err.file, reason: err.reason };
  if (err instanceof BudgetExceeded)
    return { kind: 'budget', budget: err.budget, neededBytes: err.neededBytes, permanent: err.permanent, message: err.message };
  return { kind: 'internal', message: (err as Error)?.message ?? String(err) };
}

/**
 * Test-only: with MME_TEST_HOLD_LOAD_BYTES=N, a load of N or more unpacked bytes never finishes (until the thread is
 * stopped), so a test can rely on a model that is still loading instead of on one that is merely slow.
 */
function heldForTests(bytes: number): boolean {
  const at = Number(process.env.MME_TEST_HOLD_LOAD_BYTES);
  return at > 0 && bytes >= at;
}
