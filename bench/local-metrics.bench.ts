// The metrics recorder of `mme local` against the obvious reference, an exact recorder that keeps every value of
// every minute in a plain array: what each costs per record() call, how much memory three hours take, how long a
// three-hour p99 query takes, and how far our sampled p99 lands from the exact one.
// Scaled to 50 requests/s (3,000 values per metric per minute) so that the exact reference fits in memory.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MetricsRecorder, type MetricName } from '../src/local/metrics/index.js';
import { runOperation } from '../src/local/metrics/cloudwatch.js';
import { printTable } from './lib/measure.js';

// Memory is measured after a full GC: run again with --expose-gc when bench/run.ts started us without it.
if (!global.gc) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const MINUTES = 180;
const PER_MINUTE = 3000;
const METRICS: MetricName[] = ['Invocations', 'ModelLatency', 'OverheadLatency', 'ModelCacheHit', 'Invocation4XXErrors', 'Invocation5XXErrors'];
const T0 = Date.UTC(2026, 0, 1);

// Latencies with a long tail, the shape that makes p99 interesting: mostly ~2 ms, 2% between 50 and 250 ms.
let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const values = Float64Array.from({ length: MINUTES * PER_MINUTE }, () => (rand() < 0.02 ? 50_000 + rand() * 200_000 : 1500 + rand() * 1000));

class ExactRecorder {
  readonly minutes = new Map<string, Map<number, number[]>>();
  constructor(readonly now: () => number) {}
  record(metric: string, value: number): void {
    let m = this.minutes.get(metric);
    if (!m) this.minutes.set(metric, (m = new Map()));
    const minute = Math.floor(this.now() / 60_000);
    let a = m.get(minute);
    if (!a) m.set(minute, (a = []));
    a.push(value);
  }
  p99(metric: string): number {
    const all = [...this.minutes.get(metric)!.values()].flat().sort((x, y) => x - y);
    return all[Math.ceil(0.99 * all.length) - 1];
  }
}

function heapMB(): number {
  global.gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1e6;
}

function feed(record: (metric: MetricName, value: number) => void, setClock: (t: number) => void): number {
  const t = process.hrtime.bigint();
  for (let m = 0; m < MINUTES; m++) {
    for (let i = 0; i < PER_MINUTE; i++) {
      setClock(T0 + m * 60_000 + i * 20);
      const v = values[m * PER_MINUTE + i];
      for (const metric of METRICS) record(metric, metric.endsWith('Latency') ? v : 1);
    }
  }
  return (Number(process.hrtime.bigint() - t) / 1e6 / (MINUTES * PER_MINUTE * METRICS.length)) * 1e6; // ns per call
}

let clock = T0;
const base = heapMB();
const exact = new ExactRecorder(() => clock);
const exactNs = feed(
  (m, v) => exact.record(m, v),
  (t) => (clock = t),
);
const exactMB = heapMB() - base;
let t = process.hrtime.bigint();
const exactP99 = exact.p99('ModelLatency');
const exactQueryMs = Number(process.hrtime.bigint() - t) / 1e6;
exact.minutes.clear();

const base2 = heapMB();
const ours = new MetricsRecorder({ endpointName: 'bench', variantName: 'AllTraffic', now: () => clock });
const oursNs = feed(
  (m, v) => ours.record(m, v),
  (x) => (clock = x),
);
const oursMB = heapMB() - base2;
const query = () =>
  runOperation(
    'GetMetricStatistics',
    {
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: ours.dimensions,
      StartTime: T0 / 1000,
      EndTime: T0 / 1000 + MINUTES * 60,
      Period: MINUTES * 60,
      ExtendedStatistics: ['p99'],
    },
    { store: ours.store, now: clock },
  ) as { Datapoints: Array<{ ExtendedStatistics: { p99: number } }> };
t = process.hrtime.bigint();
const oursP99 = query().Datapoints[0].ExtendedStatistics.p99;
const oursQueryMs = Number(process.hrtime.bigint() - t) / 1e6;
t = process.hrtime.bigint();
query();
const oursQueryAgainMs = Number(process.hrtime.bigint() - t) / 1e6;

printTable([
  { name: 'record() per call', ours: oursNs, reference: exactNs, referenceName: 'exact arrays', goal: 2, unit: 'ns' },
  {
    name: `memory, ${MINUTES} min × ${PER_MINUTE}/min × ${METRICS.length} metrics`,
    ours: oursMB,
    reference: exactMB,
    referenceName: 'exact arrays',
    goal: 0.5,
    unit: 'MB',
  },
  { name: 'p99 over 3 h, first query', ours: oursQueryMs, reference: exactQueryMs, referenceName: 'sort everything', goal: 1, unit: 'ms' },
  { name: 'p99 over 3 h, next query', ours: oursQueryAgainMs, reference: exactQueryMs, referenceName: 'sort everything', goal: 0.5, unit: 'ms' },
]);
console.log(
  `p99 ModelLatency: sampled ${oursP99.toFixed(0)} µs, exact ${exactP99.toFixed(0)} µs (error ${((Math.abs(oursP99 - exactP99) / exactP99) * 100).toFixed(2)}%)`,
);
