/**
 * Runs many simulations of one trace: in this thread for small jobs, else spread over worker threads that share the
 * trace's memory (SharedArrayBuffers: nothing is copied, whatever the number of threads).
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { lruCurve, simulate, type SimConfig, type SimResult, type Trace } from './simulate.js';

/** The settings every simulation of a sweep shares. */
export type SharedConfig = Omit<SimConfig, 'instances' | 'vcpus' | 'memoryBytes' | 'exclude'>;

export interface SimCandidate {
  instances: number;
  vcpus: number;
  memoryBytes: number;
}

/**
 * One job: candidates simulated in order with the models of `exclude` left out. With `until`, the job stops at the
 * first candidate whose result satisfies it (the hybrid search: candidates come cheapest first).
 */
export interface SweepTask {
  candidates: SimCandidate[];
  /** Also the one-instance LRU hit counts at these budgets (see lruCurve). */
  curve?: number[];
  exclude?: Uint8Array;
  until?: { minHitRatio: number; maxWaitP99Ms: number };
}

export interface TaskResult {
  /** One per candidate; null for those not run (after `until` was met). */
  sims: (SimResult | null)[];
  curve?: { requests: number; hits: number[] };
}

export function runTask(trace: Trace, shared: SharedConfig, task: SweepTask): TaskResult {
  const sims: TaskResult['sims'] = task.candidates.map(() => null);
  for (let i = 0; i < task.candidates.length; i++) {
    const r = simulate(trace, { ...shared, ...task.candidates[i], exclude: task.exclude });
    sims[i] = r;
    if (task.until && meets(r, task.until.minHitRatio, task.until.maxWaitP99Ms)) break;
  }
  return { sims, curve: task.curve ? lruCurve(trace, shared.modelBytes, task.curve, task.exclude) : undefined };
}

export function meets(r: SimResult, minHitRatio: number, maxWaitP99Ms: number): boolean {
  // With latency-critical models, the p99 target is theirs; otherwise every request's.
  return r.failed === 0 && (r.requests === 0 ? 1 : r.hits / r.requests) >= minHitRatio && (r.criticalWaitP99Ms ?? r.waitP99Ms) <= maxWaitP99Ms;
}

/** Below this many simulated requests in all, threads cost more to start than they save. */
const INLINE_WORK = 4_000_000;

export async function runSweep(trace: Trace, shared: SharedConfig, tasks: SweepTask[], threads = os.availableParallelism()): Promise<TaskResult[]> {
  const weight = (t: SweepTask) => t.candidates.length + (t.curve ? 1 : 0);
  const work = trace.length * tasks.reduce((s, t) => s + weight(t), 0);
  const workers = Math.min(threads, tasks.length);
  if (workers <= 1 || work < INLINE_WORK || !(trace.times.buffer instanceof SharedArrayBuffer)) return tasks.map((t) => runTask(trace, shared, t));

  const results: TaskResult[] = new Array(tasks.length);
  // Biggest jobs first, so that no thread is left with a long one at the end.
  const order = tasks.map((_t, i) => i).sort((a, b) => weight(tasks[b]) - weight(tasks[a]));
  let next = 0;
  const script = workerScript();
  await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<void>((resolve, reject) => {
          // Run from source (benchmarks under tsx), the thread registers tsx's loader before loading the .ts file.
          const fromSource = script.pathname.endsWith('.ts');
          const entry = fromSource ? `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(script.href)}); });` : script;
          const worker = new Worker(entry, {
            eval: fromSource,
            name: 'mme-plan-sweep',
            workerData: { times: trace.times, models: trace.models, length: trace.length, durationMs: trace.durationMs, shared },
          });
          const send = () => {
            if (next >= order.length) {
              void worker.terminate();
              return resolve();
            }
            const i = order[next++];
            worker.postMessage({ i, task: tasks[i] });
          };
          worker.on('message', (m: { i: number; result: TaskResult }) => {
            results[m.i] = m.result;
            send();
          });
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 || next >= order.length ? resolve() : reject(new Error(`a simulation thread exited with code ${code}`))));
          send();
        }),
    ),
  );
  return results;
}

/** dist/sweep.worker.js beside the bundle (this module may sit in dist/chunks/), or the .ts file under tsx. */
function workerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./sweep.worker.ts', here);
  for (const rel of ['./sweep.worker.js', '../sweep.worker.js']) {
    const url = new URL(rel, here);
    if (fs.existsSync(fileURLToPath(url))) return url;
  }
  throw new Error('sweep.worker.js not found next to the bundle; rebuild with `npm run build`.');
}
