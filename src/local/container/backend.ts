import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SharedBudget } from '../budget.js';
import type { ModelLoader, UnpackedModel } from '../cache.js';
import { extractArtifact, type ExtractLimits } from '../extract.js';
import { ModelAnswerError, ModelLoadError, ModelUnavailableError, type LoadedModel, type ModelAnswer, type ModelDescription } from '../runtimes/types.js';
import { answerMessage, ContainerUnreachable, type ContainerClient } from './client.js';
import type { ContainerProcess } from './process.js';

/**
 * The local endpoint's models served by a container speaking the multi-model contract: the cache downloads and
 * extracts as for the built-in runtime (its disk tier and budgets apply), then this loader does SageMaker's part
 * against the container: LOAD (507 → unload the least recently used model and retry; 409 → already loaded),
 * INVOKE, and UNLOAD when the cache lets a model go.
 *
 * Memory: when mme local started the container (`process`), a model's footprint is the growth of the container's
 * process tree resident memory over its LOAD, and before each LOAD the least recently used models are unloaded until
 * the tree (as measured, leaks included) is within the budget: the tree never exceeds it by more than the model
 * being loaded. A container reached by URL is not measured (footprint 0): its 507 answers drive the unloading.
 */

export interface ContainerBackendOptions {
  client: ContainerClient;
  /** Set when mme local started the container: restarts, /proc memory. */
  process?: ContainerProcess;
  /** The cache's models folder here, and as the container sees it (the url of a LOAD). */
  modelDir: string;
  containerModelDir: string;
  memoryBudget: number;
  /** An INVOKE not answered within this fails as SageMaker's does: ModelError with original status 0. */
  invokeLimitMs: number;
  /** The shared disk budget: each extracted entry is reserved before it is written (kept by the folder). */
  disk?: SharedBudget;
  /** Unloads the cache's least recently used model; false when none is loaded. */
  evictLeastRecent(): boolean;
  log(message: string): void;
}

/** The container's memory is full and nothing is left to unload. */
const MAX_LOAD_ATTEMPTS = 64;

export class ContainerBackend implements ModelLoader {
  /** Unloads in flight (DELETE calls), awaited before measuring memory. */
  private readonly unloading = new Set<Promise<unknown>>();
  /** Loads go one at a time: each one's memory growth is its own. */
  private loadQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ContainerBackendOptions) {}

  async unpackAndLoad(tarball: string, dir: string, limits: ExtractLimits, signal: AbortSignal): Promise<UnpackedModel> {
    const started = performance.now();
    const extracted = await extractArtifact(tarball, dir, limits, signal, { disk: this.options.disk });
    const unpackMs = performance.now() - started;
    const model = this.loadDir(dir);
    model.catch(() => {}); // the cache awaits it after its disk bookkeeping
    return { files: extracted.files, bytes: extracted.bytes, diskBytes: extracted.diskBytes, unpackMs, model };
  }

  loadDir(dir: string): Promise<LoadedModel> {
    const run = this.loadQueue.then(() => this.load(dir));
    this.loadQueue = run.catch(() => {});
    return run;
  }

  private async load(dir: string): Promise<LoadedModel> {
    const { client, process: proc } = this.options;
    const name = path.basename(dir);
    const url = path.posix.join(this.options.containerModelDir.split(path.sep).join('/'), name);
    await proc?.ready;
    const generation = proc?.generation ?? 0;
    await this.makeRoom();
    const before = await this.measure();
    for (let attempt = 1; ; attempt++) {
      let answer;
      try {
        answer = await client.load(name, url);
      } catch (err) {
        if (err instanceof ContainerUnreachable) throw new ModelLoadError(name, `the container did not answer the LOAD call: ${err.message}`);
        throw err;
      }
      if (answer.status === 200 || answer.status === 201 || answer.status === 409) break;
      if (answer.status === 507 && attempt < MAX_LOAD_ATTEMPTS && this.options.evictLeastRecent()) {
        this.options.log(`the container answered 507 (out of memory) to LOAD ${name}: unloaded the least recently used model, retrying`);
        await this.settleUnloads();
        continue;
      }
      if (answer.status === 507)
        throw new ModelLoadError(name, `the container has no memory for it (507) and no other model is loaded: ${answerMessage(answer)}`);
      throw new ModelLoadError(name, `the container answered ${answer.status} to LOAD: ${answerMessage(answer)}`);
    }
    const after = await this.measure();
    const footprint = before !== undefined && after !== undefined ? Math.max(1, after - before) : 0;
    return new ContainerModel(name, url, footprint, generation, this);
  }

  /** Before a LOAD: unload least recently used models while the measured tree is over the budget. */
  private async makeRoom(): Promise<void> {
    for (;;) {
      const rss = await this.measure();
      if (rss === undefined || rss <= this.options.memoryBudget) return;
      if (!this.options.evictLeastRecent()) return;
      this.options.log(`the container uses ${rss} bytes, over the ${this.options.memoryBudget}-byte budget: unloaded the least recently used model`);
    }
  }

  private async measure(): Promise<number | undefined> {
    await this.settleUnloads();
    return this.options.process?.treeRss();
  }

  private async settleUnloads(): Promise<void> {
    while (this.unloading.size) await Promise.allSettled([...this.unloading]);
  }

  /** UNLOAD, tracked so that memory is measured after it. A model of a container that has since restarted is gone already. */
  unload(model: ContainerModel): Promise<void> {
    if (this.options.process && this.options.process.generation !== model.generation) return Promise.resolve();
    const call = this.options.client.unload(model.name).then(
      (answer) => {
        if (answer.status !== 200 && answer.status !== 404)
          this.options.log(`the container answered ${answer.status} to UNLOAD ${model.name}: ${answerMessage(answer)}`);
      },
      (err: Error) => this.options.log(`UNLOAD ${model.name} failed: ${err.message}`),
    );
    this.unloading.add(call);
    void call.finally(() => this.unloading.delete(call));
    return call;
  }

  async invoke(
    model: ContainerModel,
    body: Uint8Array,
    contentType: string | undefined,
    accept: string | undefined,
    customAttributes: string | undefined,
  ): Promise<ModelAnswer> {
    const proc = this.options.process;
    if (proc && proc.generation !== model.generation)
      throw new ModelUnavailableError(`The model's container restarted; model ${model.name} is being reloaded. Retry the request.`);
    let answer;
    try {
      answer = await this.options.client.invoke(model.name, body, contentType, accept, customAttributes, this.options.invokeLimitMs);
    } catch (err) {
      if (err instanceof ContainerUnreachable && err.code === 'ETIMEDOUT')
        throw new ModelAnswerError(
          0,
          `Your invocation timed out while waiting for a response from container primary (no answer within ${this.options.invokeLimitMs / 1000} s). Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.`,
        );
      if (err instanceof ContainerUnreachable) throw new ModelUnavailableError(`The model's container is unavailable (${err.message}). Retry the request.`);
      throw err;
    }
    if (answer.status >= 200 && answer.status < 300) {
      const attrs = answer.headers['x-amzn-sagemaker-custom-attributes'];
      return {
        body: answer.body,
        contentType: (answer.headers['content-type'] as string | undefined) ?? accept ?? 'application/octet-stream',
        customAttributes: typeof attrs === 'string' ? attrs : undefined,
      };
    }
    // As SageMaker: the container's status and its body, as is.
    throw new ModelAnswerError(answer.status, answer.body.toString('utf8'));
  }
}

/** A model loaded into the container. */
export class ContainerModel implements LoadedModel {
  constructor(
    readonly name: string,
    readonly url: string,
    readonly footprintBytes: number,
    readonly generation: number,
    private readonly backend: ContainerBackend,
  ) {}

  invoke(body: Uint8Array, contentType: string | undefined, accept: string | undefined, customAttributes?: string): Promise<ModelAnswer> {
    return this.backend.invoke(this, body, contentType, accept, customAttributes);
  }

  dispose(): Promise<void> {
    return this.backend.unload(this);
  }

  describe(): ModelDescription {
    return { runtime: 'container', format: 'container', features: 0, classes: 0, outputsPerRow: 0, footprintBytes: this.footprintBytes, files: [this.url] };
  }
}
