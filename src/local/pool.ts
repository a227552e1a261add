import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BudgetExceeded, MAX_THREADS, type SharedBudget } from './budget.js';
import type { ModelLoader, UnpackedModel } from './cache.js';
import { ArtifactError, type ExtractLimits } from './extract.js';
import { instantiateModel } from './runtime.js';
import { ModelLoadError, type CompiledArtifact, type LoadedModel } from './runtimes/types.js';

// ---- threads (one pool of scoring threads, one of loading threads) ------------------------------------------------

/** A thread of a {@link WorkerPool}: requests in flight, and what it has been given to keep (model keys). */
class PoolThread<Req, Rep extends { id: number }> {
  readonly pending = new Map<number, { resolve(reply: Rep): void; reject(err: Error): void }>();
  /** Keys of the models this thread holds (it was sent their compiled data). */
  readonly holds = new Set<number>();
  /** Listeners for the events a thread posts about a request before its reply (`{ id, event }` messages). */
  readonly events = new Map<number, (message: { id: number; event: string }) => void>();

  constructor(
    readonly worker: Worker,
    private readonly nextId: () => number,
  ) {}

  /** Sends a request built around a fresh id; resolves with the thread's reply to it. */
  request(make: (id: number) => Req, transfer: ArrayBuffer[] = []): { id: number; reply: Promise<Rep> } {
    const id = this.nextId();
    const reply = new Promise<Rep>((resolve, reject) => {
      // An idle thread does not keep the process alive; one with work under way does (a load during shutdown).
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(make(id), transfer);
    });
    return { id, reply };
  }

  /** The waiter for a reply, no longer pending. */
  settle(id: number): { resolve(reply: Rep): void; reject(err: Error): void } | undefined {
    const waiter = this.pending.get(id);
    this.pending.delete(id);
    this.events.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return waiter;
  }

  /** A message that gets no reply (drop a model, cancel a request). */
  post(message: Req): void {
    this.worker.postMessage(message);
  }
}

/**
 * A small pool of threads running one worker script. Threads start on first use (or on `warm()`); each request goes
 * to the thread with the fewest requests in flight. A thread that dies fails only its own requests and is replaced
 * on next use.
 */
class WorkerPool<Req, Rep extends { id: number }> {
  private readonly threads: (PoolThread<Req, Rep> | undefined)[];
  private nextId = 1;
  closed = false;

  /** @param script the worker's file: `workerScript('score')` or `workerScript('load')` */
  /** @param onThreadGone called when thread `index` has stopped (crashed or killed), before its place is reused */
  constructor(
    size: number,
    private readonly script: URL,
    private readonly label: string,
    private readonly workerData?: Record<string, unknown>,
    private readonly onThreadGone?: (index: number) => void,
  ) {
    this.threads = new Array(Math.max(1, size)).fill(undefined);
  }

  /** The thread the next request should go to: an idle one, else a new one while there is room, else the least busy. */
  pick(): PoolThread<Req, Rep> {
    let best = -1;
    let free = -1;
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i];
      if (!t) {
        if (free < 0) free = i;
        continue;
      }
      if (t.pending.size === 0) return t;
      if (best < 0 || t.pending.size < this.threads[best]!.pending.size) best = i;
    }
    if (free >= 0) return (this.threads[free] = this.spawn(free));
    return this.threads[best]!;
  }

  /** Stops a thread at once (a stuck load): its requests fail, a new thread takes its place on next use. */
  async kill(thread: PoolThread<Req, Rep>): Promise<void> {
    await thread.worker.terminate();
  }

  /** The index of a running thread (its slot in the shared budgets). */
  indexOf(thread: PoolThread<Req, Rep>): number {
    return this.threads.indexOf(thread);
  }

  /** The threads that are running. */
  running(): PoolThread<Req, Rep>[] {
    return this.threads.filter((t): t is PoolThread<Req, Rep> => t !== undefined);
  }

  /** Starts `count` threads (all by default) now, so that the first request does not wait for a thread to start. */
  warm(count = this.threads.length): void {
    for (let i = 0; i < Math.min(count, this.threads.length); i++) this.threads[i] ??= this.spawn(i);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t?.worker.terminate()));
  }

  private spawn(index: number): PoolThread<Req, Rep> {
    const worker = new Worker(this.script, { name: `mme-${this.label}-${index}`, workerData: { ...this.workerData, slot: index } });
    worker.unref();
    const thread = new PoolThread<Req, Rep>(worker, () => this.nextId++);
    worker.on('message', (reply: Rep | { id: number; event: string }) => {
      if ('event' in reply) thread.events.get(reply.id)?.(reply);
      else thread.settle(reply.id)?.resolve(reply);
    });
    const fail = (err: Error) => {
      if (this.threads[index] === thread) {
        this.onThreadGone?.(index);
        this.threads[index] = undefined;
      }
      for (const id of [...thread.pending.keys()]) thread.settle(id)!.reject(new Error(`${this.label} thread failed: ${err.message}`));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    return thread;
  }
}

/**
 * A bundled worker is dist/<name>.worker.js, beside the entry; this module may sit in dist/ or dist/chunks/.
 * Run from source (tsx), it is the .ts file next to this one.
 */
export function workerScript(name: 'score' | 'load' | 'predict'): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(`./${name}.worker.ts`, here);
  for (const rel of [`./${name}.worker.js`, `../${name}.worker.js`]) {
    const url = new URL(rel, here);
    if (fs.existsSync(fileURLToPath(url))) return url;
  }
  throw new Error(`${name}.worker.js not found next to the bundle; rebuild with \`npm run build\`.`);
}

// ---- scoring threads ----------------------------------------------------------------------------------------------

export type ScoreRequest =
  | {
      type: 'invoke';
      id: number;
      /** The model to score with, and with the first request for it on this thread, its compiled data. */
      key: number;
      model?: CompiledArtifact;
      body: ArrayBuffer;
      contentType: string | undefined;
      accept: string | undefined;
    }
  | { type: 'drop'; key: number };

export type ScoreReply =
  | { id: number; ok: true; body: ArrayBuffer; contentType: string }
  | { id: number; ok: false; kind: 'request' | 'load' | 'internal'; status: number; message: string };

/** What a worker answered when scoring failed: `kind` says whose fault it was. */
export class WorkerScoringError extends Error {
  constructor(
    readonly kind: 'request' | 'load' | 'internal',
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerScoringError';
  }
}

/**
 * Scoring threads for large requests. A thread gets a model's compiled data with its first request for that model:
 * compiled `shared`, that is the main thread's own arrays (SharedArrayBuffers), not a copy, so a scoring thread adds
 * no model memory; it keeps the model until `drop`.
 */
export class ScoringPool {
  private readonly pool: WorkerPool<ScoreRequest, ScoreReply>;
  private readonly keys = new WeakMap<CompiledArtifact, number>();
  private nextKey = 1;

  constructor(size: number, script: URL = workerScript('score')) {
    this.pool = new WorkerPool(size, script, 'scoring');
  }

  async invoke(
    model: CompiledArtifact,
    body: Uint8Array,
    contentType: string | undefined,
    accept: string | undefined,
  ): Promise<{ body: Buffer; contentType: string }> {
    if (this.pool.closed) throw new WorkerScoringError('internal', 500, 'the endpoint is shutting down');
    let key = this.keys.get(model);
    if (key === undefined) this.keys.set(model, (key = this.nextKey++));
    const thread = this.pool.pick();
    const first = !thread.holds.has(key);
    thread.holds.add(key);
    // The worker gets its own copy of the request bytes (transferred, not cloned twice).
    const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    let reply: ScoreReply;
    try {
      reply = await thread.request((id) => ({ type: 'invoke', id, key, model: first ? model : undefined, body: copy, contentType, accept }), [copy]).reply;
    } catch (err) {
      throw new WorkerScoringError('internal', 500, (err as Error).message);
    }
    if (!reply.ok) {
      if (first) thread.holds.delete(key);
      throw new WorkerScoringError(reply.kind, reply.status, reply.message);
    }
    return { body: Buffer.from(reply.body), contentType: reply.contentType };
  }

  /** Tells the threads that hold a model the cache has unloaded to let it go. */
  drop(model: CompiledArtifact): void {
    const key = this.keys.get(model);
    if (key === undefined) return;
    this.keys.delete(model);
    for (const thread of this.pool.running()) if (thread.holds.delete(key)) thread.post({ type: 'drop', key });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

// ---- loading threads ----------------------------------------------------------------------------------------------

export type LoadRequest =
  | { type: 'unpack-and-load'; id: number; tarball: string; dir: string; limits: ExtractLimits }
  | { type: 'load'; id: number; dir: string }
  | { type: 'cancel'; id: number };

/**
 * What a loading thread says about a request before it replies: the artifact's unpacking has started; it is unpacked
 * (the folder and its disk reservation are the main thread's from then on), with the compiled model unless it must be
 * read back from disk, while its model files are still being written.
 */
export type LoadEvent = { id: number; event: 'started' } | { id: number; event: 'unpacked'; unpacked: UnpackedInfo; loaded?: LoadResult };

/** An unpacked artifact: its files, their declared bytes, what the folder takes on disk, and the time it took. */
export interface UnpackedInfo {
  files: number;
  bytes: number;
  diskBytes: number;
  ms: number;
}

/** A compiled model, or why it could not be loaded. */
export type LoadResult = { compiled: CompiledArtifact } | { failure: LoadFailure };

/** Why a step failed, as data: `artifact` (ArtifactError), `model` (ModelLoadError) or anything else. */
export type LoadFailure =
  | { kind: 'artifact'; message: string }
  | { kind: 'model'; file: string; reason: string }
  | { kind: 'budget'; budget: 'disk' | 'memory'; neededBytes: number; permanent: boolean; message: string }
  | { kind: 'internal'; message: string };

/** The budgets the loading threads reserve from (shared counters, see budget.ts). */
export interface LoadBudgets {
  disk: { buffer: SharedArrayBuffer; limitBytes: number };
  memory: { buffer: SharedArrayBuffer; limitBytes: number };
}

export interface LoadReply {
  id: number;
  /** The artifact could not be unpacked (no 'unpacked' event came): the folder is gone. */
  unpacked?: { failure: LoadFailure };
  /** After an 'unpacked' event: every file is written, or why not (the folder is then gone). */
  written?: true | { failure: LoadFailure };
  /** The compiled model, or why it could not be loaded: for a folder, and when the 'unpacked' event did not carry it. */
  loaded?: LoadResult;
}

/**
 * Artifact unpacking and model compiling off the main thread (see load.worker.ts): the cache's ModelLoader. The
 * compiled model comes back as shared arrays, so the main thread only wraps it (no parsing, no copy).
 * Each load gets an idle thread (one is started when none is idle, up to `size`), so a model that takes long to
 * compile does not hold up the others. A load that is cancelled (load limit, shutdown) stops its thread at once,
 * whatever it was doing: a compile cannot be interrupted otherwise.
 */
export class LoadingPool implements ModelLoader {
  readonly pool: WorkerPool<LoadRequest, LoadReply>;

  private readonly budgets: { disk: SharedBudget; memory: SharedBudget } | undefined;

  /** @param budgets the shared disk and memory budgets; without, the threads reserve nothing */
  constructor(size: number, script: URL = workerScript('load'), budgets?: { disk: SharedBudget; memory: SharedBudget }) {
    this.budgets = budgets;
    const data: LoadBudgets | undefined = budgets && {
      disk: { buffer: budgets.disk.buffer, limitBytes: budgets.disk.limitBytes },
      memory: { buffer: budgets.memory.buffer, limitBytes: budgets.memory.limitBytes },
    };
    this.pool = new WorkerPool(Math.min(size, MAX_THREADS), script, 'loading', data ? { budgets: data } : undefined, (index) => {
      budgets?.disk.releaseThread(index);
      budgets?.memory.releaseThread(index);
    });
  }

  /**
   * Resolves once the artifact is unpacked, with its model as soon as it is compiled: the model files may still be
   * being written (`written`).
   * @param onStart called when the thread has made `dir` and starts unpacking into it
   */
  async unpackAndLoad(tarball: string, dir: string, limits: ExtractLimits, signal?: AbortSignal, onStart?: () => void): Promise<UnpackedModel> {
    let handOver!: (event: Extract<LoadEvent, { event: 'unpacked' }>) => void;
    const handedOver = new Promise<Extract<LoadEvent, { event: 'unpacked' }>>((resolve) => (handOver = resolve));
    const { reply, slot } = this.run(
      (id) => ({ type: 'unpack-and-load', id, tarball, dir, limits }),
      signal,
      dir,
      (event) => (event.event === 'started' ? onStart?.() : handOver(event)),
    );
    const first = await Promise.race([reply, handedOver]);
    if (!('event' in first)) throw errorOf(first.unpacked?.failure ?? { kind: 'internal', message: 'the loading thread replied out of turn' });
    const { unpacked, loaded } = first;
    // The folder's disk reservation is the cache's from now on (the thread may go; the folder stays).
    this.budgets?.disk.takeFromThread(slot, unpacked.diskBytes);
    const rest = reply.then((r) => {
      if (r.written !== true) throw errorOf(r.written?.failure ?? r.unpacked?.failure ?? { kind: 'internal', message: 'no reply on the written files' });
      return r;
    });
    const model = loaded ? modelOf(loaded) : rest.then((r) => modelOf(r.loaded!));
    const written = rest.then(() => undefined);
    // The cache awaits both after its disk bookkeeping.
    model.catch(() => {});
    written.catch(() => {});
    return { files: unpacked.files, bytes: unpacked.bytes, diskBytes: unpacked.diskBytes, unpackMs: unpacked.ms, model, written };
  }

  async loadDir(dir: string, signal?: AbortSignal): Promise<LoadedModel> {
    return modelOf((await this.run((id) => ({ type: 'load', id, dir }), signal).reply).loaded!);
  }

  /** Starts two threads now, so that neither the first cold model nor one loading beside it waits for a thread. */
  warm(): void {
    this.pool.warm(2);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /**
   * Sends a request to a thread: its reply, and the thread's slot in the budgets. When `signal` aborts before the
   * reply, the thread is stopped where it stands and `dir` (the folder an unpacking writes) removed.
   */
  private run(
    make: (id: number) => LoadRequest,
    signal?: AbortSignal,
    dir?: string,
    onEvent?: (event: LoadEvent) => void,
  ): { reply: Promise<LoadReply>; slot: number } {
    if (this.pool.closed) return { reply: Promise.reject(new Error('the endpoint is shutting down')), slot: -1 };
    const thread = this.pool.pick();
    const slot = this.pool.indexOf(thread);
    const { id, reply } = thread.request(make);
    if (onEvent) thread.events.set(id, onEvent as (message: { id: number; event: string }) => void);
    if (!signal) return { reply, slot };
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new ArtifactError('loading was cancelled'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const settled = Promise.race([reply, aborted]).catch(async (err) => {
      if (!signal.aborted) throw err;
      reply.catch(() => {});
      // Stopped where it stands; then nothing of it is left on disk.
      await this.pool.kill(thread);
      if (dir) await fsp.rm(dir, { recursive: true, force: true });
      throw new ArtifactError('loading was cancelled');
    });
    void settled.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    return { reply: settled, slot };
  }
}

function modelOf(loaded: NonNullable<LoadReply['loaded']>): Promise<LoadedModel> {
  if ('failure' in loaded) return Promise.reject(errorOf(loaded.failure));
  return Promise.resolve(instantiateModel(loaded.compiled));
}

/** The error a thread described, as the class the cache and the server tell apart. */
function errorOf(failure: LoadFailure): Error {
  switch (failure.kind) {
    case 'artifact':
      return new ArtifactError(failure.message);
    case 'model':
      return new ModelLoadError(failure.file, failure.reason);
    case 'budget':
      return new BudgetExceeded(failure.budget, failure.neededBytes, failure.permanent, failure.message);
    case 'internal':
      return new Error(failure.message);
  }
}
