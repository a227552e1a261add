import fsp from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Store } from '../store/index.js';
import type { LoadedModel } from './runtimes/types.js';
import { BudgetExceeded, SharedBudget } from './budget.js';
import { ArtifactError, DEFAULT_MAX_ENTRIES, type ExtractLimits } from './extract.js';
import { makeDirs } from '../util/make-dirs.js';

/**
 * The model cache of one local MME instance, with SageMaker's two tiers:
 * - disk: artifacts downloaded from the prefix and extracted, kept until the disk budget needs room
 *   (least recently used first);
 * - memory: models loaded by the runtime, kept until the memory budget (sum of footprintBytes) needs room
 *   (least recently used first). An unloaded model stays on disk and reloads without a download.
 * Concurrent requests for one cold model share one load. A model deleted from the prefix keeps serving while loaded.
 */

export type MetricSink = (metric: 'ModelDownloadingTime' | 'ModelLoadingTime' | 'ModelUnloadingTime', microseconds: number) => void;

/** The target model is not under the prefix (SageMaker answers ValidationError). */
export class ModelAbsentError extends Error {
  constructor(modelName: string, prefix: string) {
    super(`Failed to download model data (prefix: ${prefix}, key: ${modelName}). Please ensure that there is an object located at the URL.`);
    this.name = 'ModelAbsentError';
  }
}

/** The artifact could not be unpacked or loaded, or does not fit; `status` is what the container would answer. */
export class ModelLoadFailure extends Error {
  constructor(
    readonly status: 500 | 503 | 507,
    message: string,
  ) {
    super(message);
    this.name = 'ModelLoadFailure';
  }
}

/** The store could not be read (network, permissions): not the model's fault. */
export class StoreFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFailure';
  }
}

export interface CachedModel {
  readonly name: string;
  model: LoadedModel | undefined;
  /** Extracted artifact folder, while the model is on disk. */
  dir: string | undefined;
  /** Set while the folder's files are still being written (after the model's first answer); never rejects. */
  writing: Promise<void> | undefined;
  diskBytes: number;
  footprint: number;
  loading: Promise<CachedModel> | undefined;
  /** LRU order: larger is more recent. */
  useSeq: number;
  lastUsedAt: number;
  loadedAt: number;
  hits: number;
  downloadMs: number;
  loadMs: number;
}

export type CacheEvent =
  | { type: 'loaded'; name: string; footprint: number; diskBytes: number; downloadMs?: number; loadMs: number }
  | { type: 'unloaded'; name: string; reason: 'memory' | 'disk' | 'request' | 'container' }
  | { type: 'deleted'; name: string; diskBytes: number }
  | { type: 'failed'; name: string; message: string }
  | { type: 'unwritten'; name: string; message: string };

/** What {@link ModelLoader.unpackAndLoad} reports once an artifact is unpacked. */
export interface UnpackedModel {
  files: number;
  bytes: number;
  /** What the folder takes on disk (blocks and entries), reserved in the disk budget; the cache's from now on. */
  diskBytes: number;
  /** Time spent unpacking, for ModelDownloadingTime (the rest of the call is loading). */
  unpackMs: number;
  /** The model, or why it could not be loaded (ModelLoadError); the unpacked folder stays either way. */
  model: Promise<LoadedModel>;
  /**
   * When the folder's files are still being written: settles once they are (rejects when they could not be, and the
   * folder is then gone). The model need not wait for it.
   */
  written?: Promise<void>;
}

/** Unpacks and loads models: the cold path, which the endpoint runs on loading threads (LoadingPool). */
export interface ModelLoader {
  /**
   * Unpacks an artifact (downloaded, or a folder prefix's own file: only read) into `dir` (which must not exist yet)
   * and loads its model from the unpacked bytes. Rejects when it could not be unpacked (ArtifactError for a bad
   * artifact, or when `signal` aborts); `dir` is then gone.
   */
  unpackAndLoad(tarball: string, dir: string, limits: ExtractLimits, signal: AbortSignal): Promise<UnpackedModel>;
  /** Loads the model of an unpacked folder (one that was unloaded from memory and kept on disk). */
  loadDir(dir: string, signal?: AbortSignal): Promise<LoadedModel>;
}

export interface ModelCacheOptions {
  store: Store;
  cacheDir: string;
  memoryBudget: number;
  diskBudget: number;
  loader: ModelLoader;
  record?: MetricSink;
  /** Called when a model leaves memory, so that other holders of it (scoring threads) can let it go. */
  onUnload?(model: LoadedModel): void;
  onEvent?(event: CacheEvent): void;
  maxEntries?: number;
  /** A load (download, extract, load) that takes longer fails; SageMaker gives up after 360 s. */
  loadTimeoutMs?: number;
  /**
   * The disk budget as a counter shared with the loading threads (see budget.ts); made from diskBudget when absent.
   * Downloads and extracted folders (blocks and entries) are reserved on it before they are written.
   */
  diskShared?: SharedBudget;
}

export interface ModelInfo {
  modelName: string;
  modelUrl: string;
  state: 'loaded' | 'loading' | 'on-disk';
  memoryBytes: number;
  diskBytes: number;
  /** The model answers while its files are still being written to the disk cache (the moments after a cold load). */
  writingToDisk: boolean;
  loadedAt: string | null;
  lastUsedAt: string | null;
  downloadMs: number | null;
  loadMs: number | null;
  hits: number;
}

export interface CacheStats {
  loadedModels: number;
  memoryBytes: number;
  memoryBudget: number;
  diskBytes: number;
  diskBudget: number;
}

const micros = (ms: number) => Math.round(ms * 1000);
const DEFAULT_LOAD_TIMEOUT_MS = 360_000;

export class ModelCache {
  readonly memoryBudget: number;
  readonly diskBudget: number;
  private readonly entries = new Map<string, CachedModel>();
  private readonly modelsDir: string;
  private readonly downloadsDir: string;
  private readonly abort = new AbortController();
  private seq = 0;
  private dirSeq = 0;
  private memoryUsed = 0;
  private diskUsed = 0;
  private loadedCount = 0;
  private readonly disk: SharedBudget;

  constructor(private readonly options: ModelCacheOptions) {
    this.memoryBudget = options.memoryBudget;
    this.diskBudget = options.diskBudget;
    this.disk = options.diskShared ?? new SharedBudget('disk', options.diskBudget);

    this.modelsDir = path.join(options.cacheDir, 'models');
    this.downloadsDir = path.join(options.cacheDir, 'downloads');
  }

  /** Empties the cache folders: a restarted instance starts cold, as on SageMaker. */
  async init(): Promise<void> {
    await Promise.all([this.modelsDir, this.downloadsDir].map((d) => fsp.rm(d, { recursive: true, force: true })));
    for (const d of [this.modelsDir, this.downloadsDir]) makeDirs(d);
  }

  /** The warm path: the loaded model, marked as just used, or undefined. No promise, no allocation. */
  hit(name: string): CachedModel | undefined {
    const e = this.entries.get(name);
    if (e === undefined || e.model === undefined) return undefined;
    e.useSeq = ++this.seq;
    e.lastUsedAt = Date.now();
    e.hits++;
    return e;
  }

  /** True when the model is in memory (no side effects). */
  isLoaded(name: string): boolean {
    return this.entries.get(name)?.model !== undefined;
  }

  /** Loads the model (from disk, else from the prefix), sharing the work with every concurrent caller. */
  load(name: string): Promise<CachedModel> {
    let e = this.entries.get(name);
    if (e?.model) return Promise.resolve(e);
    if (e?.loading) return e.loading;
    if (!e) {
      e = {
        name,
        model: undefined,
        dir: undefined,
        writing: undefined,
        diskBytes: 0,
        footprint: 0,
        loading: undefined,
        useSeq: 0,
        lastUsedAt: 0,
        loadedAt: 0,
        hits: 0,
        downloadMs: 0,
        loadMs: 0,
      };
      this.entries.set(name, e);
    }
    const entry = e;
    entry.loading = this.bringIn(entry).finally(() => (entry.loading = undefined));
    return entry.loading;
  }

  /** Unloads a model from memory (it stays on disk). False when it was not loaded. */
  unload(name: string): boolean {
    const e = this.entries.get(name);
    if (!e?.model) return false;
    this.unloadEntry(e, 'request');
    return true;
  }

  /**
   * For a serving container (src/local/container/): unloads the least recently used model other than `except`
   * (memory pressure the container reported); false when there is none.
   */
  evictLeastRecent(except?: string): boolean {
    const victim = this.leastRecent((c) => c.model !== undefined && c.name !== except);
    if (!victim) return false;
    this.unloadEntry(victim, 'memory');
    return true;
  }

  /** For a serving container that died: every model it held is out of memory (they stay on disk). */
  dropAllLoaded(): void {
    for (const e of this.entries.values()) if (e.model) this.unloadEntry(e, 'container');
  }

  list(): ModelInfo[] {
    const iso = (t: number) => (t ? new Date(t).toISOString() : null);
    return [...this.entries.values()]
      .filter((e) => e.model || e.dir || e.loading)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((e) => ({
        modelName: e.name,
        modelUrl: this.options.store.url + e.name,
        state: e.model ? 'loaded' : e.loading ? 'loading' : 'on-disk',
        memoryBytes: e.model ? e.footprint : 0,
        diskBytes: e.dir ? e.diskBytes : 0,
        writingToDisk: e.writing !== undefined,
        loadedAt: e.model ? iso(e.loadedAt) : null,
        lastUsedAt: iso(e.lastUsedAt),
        downloadMs: e.model ? round3(e.downloadMs) : null,
        loadMs: e.model ? round3(e.loadMs) : null,
        hits: e.hits,
      }));
  }

  stats(): CacheStats {
    return {
      loadedModels: this.loadedCount,
      memoryBytes: this.memoryUsed,
      memoryBudget: this.memoryBudget,
      diskBytes: this.diskUsed,
      diskBudget: this.diskBudget,
    };
  }

  /** Cancels downloads and waits for loads in progress to settle. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.entries.values()].map((e) => e.loading));
  }

  private async bringIn(e: CachedModel): Promise<CachedModel> {
    const limitMs = this.options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(limitMs);
    const signal = AbortSignal.any([this.abort.signal, deadline]);
    const late = () =>
      this.abort.signal.aborted
        ? new ModelLoadFailure(503, `The endpoint is shutting down; model ${e.name} was not loaded.`)
        : new ModelLoadFailure(500, `Model ${e.name} did not finish loading within ${limitMs < 1000 ? `${limitMs} ms` : `${Math.round(limitMs / 1000)} s`}.`);
    try {
      let downloadMs: number | undefined;
      let loading: Promise<LoadedModel>;
      let started: number;
      // Unloaded before its files were all written: read once they are (or fetched again if they could not be).
      if (e.writing) await e.writing;
      if (!e.dir) {
        try {
          ({ ms: downloadMs, model: loading, loadStarted: started } = await this.fetch(e, signal));
        } catch (err) {
          if (signal.aborted) throw late();
          throw err instanceof BudgetExceeded ? this.overBudget(e, err) : err;
        }
      } else {
        started = performance.now();
        const dir = e.dir;
        loading = this.withRoom(e, () => this.options.loader.loadDir(dir, signal));
      }
      let model: LoadedModel;
      try {
        model = await loading;
        if (signal.aborted) throw late();
      } catch (caught) {
        let err = caught;
        if (signal.aborted && !(err instanceof ModelLoadFailure)) err = late();
        if (err instanceof BudgetExceeded) err = this.overBudget(e, err);
        if (err instanceof ModelLoadFailure) {
          await this.deleteFromDisk(e);
          throw err;
        }
        // A broken model leaves nothing behind: the next request retries from the prefix (a fixed upload is seen).
        await this.deleteFromDisk(e);
        throw new ModelLoadFailure(500, `Failed to load model ${e.name}: ${(err as Error).message}`);
      }
      const loadMs = performance.now() - started;
      this.options.record?.('ModelLoadingTime', micros(loadMs));
      const footprint = model.footprintBytes;
      if (footprint > this.memoryBudget) {
        await this.deleteFromDisk(e);
        throw new ModelLoadFailure(507, `Model ${e.name} needs ${footprint} bytes of memory; the memory budget is ${this.memoryBudget} bytes.`);
      }
      this.makeRoomInMemory(footprint, e);
      e.model = model;
      e.footprint = footprint;
      e.loadedAt = Date.now();
      e.useSeq = ++this.seq;
      e.loadMs = loadMs;
      e.downloadMs = downloadMs ?? 0;
      this.memoryUsed += footprint;
      this.loadedCount++;
      this.options.onEvent?.({ type: 'loaded', name: e.name, footprint, diskBytes: e.diskBytes, downloadMs, loadMs });
      return e;
    } catch (err) {
      if (!e.model && !e.dir && this.entries.get(e.name) === e) this.entries.delete(e.name);
      this.options.onEvent?.({ type: 'failed', name: e.name, message: (err as Error).message });
      throw err;
    }
  }

  /**
   * Download, then unpack and load on a loading thread. ModelDownloadingTime covers the download and the unpacking
   * (a legacy binary model is compiled meanwhile); what is left once every byte is in (compiling other formats,
   * handing the model over) is loading: `loadStarted` is when it began.
   */
  private async fetch(e: CachedModel, signal: AbortSignal): Promise<{ ms: number; model: Promise<LoadedModel>; loadStarted: number }> {
    const { store } = this.options;
    const key = `${String(++this.dirSeq).padStart(6, '0')}-${e.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80)}`;
    // A local folder's artifact is unpacked where it lies: no copy, so no download to reserve disk for or delete.
    const inPlace = store.localFile?.(e.name);
    const tarball = inPlace ?? path.join(this.downloadsDir, `${key}.tar.gz`);
    const dir = path.join(this.modelsDir, key);
    const started = performance.now();
    let tarballBytes = 0;
    if (inPlace === undefined) tarballBytes = await this.download(e, tarball, signal);
    else if (!(await isFile(inPlace))) throw new ModelAbsentError(e.name, store.url);
    const downloaded = performance.now();
    let unpacked: UnpackedModel;
    try {
      unpacked = await this.withRoom(e, () =>
        this.options.loader.unpackAndLoad(tarball, dir, { maxBytes: this.diskBudget, maxEntries: this.options.maxEntries ?? DEFAULT_MAX_ENTRIES }, signal),
      );
      e.dir = dir;
      e.diskBytes = unpacked.diskBytes;
      this.diskUsed += unpacked.diskBytes;
      if (unpacked.written) this.writeBehind(e, unpacked.written);
    } catch (err) {
      // Normally already gone; not if the loading thread itself failed.
      await fsp.rm(dir, { recursive: true, force: true });
      if (signal.aborted) throw err;
      if (err instanceof ArtifactError) throw new ModelLoadFailure(500, `Failed to extract model ${e.name}: ${err.message}`);
      if (err instanceof BudgetExceeded) throw this.overBudget(e, err);
      throw err;
    } finally {
      if (inPlace === undefined) {
        await fsp.rm(tarball, { force: true });
        this.disk.release(tarballBytes);
      }
    }
    const ms = downloaded - started + unpacked.unpackMs;
    this.options.record?.('ModelDownloadingTime', micros(ms));
    return { ms, model: unpacked.model, loadStarted: downloaded + unpacked.unpackMs };
  }

  /** Downloads an artifact to `tarball`, reserved on the disk budget before a byte is written: the bytes reserved. */
  private async download(e: CachedModel, tarball: string, signal: AbortSignal): Promise<number> {
    const { store } = this.options;
    let tarballBytes = 0;
    try {
      const head = await store.head(e.name).catch((err) => {
        throw new StoreFailure(`Could not read ${e.name} from ${store.url}: ${(err as Error).message}`);
      });
      if (head === undefined) throw new ModelAbsentError(e.name, store.url);
      tarballBytes = await this.reserveDisk(e, head.size, `the download of ${e.name}`);
      try {
        await store.download(e.name, tarball, signal);
      } catch (err) {
        await fsp.rm(tarball, { force: true });
        const found = await store.head(e.name).catch(() => null);
        if (found === undefined) throw new ModelAbsentError(e.name, store.url);
        if (signal.aborted) throw err;
        throw new StoreFailure(`Could not download ${e.name} from ${store.url}: ${(err as Error).message}`);
      }
      // The object may have changed since: what is on disk counts (blocks).
      const onDisk = (await fsp.stat(tarball)).blocks * 512;
      if (onDisk > tarballBytes) tarballBytes += await this.reserveDisk(e, onDisk - tarballBytes, `the download of ${e.name}`);
    } catch (err) {
      this.disk.release(tarballBytes);
      await fsp.rm(tarball, { force: true });
      throw err;
    }
    return tarballBytes;
  }

  /** Reserves disk for `e`, deleting least recently used models from disk while that makes room; 507 if it cannot. */
  private async reserveDisk(e: CachedModel, bytes: number, what: string): Promise<number> {
    for (;;) {
      const got = this.disk.tryReserve(bytes);
      if (got >= 0) return got;
      if (!(await this.makeRoom('disk', bytes, e))) return this.disk.reserve(bytes, what); // throws BudgetExceeded
    }
  }

  /**
   * Runs a step on a loading thread; when it stops for want of budget (and more could be made by unloading or
   * deleting least recently used models), makes that room and runs it again, a few times at most.
   */
  private async withRoom<T>(e: CachedModel, step: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (!(err instanceof BudgetExceeded) || err.permanent || attempt >= 2 || !(await this.makeRoom(err.budget, err.neededBytes, e))) throw err;
      }
    }
  }

  /**
   * Deletes least recently used models from disk until `bytes` are free; false if none could go. The memory held by
   * loads under way is not made room for (loaded models do not count in it): such a load fails, to be retried. But a
   * load that has answered gives its model files' memory back once they are written, in moments: that is waited for.
   */
  private async makeRoom(budget: 'disk' | 'memory', bytes: number, keep: CachedModel): Promise<boolean> {
    let freed = false;
    if (budget === 'memory') {
      const writing = [...this.entries.values()].filter((c) => c !== keep && c.writing).map((c) => c.writing);
      if (writing.length === 0) return false;
      await Promise.race(writing);
      return true;
    }
    while (this.disk.freeBytes() < bytes) {
      const victim =
        this.leastRecent((c) => c.dir !== undefined && !c.model && !c.loading && c !== keep) ??
        this.leastRecent((c) => c.dir !== undefined && c.model !== undefined && !c.loading && c !== keep);
      if (!victim) break;
      await this.deleteFromDisk(victim);
      freed = true;
    }
    return freed;
  }

  /** A budget that could not be met: 507, as SageMaker answers when a model does not fit the instance. */
  private overBudget(e: CachedModel, err: BudgetExceeded): ModelLoadFailure {
    return new ModelLoadFailure(507, `Model ${e.name} does not fit: ${err.message}.`);
  }

  private makeRoomInMemory(need: number, keep: CachedModel): void {
    while (this.memoryUsed + need > this.memoryBudget) {
      const victim = this.leastRecent((c) => c.model !== undefined && c !== keep);
      if (!victim) return;
      this.unloadEntry(victim, 'memory');
    }
  }

  private leastRecent(match: (c: CachedModel) => boolean): CachedModel | undefined {
    let best: CachedModel | undefined;
    for (const c of this.entries.values()) if (match(c) && (!best || c.useSeq < best.useSeq)) best = c;
    return best;
  }

  private unloadEntry(e: CachedModel, reason: 'memory' | 'disk' | 'request' | 'container'): void {
    const started = performance.now();
    const model = e.model;
    e.model = undefined;
    this.memoryUsed -= e.footprint;
    this.loadedCount--;
    e.footprint = 0;
    const disposing = model?.dispose?.();
    if (model) this.options.onUnload?.(model);
    const recordUnload = () => this.options.record?.('ModelUnloadingTime', micros(performance.now() - started));
    // A model in a serving container is unloaded by a call (DELETE /models/{name}): its time is that call's.
    if (disposing instanceof Promise) void disposing.then(recordUnload, recordUnload);
    else recordUnload();
    this.options.onEvent?.({ type: 'unloaded', name: e.name, reason });
  }

  /**
   * A model's files written after its first answer: until they are, a reload from the folder and its deletion wait.
   * When they cannot be written (the disk is full), the folder goes and the model stays in memory.
   */
  private writeBehind(e: CachedModel, written: Promise<void>): void {
    e.writing = written.then(
      () => {
        e.writing = undefined;
      },
      async (err) => {
        e.writing = undefined;
        if (!e.dir) return;
        // Stopped by a shutdown, which empties the cache anyway: nothing to say.
        if (!this.abort.signal.aborted) this.options.onEvent?.({ type: 'unwritten', name: e.name, message: (err as Error).message });
        await this.removeFolder(e);
      },
    );
  }

  private async deleteFromDisk(e: CachedModel): Promise<void> {
    if (e.model) this.unloadEntry(e, 'disk');
    await this.removeFolder(e);
  }

  private async removeFolder(e: CachedModel): Promise<void> {
    const dir = e.dir;
    if (!dir) return;
    e.dir = undefined;
    this.diskUsed -= e.diskBytes;
    this.disk.release(e.diskBytes);
    const bytes = e.diskBytes;
    e.diskBytes = 0;
    if (!e.model && !e.loading && this.entries.get(e.name) === e) this.entries.delete(e.name);
    // A folder still being written is removed once its loading thread is done with it.
    await e.writing;
    await fsp.rm(dir, { recursive: true, force: true });
    this.options.onEvent?.({ type: 'deleted', name: e.name, diskBytes: bytes });
  }
}

function isFile(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    (st) => st.isFile(),
    () => false,
  );
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
