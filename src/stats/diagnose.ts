/**
 * Reads a fleet's summary the way the SageMaker guide reads these metrics, and says what it sees in one line each.
 *
 * - thrashing: the cache-hit ratio is below 90% and at least half of the misses evicted a model (unloads >= 50% of
 *   misses, and at least 10 unloads). Misses that do not evict are just first loads of new models; misses that do
 *   mean memory is full and models push each other out. AWS's fix: more memory per instance or more instances.
 * - load wait dominates latency: the mean load wait spread over all requests (load-wait-avg x miss ratio) exceeds
 *   the mean time spent in the model and in SageMaker's overhead (latency-avg + overhead-avg).
 */
import type { Values } from './model.js';

export interface Finding {
  code: 'no-data' | 'thrashing' | 'load-wait-dominates' | 'ok';
  message: string;
}

export const THRASHING_CACHE_HIT = 0.9;
export const THRASHING_UNLOADS_PER_MISS = 0.5;
export const THRASHING_MIN_UNLOADS = 10;

export function diagnose(s: Values): Finding[] {
  if (Object.values(s).every((v) => v === null)) {
    return [
      {
        code: 'no-data',
        message:
          'no datapoints in the window: check the endpoint name, variant and region, or widen the window (--since); the minute under way counts once it ends.',
      },
    ];
  }
  const findings: Finding[] = [];
  const hit = s['cache-hit'];
  const requests = s.requests;
  const unloads = s.unloads ?? 0;
  const missRatio = hit === null ? null : 1 - hit;
  if (hit !== null && requests !== null) {
    const misses = requests * (1 - hit);
    if (hit < THRASHING_CACHE_HIT && unloads >= THRASHING_MIN_UNLOADS && unloads >= THRASHING_UNLOADS_PER_MISS * misses) {
      findings.push({
        code: 'thrashing',
        message:
          `working set does not fit (thrashing): ${pct(hit)} cache hits and ${unloads} unloads for ${Math.round(misses)} misses. ` +
          'AWS recommends more memory per instance (a larger instance type) or more instances.',
      });
    }
  }
  const wait = s['load-wait-avg'];
  const inModel = (s['latency-avg'] ?? 0) + (s['overhead-avg'] ?? 0);
  if (wait !== null && missRatio !== null && (s['latency-avg'] !== null || s['overhead-avg'] !== null)) {
    const waitPerRequest = wait * missRatio;
    if (waitPerRequest > inModel) {
      findings.push({
        code: 'load-wait-dominates',
        message:
          `model load wait dominates latency: ${ms(waitPerRequest)} per request on average waiting for model loads ` +
          `(${ms(wait)} per cold request) against ${ms(inModel)} in the model and SageMaker overhead.`,
      });
    }
  }
  if (!findings.length) findings.push({ code: 'ok', message: 'no thrashing, and model loads do not dominate latency.' });
  return findings;
}

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
