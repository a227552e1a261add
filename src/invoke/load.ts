import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { InvokeErrorKind } from './errors.js';
import { InvokeError, invokeWhenReady, type WaitReadyOptions } from './invoke.js';
import type { InvokeRequest } from './request.js';

export interface WeightedTarget {
  name: string;
  weight: number;
}

export interface LoadOptions {
  /** the request to send; its targetModel is replaced per call */
  request: InvokeRequest;
  targets: WeightedTarget[];
  /** stop after this many requests in all (cold calls included) */
  repeat?: number;
  /** stop starting requests after this many ms */
  durationMs?: number;
  concurrency: number;
  waitReady: Omit<WaitReadyOptions, 'signal'>;
  signal?: AbortSignal;
  /** told of each failed request; returning true stops the run (for errors every later request would hit too) */
  onError?(err: InvokeError): boolean | void;
}

/** Latency distribution over successful calls, in ms; null when there were none. */
export interface LatencyStats {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PhaseReport {
  requests: number;
  ok: number;
  errors: number;
  latencyMs: LatencyStats | null;
}

export interface LoadReport {
  endpointName: string;
  targets: WeightedTarget[];
  concurrency: number;
  requests: number;
  ok: number;
  errors: number;
  errorsByType: Partial<Record<InvokeErrorKind, number>>;
  /** ModelNotReadyException answers that were retried (and so are not errors) */
  notReadyRetries: number;
  elapsedMs: number;
  /** successful warm calls per second over the warm phase */
  throughputPerSecond: number | null;
  /** the first call to each target: it likely paid for download and load */
  cold: PhaseReport;
  /** every later call: the cache-hit latency a caller sees */
  warm: PhaseReport;
  byTarget: Record<string, { cold: PhaseReport; warm: PhaseReport }>;
  /** true when the run stopped early (interrupt, or an error every request would hit) */
  stoppedEarly: boolean;
  /** the first failure and its target, to explain it in words */
  firstError?: { target: string; error: InvokeError };
}

interface Sample {
  target: string;
  cold: boolean;
  ms: number;
  error?: InvokeErrorKind;
}

/**
 * Sends many InvokeEndpoint calls through the same code path as a single `mme invoke`. The first call to each
 * target runs before any warm call (the cold phase), so that cache-hit latency is not mixed with load time; then
 * up to `concurrency` calls stay in flight until `repeat` calls were made or `durationMs` has passed.
 */
export async function runLoad(client: SageMakerRuntimeClient, o: LoadOptions): Promise<LoadReport> {
  const started = performance.now();
  const deadline = o.durationMs !== undefined ? started + o.durationMs : Infinity;
  const limit = o.repeat ?? Infinity;
  const samples: Sample[] = [];
  let issued = 0;
  let notReadyRetries = 0;
  let stopped = false;
  let firstError: LoadReport['firstError'];

  const canStart = () => !stopped && !o.signal?.aborted && issued < limit && performance.now() < deadline;
  const call = async (target: string, cold: boolean) => {
    issued++;
    const t0 = performance.now();
    try {
      const r = await invokeWhenReady(client, { ...o.request, targetModel: target }, { ...o.waitReady, signal: o.signal });
      notReadyRetries += r.notReadyRetries;
      samples.push({ target, cold, ms: r.totalMs });
    } catch (err) {
      if (!(err instanceof InvokeError)) throw err;
      if (err.failure.kind === 'Aborted') return;
      firstError ??= { target, error: err };
      samples.push({ target, cold, ms: performance.now() - t0, error: err.failure.kind });
      if (o.onError?.(err)) stopped = true;
    }
  };
  const pool = async (next: () => string | undefined, cold: boolean) => {
    const worker = async () => {
      while (canStart()) {
        const target = next();
        if (target === undefined) return;
        await call(target, cold);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  };

  // Cold phase: each target once.
  const pending = o.targets.map((t) => t.name);
  await pool(() => pending.shift(), true);
  // Warm phase: targets picked by smooth weighted round-robin.
  const warmStarted = performance.now();
  await pool(weightedRoundRobin(o.targets), false);
  const warmMs = performance.now() - warmStarted;
  stopped = stopped || o.signal?.aborted === true;
  return report(o, samples, notReadyRetries, performance.now() - started, warmMs, stopped, firstError);
}

/** nginx's smooth weighted round-robin: deterministic, spreads each target's turns evenly, equal weights alternate. */
export function weightedRoundRobin(targets: WeightedTarget[]): () => string {
  const current = targets.map(() => 0);
  const total = targets.reduce((n, t) => n + t.weight, 0);
  return () => {
    let best = 0;
    for (let i = 0; i < targets.length; i++) {
      current[i] += targets[i].weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    return targets[best].name;
  };
}

function report(
  o: LoadOptions,
  samples: Sample[],
  notReadyRetries: number,
  elapsedMs: number,
  warmMs: number,
  stoppedEarly: boolean,
  firstError: LoadReport['firstError'],
): LoadReport {
  const errorsByType: Partial<Record<InvokeErrorKind, number>> = {};
  // One pass: samples split by phase, overall and per target (in o.targets order; other names are not reported).
  const all = { cold: [] as Sample[], warm: [] as Sample[] };
  const mine = new Map(o.targets.map((t) => [t.name, { cold: [] as Sample[], warm: [] as Sample[] }]));
  for (const s of samples) {
    if (s.error) errorsByType[s.error] = (errorsByType[s.error] ?? 0) + 1;
    const key = s.cold ? 'cold' : 'warm';
    all[key].push(s);
    mine.get(s.target)?.[key].push(s);
  }
  const cold = phase(all.cold);
  const warm = phase(all.warm);
  const byTarget: LoadReport['byTarget'] = {};
  for (const [name, t] of mine) byTarget[name] = { cold: phase(t.cold), warm: phase(t.warm) };
  return {
    endpointName: o.request.endpointName,
    targets: o.targets,
    concurrency: o.concurrency,
    requests: samples.length,
    ok: cold.ok + warm.ok,
    errors: cold.errors + warm.errors,
    errorsByType,
    notReadyRetries,
    elapsedMs: round(elapsedMs),
    throughputPerSecond: warm.requests > 0 && warmMs > 0 ? round((warm.ok * 1000) / warmMs) : null,
    cold,
    warm,
    byTarget,
    stoppedEarly,
    firstError,
  };
}

function phase(samples: Sample[]): PhaseReport {
  const ok = samples.filter((s) => !s.error).map((s) => s.ms);
  return { requests: samples.length, ok: ok.length, errors: samples.length - ok.length, latencyMs: latencyStats(ok) };
}

/**
 * Nearest-rank percentiles: p99 of 100 samples is the 99th smallest, an observed value, never an interpolation.
 * Sorts `values` in place.
 */
export function latencyStats(values: number[]): LatencyStats | null {
  if (!values.length) return null;
  const sorted = values.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    min: round(sorted[0]),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    max: round(sorted[sorted.length - 1]),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
