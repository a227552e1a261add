import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { classifyInvokeError, type InvokeFailure } from './errors.js';
import type { InvokeRequest } from './request.js';

/** What one successful InvokeEndpoint returned. */
export interface InvokeResult {
  body: Uint8Array;
  contentType: string | undefined;
  invokedProductionVariant: string | undefined;
  customAttributes: string | undefined;
}

/** Thrown by invokeOnce/invokeWhenReady: the classified failure, with the original error kept as `cause`. */
export class InvokeError extends Error {
  constructor(readonly failure: InvokeFailure) {
    super(failure.message);
    this.name = 'InvokeError';
  }
}

let commandClass: Promise<typeof import('@aws-sdk/client-sagemaker-runtime').InvokeEndpointCommand> | undefined;

/** The SDK module is loaded on the first call, never at import: `mme --help` and the other commands do not pay for it. */
function loadCommand() {
  return (commandClass ??= import('@aws-sdk/client-sagemaker-runtime').then(({ InvokeEndpointCommand }) => InvokeEndpointCommand));
}

/**
 * The SDK's standard retry strategy treats any HTTP 429 as throttling and retries it within one `send`. For
 * ModelNotReadyException that hides the model's load time inside three blind attempts and breaks the --wait-ready
 * bound, so this middleware (below the retry middleware, above the deserializer) hands that one error out of the
 * retry loop wrapped, and invokeWhenReady retries it on its own schedule. Everything else keeps the SDK's handling.
 */
class NotReadyPassThrough extends Error {
  constructor(readonly original: unknown) {
    super('ModelNotReadyException');
    this.name = 'MmeModelNotReadyPassThrough';
  }
}

const passThroughNotReady = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
  try {
    return await next(args);
  } catch (err) {
    if ((err as Error)?.name === 'ModelNotReadyException') throw new NotReadyPassThrough(err);
    throw err;
  }
};

/** Sends one InvokeEndpoint. Resolves with the response, or rejects with an InvokeError. */
export async function invokeOnce(client: SageMakerRuntimeClient, req: InvokeRequest, signal?: AbortSignal): Promise<InvokeResult> {
  const InvokeEndpointCommand = await loadCommand();
  const command = new InvokeEndpointCommand({
    EndpointName: req.endpointName,
    TargetModel: req.targetModel,
    Body: req.body,
    ContentType: req.contentType,
    Accept: req.accept,
    CustomAttributes: req.customAttributes,
    TargetVariant: req.targetVariant,
    InferenceId: req.inferenceId,
  });
  command.middlewareStack.add(passThroughNotReady as never, { step: 'deserialize', priority: 'high', name: 'mmeModelNotReadyPassThrough' });
  try {
    const out = await client.send(command, { abortSignal: signal });
    return {
      body: out.Body ?? new Uint8Array(),
      contentType: out.ContentType,
      invokedProductionVariant: out.InvokedProductionVariant,
      customAttributes: out.CustomAttributes,
    };
  } catch (err) {
    const original = err instanceof NotReadyPassThrough ? err.original : err;
    throw new InvokeError(classifyInvokeError(original));
  }
}

export interface WaitReadyOptions {
  /** total time budget for ModelNotReadyException retries, in ms (0: do not retry) */
  waitReadyMs: number;
  /** first backoff delay in ms; doubles up to maxDelayMs */
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** told before each wait, e.g. to say on stderr that the model is still loading */
  onNotReady?(info: { attempt: number; delayMs: number; waitedMs: number; budgetMs: number }): void;
}

export interface ReadyResult extends InvokeResult {
  /** how many ModelNotReadyException answers came before this one */
  notReadyRetries: number;
  /** wall time from the first attempt to the answer: what a caller waited, cold start included */
  totalMs: number;
}

/**
 * invokeOnce, retrying ModelNotReadyException with exponential backoff (with jitter, so concurrent callers spread
 * out) until the budget is spent. A model that does not load within 60 s answers 429 while loading goes on for up
 * to 360 s, so retrying is what AWS advises; the budget keeps a script from waiting forever.
 */
export async function invokeWhenReady(client: SageMakerRuntimeClient, req: InvokeRequest, opts: WaitReadyOptions): Promise<ReadyResult> {
  const started = performance.now();
  const initial = opts.initialDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 10_000;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await invokeOnce(client, req, opts.signal);
      return { ...result, notReadyRetries: attempt, totalMs: performance.now() - started };
    } catch (err) {
      if (!(err instanceof InvokeError) || err.failure.kind !== 'ModelNotReady') throw err;
      const waitedMs = performance.now() - started;
      const left = opts.waitReadyMs - waitedMs;
      if (left <= 0) throw err;
      const step = Math.min(max, initial * 2 ** attempt);
      const delayMs = Math.min(left, step / 2 + Math.random() * (step / 2));
      opts.onNotReady?.({ attempt: attempt + 1, delayMs, waitedMs, budgetMs: opts.waitReadyMs });
      await sleep(delayMs, opts.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): InvokeError {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return new InvokeError(classifyInvokeError(e));
}
