import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { modelNameProblem } from '../artifacts/names.js';
import { MAX_PAYLOAD_BYTES as MAX_PAYLOAD } from '../invoke/request.js';
import { ModelAbsentError, ModelLoadFailure, StoreFailure, type CachedModel, type ModelCache } from './cache.js';
import type { WorkerScoringError, ScoringPool } from './pool.js';
import { ModelAnswerError, ModelLoadError, ModelRequestError, ModelUnavailableError, type LoadedModel } from './runtimes/types.js';
import { safeDecode } from './url.js';
import { testPhase } from '../util/test-phase.js';

/**
 * The local multi-model endpoint on one port:
 * - SageMaker Runtime: POST /endpoints/{name}/invocations, errors in the restJson1 shape the AWS SDKs decode;
 * - the serving-container management API: GET /ping, GET/POST /models, GET/DELETE /models/{name};
 * - everything else (CloudWatch API, GET /metrics) goes to `extraHandler`.
 * The warm path (model in memory, small body) runs synchronously from the request's 'end' event to res.end().
 */

/** A body over the limit is read and dropped up to this size before the 413 (so the client reads it); beyond, cut. */
const MAX_DISCARD = 64 * 1024 * 1024;
/** Management calls carry small JSON documents. */
const MAX_MANAGEMENT_BODY = 1024 * 1024;
const ACCOUNT = '000000000000';

export type InvocationMetric =
  | 'Invocations'
  | 'Invocation4XXErrors'
  | 'Invocation5XXErrors'
  | 'ModelCacheHit'
  | 'ModelLatency'
  | 'OverheadLatency'
  | 'ModelLoadingWaitTime';

export interface EndpointServerOptions {
  endpointName: string;
  variant: string;
  region: string;
  cache: ModelCache;
  /** How long a request waits for a cold model before ModelNotReadyException (the load goes on). */
  waitLimitMs: number;
  /**
   * The Accept given to the model when a request has none or `*\/*` (the container's SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT;
   * application/json in multi-model mode).
   */
  defaultAccept?: string;
  /** How long a load that failed after its requests stopped waiting (429) is answered from memory. */
  failureMemoryMs?: number;
  /** Requests with a body at least this large are scored on a worker thread. */
  workerThreshold: number;
  pool?: ScoringPool;
  record?(metric: InvocationMetric, value: number): void;
  /** CloudWatch API and /metrics; returns false when the request is not one of its own. */
  extraHandler?(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean;
  /** One line per notable event (runtime bugs); the cache reports loads and unloads itself. */
  log?(message: string): void;
}

export interface EndpointServer {
  server: http.Server;
  /** Requests being answered right now. */
  inFlight(): number;
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`), then closes every socket. */
  stop(graceMs: number): Promise<void>;
}

interface Scored {
  body: Uint8Array;
  contentType: string;
  /** Custom attributes the model set on its answer (never the request's: SageMaker does not echo them). */
  customAttributes?: string;
}

/** The toolkit's default when SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is not set. */
export const DEFAULT_ACCEPT = 'application/json';
const DEFAULT_FAILURE_MEMORY_MS = 5 * 60_000;

const noop = () => {};

export function createEndpointServer(options: EndpointServerOptions): EndpointServer {
  const { endpointName, variant, cache, pool } = options;
  const record = options.record ?? noop;
  const log = options.log ?? noop;
  const logStreamArn = `arn:aws:logs:${options.region}:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/${endpointName}`;
  const requestIdBase = `${process.pid.toString(16)}-${Date.now().toString(16)}-`;
  let requestSeq = 0;
  let inFlight = 0;
  let stopping = false;
  const defaultAccept = options.defaultAccept ?? DEFAULT_ACCEPT;
  /**
   * Loads that failed after every request waiting for them had been answered 429: the client's retry gets the
   * failure (a ModelError) instead of starting the same doomed load again, for `failureMemoryMs`.
   */
  const failedLoads = new Map<string, { error: unknown; until: number }>();
  const failureMemoryMs = options.failureMemoryMs ?? DEFAULT_FAILURE_MEMORY_MS;

  // ---- answers -------------------------------------------------------------------------------------------------

  /** `close`: the connection closes after this answer (by default while stopping); `done` runs once it is written. */
  function sendJson(res: ServerResponse, status: number, doc: unknown, errorType?: string, close = stopping, done?: () => void): void {
    const text = JSON.stringify(doc);
    const headers: string[] = [
      'Content-Type',
      'application/json',
      'Content-Length',
      String(Buffer.byteLength(text)),
      'x-amzn-RequestId',
      requestIdBase + ++requestSeq,
    ];
    if (errorType) headers.push('x-amzn-ErrorType', errorType);
    if (close) headers.push('Connection', 'close');
    res.writeHead(status, headers);
    res.end(text, done);
  }

  /** restJson1 error: the SDKs read the type from x-amzn-ErrorType and the members from the JSON body. */
  function awsError(res: ServerResponse, status: number, type: string, message: string, extra?: Record<string, unknown>): void {
    sendJson(res, status, { ErrorCode: errorCode(type), Message: message, ...extra }, type);
  }

  function modelError(res: ServerResponse, originalStatus: number, originalMessage: string): void {
    // A container that did not answer in time counts as a server error with status 0, as SageMaker reports it.
    const side = originalStatus >= 400 && originalStatus < 500 ? 'client' : 'server';
    awsError(
      res,
      424,
      'ModelError',
      `Received ${side} error (${originalStatus}) from primary with message "${originalMessage}". See ${logStreamArn} in account ${ACCOUNT} for more information.`,
      {
        ErrorCode: side === 'client' ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
        OriginalStatusCode: originalStatus,
        OriginalMessage: originalMessage,
        LogStreamArn: logStreamArn,
      },
    );
  }

  // ---- InvokeEndpoint --------------------------------------------------------------------------------------------

  /** One invocation's bookkeeping, kept on the stack of the warm path (no object per request). */
  function finishMetrics(started: number, status: number, cacheHit: number, modelMs: number): void {
    record('Invocations', 1);
    record('Invocation4XXErrors', status >= 400 && status < 500 ? 1 : 0);
    record('Invocation5XXErrors', status >= 500 ? 1 : 0);
    if (cacheHit >= 0) record('ModelCacheHit', cacheHit);
    if (modelMs >= 0) {
      record('ModelLatency', Math.round(modelMs * 1000));
      record('OverheadLatency', Math.max(0, Math.round((performance.now() - started - modelMs) * 1000)));
    }
  }

  function invocation(req: IncomingMessage, res: ServerResponse, url: string): void {
    const started = performance.now();
    const slash = url.indexOf('/', 11);
    let name = slash < 0 ? url.slice(11) : url.slice(11, slash);
    const action = slash < 0 ? '' : url.slice(slash);
    if (name.includes('%')) name = safeDecode(name);
    if (action !== '/invocations') {
      drain(req);
      if (action === '/async-invocations' || action === '/invocations-response-stream') {
        return awsError(
          res,
          400,
          'ValidationError',
          `mme local does not support ${action === '/async-invocations' ? 'InvokeEndpointAsync' : 'InvokeEndpointWithResponseStream'}; use InvokeEndpoint.`,
        );
      }
      return awsError(res, 404, 'UnknownOperationException', `No operation matches POST ${url}.`);
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > MAX_PAYLOAD) return tooLarge(req, res, name, started);
    readBody(
      req,
      MAX_PAYLOAD,
      (body) => answer(req, res, name, body, started),
      () => tooLarge(req, res, name, started),
    );
  }

  function tooLarge(req: IncomingMessage, res: ServerResponse, name: string, started: number): void {
    // As SageMaker: a bare 413 (no modelled error type), then the connection closes. A client still sending would
    // see a reset instead of the answer, so the rest of a merely large body is read and dropped first; a huge one
    // is cut off at once.
    const send = () => {
      if (res.headersSent) return;
      sendJson(res, 413, { message: `HTTP content length exceeded ${MAX_PAYLOAD} bytes.` }, undefined, true, () => req.socket.destroySoon());
      if (name === endpointName) finishMetrics(started, 413, -1, -1);
    };
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_DISCARD || req.readableEnded) return send();
    let dropped = 0;
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      if ((dropped += chunk.length) > MAX_DISCARD) send();
    });
    req.on('end', send);
    req.resume();
  }

  function answer(req: IncomingMessage, res: ServerResponse, name: string, body: Buffer, started: number): void {
    if (name !== endpointName) {
      return awsError(res, 400, 'ValidationError', `Endpoint ${name} of account ${ACCOUNT} not found.`);
    }
    const h = req.headers;
    const target = h['x-amzn-sagemaker-target-model'] as string | undefined;
    // A loaded model's name was checked when it was first asked for: the warm path skips the check.
    const entry = target === undefined ? undefined : cache.hit(target);
    const problem =
      entry !== undefined
        ? undefined
        : target === undefined
          ? `Endpoint ${endpointName} is a multi-model endpoint: the request must name a target model (header X-Amzn-SageMaker-Target-Model, TargetModel in the SDKs).`
          : checkTargetModel(target);
    if (problem) {
      awsError(res, 400, 'ValidationError', problem);
      return finishMetrics(started, 400, -1, -1);
    }
    const wantVariant = h['x-amzn-sagemaker-target-variant'] as string | undefined;
    if (wantVariant !== undefined && wantVariant !== variant) {
      awsError(res, 400, 'ValidationError', `Variant ${wantVariant} not found for endpoint ${endpointName} (it has one variant, ${variant}).`);
      return finishMetrics(started, 400, -1, -1);
    }
    const attributes = h['x-amzn-sagemaker-custom-attributes'] as string | undefined;
    if (attributes !== undefined && (attributes.length > 1024 || !/^[\x00-\x7f]*$/.test(attributes))) {
      awsError(
        res,
        400,
        'ValidationError',
        "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to 1024 and contain only ASCII characters",
      );
      return finishMetrics(started, 400, -1, -1);
    }
    // As the toolkit's transformer: no Accept, or exactly */*, is the default accept.
    const accept = h.accept === undefined || h.accept === '' || h.accept === '*/*' ? defaultAccept : h.accept;
    if (entry !== undefined) return score(res, entry, body, h['content-type'], accept, attributes, started, 1);
    const failed = failedLoads.get(target!);
    if (failed !== undefined) {
      if (Date.now() < failed.until) return loadFailed(res, failed.error, started);
      failedLoads.delete(target!);
    }
    void cold(res, target!, body, h['content-type'], accept, attributes, started);
  }

  async function cold(
    res: ServerResponse,
    target: string,
    body: Buffer,
    contentType: string | undefined,
    accept: string | undefined,
    attributes: string | undefined,
    started: number,
  ): Promise<void> {
    const waitStart = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const tooSlow = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, options.waitLimitMs, 'timeout')));
    const loading = cache.load(target);
    let entry: CachedModel | 'timeout';
    try {
      entry = await Promise.race([loading, tooSlow]);
    } catch (err) {
      clearTimeout(timer);
      record('ModelLoadingWaitTime', Math.round((performance.now() - waitStart) * 1000));
      return loadFailed(res, err, started);
    }
    clearTimeout(timer);
    const waitMs = performance.now() - waitStart;
    record('ModelLoadingWaitTime', Math.round(waitMs * 1000));
    if (entry === 'timeout') {
      // The load goes on; if it fails, the next request for the model gets the failure.
      loading.catch((error: unknown) => {
        if (error instanceof ModelLoadFailure) failedLoads.set(target, { error, until: Date.now() + failureMemoryMs });
      });
      awsError(
        res,
        429,
        'ModelNotReadyException',
        `Model ${target} is still being downloaded or loaded (waited ${Math.round(options.waitLimitMs / 1000)} s); retry the request.`,
      );
      return finishMetrics(started, 429, 0, -1);
    }
    if (entry.model === undefined) {
      // Evicted between its load and this continuation (another load needed the room): load it again.
      return cold(res, target, body, contentType, accept, attributes, started);
    }
    entry.hits++;
    entry.lastUsedAt = Date.now();
    // OverheadLatency leaves out the load wait: ModelLoadingWaitTime reports it.
    score(res, entry, body, contentType, accept, attributes, started + waitMs, 0);
  }

  function loadFailed(res: ServerResponse, err: unknown, started: number): void {
    if (err instanceof ModelAbsentError) {
      awsError(res, 400, 'ValidationError', err.message);
      return finishMetrics(started, 400, 0, -1);
    }
    if (err instanceof ModelLoadFailure && err.status === 503) {
      awsError(res, 503, 'ServiceUnavailable', err.message);
      return finishMetrics(started, 503, 0, -1);
    }
    if (err instanceof ModelLoadFailure) {
      modelError(res, err.status, err.message);
      return finishMetrics(started, err.status, 0, -1);
    }
    if (err instanceof StoreFailure) {
      awsError(res, 530, 'InternalDependencyException', err.message);
      return finishMetrics(started, 530, 0, -1);
    }
    log(`internal error while loading a model: ${(err as Error)?.stack ?? err}`);
    awsError(res, 500, 'InternalFailure', `An internal error occurred while loading the model: ${(err as Error)?.message ?? err}`);
    finishMetrics(started, 500, 0, -1);
  }

  function score(
    res: ServerResponse,
    entry: CachedModel,
    body: Buffer,
    contentType: string | undefined,
    accept: string | undefined,
    attributes: string | undefined,
    started: number,
    hit: number,
  ): void {
    if (pool !== undefined && body.length >= options.workerThreshold && entry.model!.compiled !== undefined) {
      return scoreOnWorker(res, entry, body, contentType, accept, attributes, started, hit);
    }
    scoreHere(res, entry.model!, body, contentType, accept, attributes, started, hit);
  }

  /** Scores on the main thread. */
  function scoreHere(
    res: ServerResponse,
    model: LoadedModel,
    body: Buffer,
    contentType: string | undefined,
    accept: string | undefined,
    attributes: string | undefined,
    started: number,
    hit: number,
  ): void {
    const t = performance.now();
    let out: Scored | Promise<Scored>;
    try {
      out = model.invoke(body, contentType, accept, attributes);
    } catch (err) {
      return scoringFailed(res, err, started, hit, performance.now() - t);
    }
    // A runtime in another process answers later; the built-in one answers now (no promise on the warm path).
    if (out instanceof Promise) {
      out.then(
        (answer) => respond(res, answer, started, hit, performance.now() - t),
        (err: unknown) => scoringFailed(res, err, started, hit, performance.now() - t),
      );
      return;
    }
    respond(res, out, started, hit, performance.now() - t);
  }

  function scoreOnWorker(
    res: ServerResponse,
    entry: CachedModel,
    body: Buffer,
    contentType: string | undefined,
    accept: string | undefined,
    attributes: string | undefined,
    started: number,
    hit: number,
  ): void {
    const model = entry.model!;
    const t = performance.now();
    pool!.invoke(model.compiled!, body, contentType, accept).then(
      (out) => respond(res, out, started, hit, performance.now() - t),
      (err: WorkerScoringError) => {
        if (err.kind === 'request') return scoringFailed(res, new ModelRequestError(err.status as 400, err.message), started, hit, performance.now() - t);
        // The thread could not use the model or broke: score here instead.
        if (err.kind === 'internal') log(`scoring thread failed (${err.message}); scored on the main thread instead`);
        scoreHere(res, model, body, contentType, accept, attributes, started, hit);
      },
    );
  }

  function respond(res: ServerResponse, out: Scored, started: number, hit: number, modelMs: number): void {
    if (out.body.length > MAX_PAYLOAD) {
      modelError(res, 500, `the model's response of ${out.body.length} bytes exceeds the ${MAX_PAYLOAD}-byte limit`);
      return finishMetrics(started, 500, hit, modelMs);
    }
    const headers = [
      'Content-Type',
      out.contentType,
      'Content-Length',
      String(out.body.length),
      'x-Amzn-Invoked-Production-Variant',
      variant,
      'x-amzn-RequestId',
      requestIdBase + ++requestSeq,
    ];
    if (out.customAttributes !== undefined) headers.push('X-Amzn-SageMaker-Custom-Attributes', out.customAttributes);
    if (stopping) headers.push('Connection', 'close');
    res.writeHead(200, headers);
    res.end(out.body);
    finishMetrics(started, 200, hit, modelMs);
  }

  function scoringFailed(res: ServerResponse, err: unknown, started: number, hit: number, modelMs: number): void {
    if (err instanceof ModelRequestError || err instanceof ModelAnswerError) {
      modelError(res, err.status, err.message);
      // Status 0 (no answer in time) is the container's failure: a 5XX in the metrics.
      return finishMetrics(started, err.status || 500, hit, modelMs);
    }
    if (err instanceof ModelLoadError) {
      modelError(res, 500, err.message);
      return finishMetrics(started, 500, hit, modelMs);
    }
    if (err instanceof ModelUnavailableError) {
      awsError(res, 503, 'ServiceUnavailable', err.message);
      return finishMetrics(started, 503, hit, -1);
    }
    log(`the model runtime failed on a request: ${(err as Error)?.stack ?? err}`);
    modelError(res, 500, `internal error in the model runtime: ${(err as Error)?.message ?? err}`);
    finishMetrics(started, 500, hit, modelMs);
  }

  // ---- management API (serving-container style) ----------------------------------------------------------------

  function management(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const method = req.method;
    if (path === '/models') {
      if (method === 'GET') return sendJson(res, 200, { models: cache.list(), ...budgets() });
      if (method === 'POST') return void preload(res, body);
      return sendJson(res, 405, { code: 405, type: 'MethodNotAllowedException', message: `${method} is not allowed on /models (use GET or POST).` });
    }
    const name = safeDecode(path.slice('/models/'.length));
    if (method === 'GET') {
      const info = cache.list().find((m) => m.modelName === name);
      if (!info) return notLoaded(res, name);
      return sendJson(res, 200, info);
    }
    if (method === 'DELETE') {
      if (!cache.unload(name)) return notLoaded(res, name);
      return sendJson(res, 200, { status: `Model "${name}" unloaded` });
    }
    sendJson(res, 405, { code: 405, type: 'MethodNotAllowedException', message: `${method} is not allowed on /models/{name} (use GET or DELETE).` });
  }

  function budgets() {
    const s = cache.stats();
    return { memory: { usedBytes: s.memoryBytes, budgetBytes: s.memoryBudget }, disk: { usedBytes: s.diskBytes, budgetBytes: s.diskBudget } };
  }

  function notLoaded(res: ServerResponse, name: string): void {
    sendJson(res, 404, { code: 404, type: 'ModelNotFoundException', message: `Model not found: ${name} is not loaded.` });
  }

  async function preload(res: ServerResponse, body: Buffer): Promise<void> {
    let name: unknown;
    try {
      name = (JSON.parse(body.toString('utf8')) as { model_name?: unknown }).model_name;
    } catch {
      name = undefined;
    }
    if (typeof name !== 'string' || checkTargetModel(name)) {
      return sendJson(res, 400, {
        code: 400,
        type: 'BadRequestException',
        message: 'Expected a JSON body {"model_name": "<name under the prefix>"} naming a valid TargetModel.',
      });
    }
    if (cache.isLoaded(name)) return sendJson(res, 409, { code: 409, type: 'ConflictStatusException', message: `Model ${name} is already loaded.` });
    try {
      await cache.load(name);
    } catch (err) {
      if (err instanceof ModelAbsentError) return sendJson(res, 404, { code: 404, type: 'ModelNotFoundException', message: err.message });
      if (err instanceof ModelLoadFailure)
        return sendJson(res, err.status, {
          code: err.status,
          type: err.status === 507 ? 'InsufficientMemoryException' : 'ModelLoadException',
          message: err.message,
        });
      return sendJson(res, 502, { code: 502, type: 'StoreException', message: (err as Error)?.message ?? String(err) });
    }
    sendJson(res, 200, { status: `Model "${name}" loaded`, model: cache.list().find((m) => m.modelName === name) });
  }

  // ---- routing ---------------------------------------------------------------------------------------------------

  /** The body of a request other than InvokeEndpoint; over `limit`, a 413 and the connection closes. */
  function readSmallBody(req: IncomingMessage, res: ServerResponse, limit: number, then: (body: Buffer) => void): void {
    readBody(req, limit, then, () => {
      sendJson(res, 413, { message: `request body exceeds ${limit} bytes` }, undefined, true);
      req.socket.destroySoon();
    });
  }

  const server = http.createServer({ keepAliveTimeout: 30_000, headersTimeout: 35_000 }, (req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
    void testPhase('request');
    const url = req.url ?? '/';
    if (stopping) {
      // Arrived on an open connection after SIGTERM: refused in SageMaker's shape, and the connection closes.
      drain(req);
      return awsError(res, 503, 'ServiceUnavailable', 'The endpoint is shutting down; retry the request against a running endpoint.');
    }
    if (req.method === 'POST' && url.startsWith('/endpoints/')) return invocation(req, res, url);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      drain(req);
      return sendJson(res, 200, { status: 'Healthy' });
    }
    if (path === '/models' || path.startsWith('/models/')) {
      return readSmallBody(req, res, MAX_MANAGEMENT_BODY, (body) => management(req, res, path, body));
    }
    readSmallBody(req, res, MAX_PAYLOAD, (body) => {
      let handled = false;
      try {
        handled = options.extraHandler?.(req, res, body) ?? false;
      } catch (err) {
        log(`internal error in ${req.method} ${path}: ${(err as Error)?.stack ?? err}`);
        if (!res.headersSent) awsError(res, 500, 'InternalFailure', `internal error: ${(err as Error)?.message ?? err}`);
        return;
      }
      if (!handled) awsError(res, 404, 'UnknownOperationException', `No operation matches ${req.method} ${path}.`);
    });
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy(err);
  });

  return {
    server,
    inFlight: () => inFlight,
    async stop(graceMs: number) {
      stopping = true;
      // No new connections; open ones stay while requests are in flight, so that a request arriving on one gets a
      // 503 rather than a reset (http.Server.close would also close idle connections at once).
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
      // Once nothing is in flight, idle connections close (keep-alive sockets go idle as their response is written).
      const sweep = () => {
        if (inFlight === 0) server.closeIdleConnections();
      };
      sweep();
      const sweeper = setInterval(sweep, 25);
      const hard = setTimeout(() => server.closeAllConnections(), graceMs);
      try {
        await closed;
      } finally {
        clearInterval(sweeper);
        clearTimeout(hard);
      }
    },
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads a request body of at most `limit` bytes (one chunk is used as it is, without a copy). Past the limit,
 * `overLimit` runs once and `then` never does.
 */
function readBody(req: IncomingMessage, limit: number, then: (body: Buffer) => void, overLimit: () => void): void {
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > limit) {
      refused = true;
      return overLimit();
    }
    if (first === undefined) first = chunk;
    else (more ??= [first]).push(chunk);
  });
  req.on('end', () => {
    if (!refused) then(more ? Buffer.concat(more, size) : (first ?? EMPTY));
  });
}

/** The ValidationError message for a TargetModel that breaks the rules ({@link modelNameProblem}), or undefined. */
function checkTargetModel(name: string): string | undefined {
  const problem = modelNameProblem(name);
  if (problem === undefined) return undefined;
  if (problem.kind === 'dot-segment' || problem.kind === 'empty-segment') {
    return `Failed to download model data (key: ${name}): a TargetModel must be a relative key without empty, "." or ".." segments.`;
  }
  const shown = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  return `1 validation error detected: Value '${shown}' at 'targetModel' failed to satisfy constraint: Member must satisfy regular expression pattern: \\A\\S[\\p{Print}]*\\z and have length between 1 and 1024`;
}

function errorCode(type: string): string {
  switch (type) {
    case 'ValidationError':
      return 'VALIDATION_ERROR';
    case 'ModelNotReadyException':
      return 'MODEL_NOT_READY';
    case 'InternalDependencyException':
      return 'INTERNAL_DEPENDENCY_EXCEPTION';
    case 'ServiceUnavailable':
      return 'SERVICE_UNAVAILABLE';
    default:
      return 'INTERNAL_FAILURE';
  }
}

function drain(req: IncomingMessage): void {
  req.resume();
}
