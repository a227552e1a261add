/**
 * The contract between the local endpoint's model cache and a model runtime.
 *
 * Lifecycle of a model, for every runtime: load (an extracted artifact folder → a {@link LoadedModel}; the registry in
 * ../runtime.ts picks the runtime from the artifact's files, and src/local/container/ loads into a serving container
 * instead), invoke (one request; synchronous for the built-in runtime so the warm path allocates no promise, a promise
 * for a runtime in another process), footprint ({@link LoadedModel.footprintBytes}, the LRU budget unit) and unload
 * ({@link LoadedModel.dispose}, when the cache lets the model go).
 *
 * A runtime turns an extracted artifact folder into a {@link LoadedModel}, either in one step ({@link Runtime.loadDir})
 * or in two that may run on different threads: {@link Runtime.compile} (the model files' bytes → a
 * {@link CompiledArtifact}, plain data whose arrays can live in SharedArrayBuffers) on a loading thread, then
 * {@link Runtime.instantiate} (no copy, no parsing) wherever the model is used. The cache keeps loaded models in an LRU
 * whose budget is counted in {@link LoadedModel.footprintBytes}; the HTTP server calls {@link LoadedModel.invoke} with
 * the raw request and maps the two error classes below to HTTP answers:
 *
 * - {@link ModelRequestError}: the request is at fault; `status` is the HTTP status to return
 *   (204 empty body, 400 bad input, 415 unsupported Content-Type or Accept).
 * - {@link ModelLoadError}: a model file could not be loaded; `file` and `reason` say which and why.
 *
 * Anything else thrown by a runtime is a bug in the runtime (HTTP 500).
 */

/** What `mme predict --json` and the local endpoint's model listing show about a loaded model. */
export interface ModelDescription {
  /** Runtime that loaded the model, e.g. "xgboost". */
  runtime: string;
  /** File format of the model file(s), e.g. "json", "ubj", "binary"; "mixed" when the files differ. */
  format: string;
  booster?: string;
  objective?: string;
  /** Number of trees over all files (0 for linear models). */
  trees?: number;
  /** Number of input features a request row must have. */
  features: number;
  /** Number of classes for multi-class models, else 0 (xgboost's num_class). */
  classes: number;
  /** Number of values returned per request row (1, or the class count for probability vectors). */
  outputsPerRow: number;
  /** Bytes held in memory by the loaded model (the LRU budget unit). */
  footprintBytes: number;
  /** Model files that were loaded, relative to the artifact folder; several files are averaged (k-fold). */
  files: string[];
}

/** A model held in memory, ready to answer InvokeEndpoint requests. */
export interface LoadedModel {
  /** Memory the model holds, for the LRU budget. */
  readonly footprintBytes: number;
  /** Format, booster, objective, trees, features, classes, footprint, files. */
  describe(): ModelDescription;
  /**
   * Score one request exactly as the SageMaker serving container would.
   * @param body raw request payload
   * @param contentType request Content-Type header (missing = text/csv)
   * @param accept request Accept header (the endpoint has already replaced a missing or `*\/*` one by its default)
   * @param customAttributes X-Amzn-SageMaker-Custom-Attributes of the request, for runtimes that pass them on
   * @throws ModelRequestError for anything wrong with the request (or rejects with it)
   */
  invoke(body: Uint8Array, contentType: string | undefined, accept: string | undefined, customAttributes?: string): ModelAnswer | Promise<ModelAnswer>;
  /** Unload: called once when the cache lets the model go (the built-in runtime has nothing to do). */
  dispose?(): void | Promise<void>;
  /** The model as data another thread can instantiate: its arrays are not copied when it was compiled `shared`. */
  readonly compiled?: CompiledArtifact;
}

/** A model held in this process by a built-in runtime: it answers at once (what scoring threads run). */
export interface InProcessModel extends LoadedModel {
  invoke(body: Uint8Array, contentType: string | undefined, accept: string | undefined, customAttributes?: string): ModelAnswer;
}

/** What a model answers to one request. */
export interface ModelAnswer {
  body: Uint8Array;
  contentType: string;
  /** Custom attributes the model sets on its answer (SageMaker never echoes the request's). */
  customAttributes?: string;
}

/** The files at the top of an extracted artifact that a runtime reads, with their bytes. */
export interface ArtifactFiles {
  /** Where the artifact is (or is being) extracted; named in error messages. */
  dir: string;
  /**
   * The model files at the top of the artifact (the names {@link Runtime.isModelFile} accepts), any order. `early`:
   * what the runtime's {@link EarlyCompile} made of the file while it was unpacked, if anything.
   */
  files: { name: string; bytes: Uint8Array; early?: unknown }[];
  /** Folders at the top of the artifact, named when no model file is found. */
  folders: string[];
  /** Every file at the top of the artifact (model or not): the registry picks the runtime from them. */
  names?: string[];
}

/**
 * A compiled model as plain data (numbers, strings, typed arrays): it survives postMessage. Compiled `shared`, every
 * typed array is backed by a SharedArrayBuffer, so posting it to another thread shares the memory instead of copying.
 */
export interface CompiledArtifact {
  /** The runtime that compiled it, and so the one that instantiates it. */
  readonly runtime: string;
  readonly shared: boolean;
  readonly data: unknown;
}

/** A kind of model the local endpoint can serve. */
export interface Runtime {
  name: string;
  /**
   * Load an extracted artifact folder (what SageMaker extracts from model.tar.gz).
   * @throws ModelLoadError when the folder holds no loadable model
   */
  loadDir(dir: string): Promise<LoadedModel>;
  /** Whether a file at the top of an artifact is one this runtime reads (so an extractor can keep its bytes). */
  isModelFile(name: string): boolean;
  /**
   * Parse and compile an artifact's model files (the CPU-heavy part of a load; run it off the main thread).
   * @throws ModelLoadError when there is no model file or one cannot be loaded
   */
  compile(files: ArtifactFiles, options: { shared: boolean }): CompiledArtifact;
  /** The LoadedModel for compiled data: cheap, no copy. */
  instantiate(compiled: CompiledArtifact): InProcessModel;
  /**
   * Optional: start compiling a model file while it is still being unpacked, so that the work overlaps the
   * inflating. `bytes` has the file's full size and fills from the start.
   */
  compileEarly?(name: string, bytes: Uint8Array, options: { shared: boolean }): EarlyCompile;
}

/** A model file being compiled as its bytes arrive (see {@link Runtime.compileEarly}). */
export interface EarlyCompile {
  /** The first `available` bytes are in: do what they allow. */
  advance(available: number): void;
  /** Every byte is in: what compile() is handed as the file's `early` (undefined: compile it from its bytes). */
  result(): unknown;
}

/**
 * The request is at fault. `status` is what the serving container answers (SageMaker wraps it in a ModelError):
 * 204 empty body, 400 bad input, 415 unsupported Content-Type or Accept.
 */
export class ModelRequestError extends Error {
  readonly status: number;
  constructor(status: 204 | 400 | 413 | 415, message: string) {
    super(message);
    this.name = 'ModelRequestError';
    this.status = status;
  }
}

/**
 * The container's own answer to a request (a status other than 2xx), passed on as SageMaker does: a ModelError with
 * OriginalStatusCode and OriginalMessage.
 */
export class ModelAnswerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ModelAnswerError';
  }
}

/** The model is out of reach for now (its container died and is being restarted): SageMaker's 503. */
export class ModelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

/** A model file (or folder) could not be loaded. The message reads "<file>: <reason>". */
export class ModelLoadError extends Error {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ModelLoadError';
    this.file = file;
    this.reason = reason;
  }
}
