// `mme plan`'s simulator (issue 13): 10 million requests over 1,000 models (Zipf traffic, 10-200 MB models) on one
// candidate, and a sweep of the 12 built-in instance types on worker threads, with the peak RSS of the process that
// holds the trace. The reference, in the same run on the same trace: the obvious LRU simulator (a Map in recency
// order, one instance, no timing), which answers less (hit ratio only) and is what the typed-array one must beat.
// Last, the whole command through the built binary (trace generation, the 12 candidates and the memory curve).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MME, baseEnv } from '../test/helpers/cli.js';
import { builtInCatalog } from '../src/plan/catalog.js';
import { DEFAULT_TIMING } from '../src/plan/plan.js';
import { seededRandom } from '../src/plan/prng.js';
import { simulate, type Trace } from '../src/plan/simulate.js';
import { runSweep } from '../src/plan/sweep.js';
import { poissonTrace } from '../src/plan/traffic.js';
import { printTable, type Row } from './lib/measure.js';

const MODELS = 1000;
const REQUESTS = 10_000_000;
const GiB = 1024 ** 3;
const rows: Row[] = [];
const now = () => performance.now();

const random = seededRandom(42);
const weights = Array.from({ length: MODELS }, (_, i) => 1 / (i + 1));
const modelBytes = new Float64Array(MODELS).map(() => Math.round((10 + random() * 190) * 1e6));
const shared = { ...DEFAULT_TIMING, modelBytes };

let t = now();
const trace = poissonTrace(weights, { ratePerMs: REQUESTS / 3_600_000, durationMs: 3_600_000, seed: 1 });
const genMs = now() - t;

// One candidate: an ml.m5.4xlarge-like instance (16 vCPUs, 63 GiB usable), 10 M requests.
t = now();
const oneCpu0 = process.cpuUsage();
const one = simulate(trace, { ...shared, instances: 1, vcpus: 16, memoryBytes: 63 * GiB });
const oneMs = now() - t;
const oneCpuMs = (process.cpuUsage(oneCpu0).user + process.cpuUsage(oneCpu0).system) / 1000;

// The sweep: the 12 built-in types, one instance each, on as many threads as cores.
const threads = os.availableParallelism();
const catalog = builtInCatalog();
t = now();
const cpu0 = process.cpuUsage();
const sweep = await runSweep(
  trace,
  shared,
  catalog.map((c) => ({ candidates: [{ instances: 1, vcpus: c.vcpus, memoryBytes: c.memoryBytes - GiB }] })),
  threads,
);
const sweepMs = now() - t;
const cpu = process.cpuUsage(cpu0);
const sweepCpuMs = (cpu.user + cpu.system) / 1000;
const rssMB = process.resourceUsage().maxRSS / 1024;

// The reference: a Map-based LRU, hits only.
t = now();
const naive = mapLru(trace, modelBytes, 63 * GiB);
const naiveMs = now() - t;
if (naive !== one.hits) console.log(`note: the Map LRU counted ${naive} hits, the simulator ${one.hits} (loads in progress count as misses there)`);

rows.push({
  name: `simulate ${fmt(trace.length)} requests, ${MODELS} models, 1 candidate`,
  ours: oneMs,
  reference: naiveMs,
  referenceName: 'Map-based LRU, hits only',
  goal: 5000,
  goalOn: 'value',
});
rows.push({
  name: '  the same, CPU time (its wall time on an idle core)',
  ours: oneCpuMs,
  reference: NaN,
  referenceName: `load average ${os.loadavg()[0].toFixed(1)}`,
  goal: 5000,
  goalOn: 'value',
});
rows.push({
  name: 'requests simulated per second (1 candidate)',
  ours: trace.length / (oneMs / 1000) / 1e6,
  reference: trace.length / (naiveMs / 1000) / 1e6,
  referenceName: 'Map-based LRU',
  unit: 'M/s',
  higherIsBetter: true,
  goal: 1,
});
rows.push({
  name: `sweep of 12 candidates on ${threads} threads`,
  ours: sweepMs,
  reference: oneMs * 12,
  referenceName: '12 × one candidate, one thread',
  goal: 15000,
  goalOn: 'value',
});
rows.push({
  name: `sweep CPU time ÷ ${threads} threads (its wall time on an idle machine)`,
  ours: sweepCpuMs / threads,
  reference: NaN,
  referenceName: `load average ${os.loadavg()[0].toFixed(1)} during the run`,
  goal: 15000,
  goalOn: 'value',
});
rows.push({
  name: 'peak RSS, trace of 10 M requests held',
  ours: rssMB,
  reference: NaN,
  referenceName: `${fmt(REQUESTS)} × 12 B of typed arrays = ${((trace.length * 12) / 1e6).toFixed(0)} MB`,
  unit: 'MB',
  goal: 300,
  goalOn: 'value',
});
rows.push({ name: 'trace generation (Poisson, alias sampling)', ours: genMs, reference: NaN, referenceName: 'informative' });

// The whole command: 1,000 models (a CSV), a weights file, 10 M requests, 12 types, the curve; no hybrid search.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-bench-plan-'));
try {
  fs.writeFileSync(path.join(work, 'models.csv'), Array.from(modelBytes, (b, i) => `m${i}.tar.gz,${b}`).join('\n') + '\n');
  fs.writeFileSync(path.join(work, 'weights.txt'), weights.map((w, i) => `m${i}.tar.gz ${Math.max(1, Math.round(w * 10000))}`).join('\n') + '\n');
  t = now();
  const timeBin = fs.existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'maxrss=%M'] : [];
  const [cmd, ...pre] = [...timeBin, process.execPath];
  const r = spawnSync(
    cmd,
    [
      ...pre,
      MME,
      'plan',
      '--models',
      path.join(work, 'models.csv'),
      '--traffic',
      path.join(work, 'weights.txt'),
      '--rate',
      `${REQUESTS}/h`,
      '--hybrid-max',
      '0',
      '--json',
    ],
    { env: baseEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const cliMs = now() - t;
  if (r.status !== 0) throw new Error(`mme plan failed: ${r.stderr}`);
  rows.push({ name: 'mme plan, 10 M requests, 12 types + memory curve (CLI)', ours: cliMs, reference: NaN, referenceName: 'informative' });
  const maxrss = /maxrss=(\d+)/.exec(r.stderr)?.[1];
  if (maxrss)
    rows.push({
      name: 'mme plan (CLI) peak RSS',
      ours: Number(maxrss) / 1024,
      reference: NaN,
      referenceName: '/usr/bin/time',
      unit: 'MB',
      goal: 300,
      goalOn: 'value',
    });
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

printTable(rows);
console.log(
  `hit ratio of the one candidate ${(one.hits / one.requests).toFixed(4)}, of the sweep ${sweep.map((s) => (s.sims[0]!.hits / s.sims[0]!.requests).toFixed(3)).join(' ')}`,
);

function mapLru(tr: Trace, bytes: Float64Array, cap: number): number {
  const lru = new Map<number, true>();
  let used = 0;
  let hits = 0;
  for (let r = 0; r < tr.length; r++) {
    const m = tr.models[r];
    if (lru.delete(m)) {
      hits++;
      lru.set(m, true);
      continue;
    }
    while (used + bytes[m] > cap && lru.size) {
      const victim = lru.keys().next().value as number;
      lru.delete(victim);
      used -= bytes[victim];
    }
    lru.set(m, true);
    used += bytes[m];
  }
  return hits;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
