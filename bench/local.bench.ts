/**
 * `mme local` over HTTP vs the way the SageMaker XGBoost container serves a model (Flask under gunicorn, one worker
 * per core, CSV → DMatrix → Booster.predict: bench/reference/server.py), same model, same load, same run.
 * Run: npm run build && node --import tsx bench/local.bench.ts
 * Needs Debian's python3-xgboost, python3-flask and gunicorn (apt-get install -y python3-xgboost python3-flask
 * gunicorn); skipped with a note when they are missing. Talks to 127.0.0.1 only; everything lives in a temp folder.
 *
 * Models: random full trees of depth 10 (2047 nodes), 50 features, binary:logistic, written as an xgboost JSON
 * document (as in bench/xgboost.bench.ts; training on 2 cores takes minutes), loaded by xgboost, saved as the
 * container's `xgboost-model` (legacy binary). 600 trees make a 20 MB .tar.gz (the cold-start artifact); its first
 * 300 trees (a 10 MB .tar.gz) are the warm model. Both are packaged with `mme package` into a file:// prefix.
 *
 * Warm: autocannon (in this process) sends single-row text/csv invocations over keep-alive connections, rows rotating
 * through 256 random ones (5% missing values). Servers alternate in rounds after a warm-up each, so a change in the
 * machine's load weighs on both alike. Latency percentiles come from every response's own time (autocannon's
 * histogram only keeps whole milliseconds). Server CPU per request is read from /proc: on a shared machine it moves
 * much less than requests per second.
 * Cold: the first invocation of a model the endpoint has never seen (download from the file prefix, extract, load,
 * score), each time under a new name, median of COLD_RUNS; GET /models/{name} splits it into download+extract and
 * load. Reference: python copies the same artifact, extracts it with tarfile, loads it with xgboost and scores one row
 * (one helper process, its runs alternating with ours).
 * Mixed (informative; the reference serves one model and has no equivalent): warm traffic on mme local while new
 * 20 MB models are called a second apart: what a cold start costs the other models' callers, and itself, on an MME.
 *
 * Goals (issue 5): warm ≥ 5,000 requests/s and p99 < 5 ms on 2 cores; ≥ 3× the reference's throughput; cold start
 * of the 20 MB artifact < 300 ms.
 * Knobs (environment): MME_BENCH_SECONDS (load per server, default 10), MME_BENCH_CONNECTIONS (default 10).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { baseEnv, MME, ROOT } from '../test/helpers/cli.js';
import { printTable, type Row } from './lib/measure.js';

const PYTHON = '/usr/bin/python3';
const REFERENCE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference');
const LIB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
const SECONDS = positive(process.env.MME_BENCH_SECONDS, 10);
const CONNECTIONS = positive(process.env.MME_BENCH_CONNECTIONS, 10);
const ROUNDS = 2;
const WARMUP_SECONDS = 2;
const COLD_RUNS = 5;
/** Cold loads of the 20 MB artifact made while warm traffic runs (the MME case: other models keep being called). */
const BUSY_COLD_LOADS = 3;
const N_FEATURES = 50;
const N_ROWS = 256;
const ENDPOINT = 'local-mme';
const CORES = os.availableParallelism();

// ---- models --------------------------------------------------------------------------------------------------------

const PY_MODELS = String.raw`
import os, sys
import numpy as np
import xgboost as xgb

out = sys.argv[1]
rng = np.random.default_rng(42)
TREES, WARM_TREES, DEPTH, F = 600, 300, 10, ${N_FEATURES}
sys.path.insert(0, ${JSON.stringify(LIB_DIR)})
from synthetic_model import synthetic_booster
booster = synthetic_booster(rng, TREES, DEPTH, F, out)
for name, model in (("cold", booster), ("warm", booster[0:WARM_TREES])):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    model.save_model(os.path.join(out, name, "xgboost-model"))
print(xgb.__version__)
`;

/**
 * The reference's cold start as a helper process (imports paid once): for each artifact path read on stdin, "download"
 * (copy), extract with tarfile, load with xgboost and score one row; prints {"ms": …} per line.
 */
const PY_COLD = String.raw`
import json, os, shutil, sys, tarfile, tempfile, time
import numpy as np
import xgboost as xgb

row = sys.argv[1]
for line in sys.stdin:
    artifact = line.strip()
    work = tempfile.mkdtemp()
    t = time.perf_counter()
    local = os.path.join(work, "model.tar.gz")
    shutil.copyfile(artifact, local)
    with tarfile.open(local) as tar:
        tar.extractall(os.path.join(work, "model"))
    booster = xgb.Booster(model_file=os.path.join(work, "model", "xgboost-model"))
    booster.set_param({"nthread": 1})
    values = np.array([["nan" if v == "" else v for v in row.split(",")]]).astype(float)
    booster.predict(xgb.DMatrix(values), validate_features=False)
    ms = (time.perf_counter() - t) * 1e3
    shutil.rmtree(work)
    print(json.dumps({"ms": ms}), flush=True)
`;

// ---- small helpers -------------------------------------------------------------------------------------------------

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const loadAvg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** 256 single CSV rows, N(0,1) with 5% empty (missing) fields, from a fixed seed. */
function makeRows(): Buffer[] {
  let s = 0x9e3779b9;
  const uniform = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return Array.from({ length: N_ROWS }, () => Buffer.from(Array.from({ length: N_FEATURES }, () => (uniform() < 0.05 ? '' : normal().toFixed(6))).join(',')));
}

function missingPrerequisite(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (apt-get install -y python3-xgboost python3-flask gunicorn)`;
  const probe = spawnSync(PYTHON, ['-c', 'import xgboost, numpy, flask'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return `${PYTHON} cannot import xgboost/flask (apt-get install -y python3-xgboost python3-flask): ${probe.stderr.trim().split('\n').pop()}`;
  }
  if (gunicorn() === undefined) return 'gunicorn not found (apt-get install -y gunicorn)';
  if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) return 'dist/cli.js not found: run npm run build first';
  return undefined;
}

function gunicorn(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v gunicorn'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function python(script: string, args: string[], dir: string): string {
  const file = path.join(dir, `script-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(file, script);
  const r = spawnSync(PYTHON, [file, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 24 });
  rmSync(file, { force: true });
  if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}`);
  return r.stdout.trim();
}

/** PY_COLD as a long-lived process, so that its runs can alternate with ours. */
function startPythonColdStart(dir: string, row: string) {
  const file = path.join(dir, 'cold-start.py');
  writeFileSync(file, PY_COLD);
  const child = spawn(PYTHON, [file, row], { env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = collect(child);
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async run(artifact: string): Promise<number> {
      child.stdin!.write(artifact + '\n');
      const line = await lines.next();
      if (line.done) throw new Error(`the python cold-start helper stopped:\n${stderr()}`);
      return (JSON.parse(line.value) as { ms: number }).ms;
    },
    close: () => child.stdin!.end(),
  };
}

// ---- processes -----------------------------------------------------------------------------------------------------

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

function collect(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.on('data', (c: Buffer) => {
    text = (text + c.toString()).slice(-20_000);
  });
  return () => text;
}

/** `mme local --port 0 --json`: resolves once its one JSON line (with the port) is on stdout. */
function startMmeLocal(prefix: string, cacheDir: string, preload: string): Promise<Server> {
  const args = [
    MME,
    'local',
    '--port',
    '0',
    '--json',
    '--prefix',
    `file://${prefix}/`,
    '--cache-dir',
    cacheDir,
    '--endpoint-name',
    ENDPOINT,
    '--models-preload',
    preload,
  ];
  const child = spawn(process.execPath, args, { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = collect(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      try {
        const info = JSON.parse(out.slice(0, nl)) as { result: { url: string } };
        resolve({ name: 'mme local', child, url: info.result.url, stderr });
      } catch {
        reject(new Error(`mme local printed something else than its JSON line: ${out}\n${stderr()}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`mme local exited (${code}) before listening:\n${stderr()}`)));
  });
}

async function startReference(modelDir: string): Promise<Server> {
  const port = await freePort();
  const args = [
    '--workers',
    String(CORES),
    '--worker-class',
    'gthread',
    '--threads',
    '1',
    '--keep-alive',
    '30',
    '--bind',
    `127.0.0.1:${port}`,
    '--chdir',
    REFERENCE_DIR,
    '--log-level',
    'warning',
    'server:app',
  ];
  const child = spawn(gunicorn()!, args, { env: { ...process.env, SM_MODEL_DIR: modelDir, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = collect(child);
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 60_000;
  // Every worker loads the model before it answers; poll /ping until two answers in a row (both workers are up).
  let ok = 0;
  while (ok < CORES) {
    if (exited !== undefined) throw new Error(`gunicorn exited (${exited}):\n${stderr()}`);
    if (Date.now() > deadline) throw new Error(`gunicorn did not answer /ping within 60 s:\n${stderr()}`);
    try {
      ok = (await fetch(`${url}/ping`)).status === 200 ? ok + 1 : 0;
    } catch {
      ok = 0;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name: 'gunicorn+Flask+xgboost', child, url, stderr };
}

async function stop(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/** CPU time (user + system, ms) of a process and all its descendants, from /proc; NaN off Linux. */
function treeCpuMs(root: number): number {
  if (!existsSync('/proc/self/stat')) return NaN;
  const tick = 1000 / clockTicks;
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(Number(name), Number(f[1]));
    cpu.set(Number(name), (Number(f[11]) + Number(f[12])) * tick);
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += ms;
        break;
      }
    }
  }
  return total;
}
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

// ---- load ----------------------------------------------------------------------------------------------------------

interface AutocannonResult {
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance {
  stop(): void;
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Target {
  server: Server;
  path: string;
  headers: Record<string, string>;
}

interface Tally {
  requests: number;
  seconds: number;
  failed: number;
  latencies: number[];
  serverCpuMs: number;
  clientCpuMs: number;
}

const newTally = (): Tally => ({ requests: 0, seconds: 0, failed: 0, latencies: [], serverCpuMs: 0, clientCpuMs: 0 });

/** Keep-alive load for `seconds` (or until `until` settles) on one server; adds to `tally` unless it is a warm-up. */
function load(target: Target, rows: Buffer[], seconds: number, tally?: Tally, until?: Promise<unknown>): Promise<void> {
  let next = 0;
  const cpu0 = treeCpuMs(target.server.child.pid!);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.server.url + target.path,
        method: 'POST',
        headers: target.headers,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds,
        requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: rows[next++ % rows.length] }) }],
      },
      (err, result) => {
        if (err) return reject(err);
        if (tally) {
          const client = process.cpuUsage(client0);
          tally.seconds += (performance.now() - t0) / 1000;
          tally.requests += ok;
          tally.failed += result.non2xx + result.errors + result.timeouts;
          tally.serverCpuMs += treeCpuMs(target.server.child.pid!) - cpu0;
          tally.clientCpuMs += (client.user + client.system) / 1000;
        }
        resolve();
      },
    );
    until?.finally(() => instance.stop());
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status !== 200) return;
      ok++;
      tally?.latencies.push(ms);
    });
  });
}

function summarise(t: Tally) {
  const sorted = Float64Array.from(t.latencies).sort();
  return {
    rps: t.requests / t.seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    cpuUsPerRequest: (t.serverCpuMs * 1000) / t.requests,
    clientCores: t.clientCpuMs / 1000 / t.seconds,
    serverCores: t.serverCpuMs / 1000 / t.seconds,
    ...t,
  };
}

async function post(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers, body: new Uint8Array(body) });
  return { status: res.status, text: await res.text() };
}

// ---- main ----------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const missing = missingPrerequisite();
  if (missing) {
    console.log(`local benchmark skipped: ${missing}`);
    return;
  }
  console.log(`machine: ${CORES} cores, load average ${loadAvg()} (shared with others: numbers move with it)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mme-local-bench-'));
  let local: Server | undefined;
  let reference: Server | undefined;
  try {
    // models and artifacts
    let t = performance.now();
    const xgbVersion = python(PY_MODELS, [dir], dir);
    const prefix = path.join(dir, 'prefix');
    mkdirSync(prefix);
    const artifacts: Record<'warm' | 'cold', { path: string; size: number; modelSize: number }> = {} as never;
    for (const kind of ['warm', 'cold'] as const) {
      const out = path.join(prefix, `${kind}.tar.gz`);
      const r = spawnSync(process.execPath, [MME, 'package', path.join(dir, kind), '-o', out, '--json'], { env: baseEnv(), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mme package failed:\n${r.stderr}`);
      artifacts[kind] = { path: out, size: statSync(out).size, modelSize: statSync(path.join(dir, kind, 'xgboost-model')).size };
    }
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(
      `models (xgboost ${xgbVersion}, depth-10 trees, ${N_FEATURES} features, binary:logistic) made in ${((performance.now() - t) / 1000).toFixed(1)} s: ` +
        `warm 300 trees, xgboost-model ${mb(artifacts.warm.modelSize)}, artifact ${mb(artifacts.warm.size)}; ` +
        `cold 600 trees, xgboost-model ${mb(artifacts.cold.modelSize)}, artifact ${mb(artifacts.cold.size)}`,
    );
    // Every cold-start run needs a model the endpoint has never seen: same bytes, new names.
    const coldNames: Record<'warm' | 'cold', string[]> = { warm: [], cold: [] };
    for (const kind of ['warm', 'cold'] as const) {
      for (let i = 1; i <= COLD_RUNS; i++) {
        const name = `${kind}-copy-${i}.tar.gz`;
        copyFileSync(artifacts[kind].path, path.join(prefix, name));
        coldNames[kind].push(name);
      }
    }
    const busyNames = Array.from({ length: BUSY_COLD_LOADS }, (_, i) => `busy-copy-${i + 1}.tar.gz`);
    for (const name of busyNames) copyFileSync(artifacts.cold.path, path.join(prefix, name));
    const rows = makeRows();

    // servers
    t = performance.now();
    local = await startMmeLocal(prefix, path.join(dir, 'cache'), 'warm.tar.gz');
    const localStart = performance.now() - t;
    t = performance.now();
    reference = await startReference(path.join(dir, 'warm'));
    const refStart = performance.now() - t;
    console.log(
      `started mme local in ${localStart.toFixed(0)} ms (preloading warm.tar.gz), ${reference.name} with ${CORES} workers in ${refStart.toFixed(0)} ms`,
    );

    const csv = { 'Content-Type': 'text/csv', Accept: 'text/csv' };
    const targets: Target[] = [
      { server: local, path: `/endpoints/${ENDPOINT}/invocations`, headers: { ...csv, 'X-Amzn-SageMaker-Target-Model': 'warm.tar.gz' } },
      { server: reference, path: '/invocations', headers: csv },
    ];

    // same answers, so that a fast wrong one cannot pass
    let worst = 0;
    for (const row of rows.slice(0, 16)) {
      const [a, b] = await Promise.all(targets.map((tg) => post(tg.server.url + tg.path, tg.headers, row)));
      if (a.status !== 200 || b.status !== 200) throw new Error(`a check request failed: mme ${a.status} ${a.text} / reference ${b.status} ${b.text}`);
      worst = Math.max(worst, Math.abs(Number(a.text) - Number(b.text)));
    }
    if (!(worst <= 1e-6)) throw new Error(`mme local and the reference disagree on the check rows (max difference ${worst})`);

    // cold starts on the running endpoint, alternating with the reference's (each side warmed up once already:
    // ours by the preload, python's by one unmeasured run)
    const pyCold = startPythonColdStart(dir, rows[0].toString());
    type ColdRuns = { first: number[]; download: number[]; load: number[]; reference: number[] };
    const cold: Record<'warm' | 'cold', ColdRuns> = {
      warm: { first: [], download: [], load: [], reference: [] },
      cold: { first: [], download: [], load: [], reference: [] },
    };
    try {
      await pyCold.run(artifacts.warm.path);
      for (const kind of ['cold', 'warm'] as const) {
        for (const name of coldNames[kind]) {
          const started = performance.now();
          const r = await post(local.url + targets[0].path, { ...csv, 'X-Amzn-SageMaker-Target-Model': name }, rows[0]);
          const ms = performance.now() - started;
          if (r.status !== 200) throw new Error(`cold invocation of ${name} failed: ${r.status} ${r.text}`);
          const info = (await (await fetch(`${local.url}/models/${encodeURIComponent(name)}`)).json()) as { downloadMs: number; loadMs: number };
          cold[kind].first.push(ms);
          cold[kind].download.push(info.downloadMs);
          cold[kind].load.push(info.loadMs);
          await fetch(`${local.url}/models/${encodeURIComponent(name)}`, { method: 'DELETE' });
          cold[kind].reference.push(await pyCold.run(artifacts[kind].path));
        }
      }
    } finally {
      pyCold.close();
    }

    // warm load: warm-ups, then rounds alternating between the servers
    console.log(
      `load: ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds × ${SECONDS / ROUNDS} s per server, after ${WARMUP_SECONDS} s warm-ups; load average before ${loadAvg()}`,
    );
    for (const tg of targets) await load(tg, rows, WARMUP_SECONDS);
    const tallies = [newTally(), newTally()];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < targets.length; i++) await load(targets[i], rows, SECONDS / ROUNDS, tallies[i]);
    }

    // mixed: warm traffic on mme local while new 20 MB models are called, one after another, a second apart
    const busyCold: number[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const coldWhileBusy = (async () => {
      for (const name of busyNames) {
        await sleep(1000);
        const started = performance.now();
        const r = await post(local.url + targets[0].path, { ...csv, 'X-Amzn-SageMaker-Target-Model': name }, rows[0]);
        if (r.status !== 200) throw new Error(`cold invocation of ${name} under load failed: ${r.status} ${r.text}`);
        busyCold.push(performance.now() - started);
      }
      await sleep(1000);
    })();
    const mixedTally = newTally();
    await Promise.all([
      load(
        targets[0],
        rows,
        60,
        mixedTally,
        coldWhileBusy.catch(() => undefined),
      ),
      coldWhileBusy,
    ]);
    console.log(`load average after ${loadAvg()}`);
    const [ours, ref] = tallies.map(summarise);
    const mixed = summarise(mixedTally);
    for (const [name, s] of [
      [local.name, ours],
      [reference.name, ref],
    ] as const) {
      console.log(
        `  ${name}: ${s.requests} requests in ${s.seconds.toFixed(1)} s = ${s.rps.toFixed(0)}/s; latency p50 ${s.p50.toFixed(2)} ms, p90 ${s.p90.toFixed(2)} ms, ` +
          `p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(1)} ms; server CPU ${s.cpuUsPerRequest.toFixed(0)} µs/request (${s.serverCores.toFixed(2)} cores), ` +
          `load generator ${s.clientCores.toFixed(2)} cores; failed ${s.failed}`,
      );
    }
    const c = (kind: 'warm' | 'cold') => ({
      first: median(cold[kind].first),
      download: median(cold[kind].download),
      load: median(cold[kind].load),
      reference: median(cold[kind].reference),
    });
    const coldC = c('cold');
    const coldW = c('warm');
    console.log(
      `  cold start (first invocation of a new name, median of ${COLD_RUNS}): ${mb(artifacts.cold.size)} artifact ${coldC.first.toFixed(0)} ms ` +
        `(download+extract ${coldC.download.toFixed(0)} ms, load ${coldC.load.toFixed(0)} ms; runs ${cold.cold.first.map((x) => x.toFixed(0)).join(' ')}); ` +
        `${mb(artifacts.warm.size)} artifact ${coldW.first.toFixed(0)} ms (download+extract ${coldW.download.toFixed(0)} ms, load ${coldW.load.toFixed(0)} ms); ` +
        `python, alternating: ${coldC.reference.toFixed(0)} ms and ${coldW.reference.toFixed(0)} ms`,
    );
    const slow = mixedTally.latencies.filter((ms) => ms > 50).length;
    console.log(
      `  warm traffic while ${BUSY_COLD_LOADS} new ${mb(artifacts.cold.size)} models load: ${mixed.requests} requests in ${mixed.seconds.toFixed(1)} s = ${mixed.rps.toFixed(0)}/s; ` +
        `p50 ${mixed.p50.toFixed(2)} ms, p99 ${mixed.p99.toFixed(2)} ms, max ${mixed.max.toFixed(1)} ms, ${slow} over 50 ms; ` +
        `those cold starts took ${busyCold.map((x) => x.toFixed(0)).join(' and ')} ms (idle: ${coldC.first.toFixed(0)} ms)`,
    );
    // On a busy machine every runnable thread gets a share of the cores: the reference's workers get one each,
    // while mme local answers small requests on one event loop (one core at most). Both always had requests waiting,
    // so whatever they did not use went to other processes; CPU per request moves much less than requests/s.
    if (os.loadavg()[0] > CORES || ours.serverCores < 0.9) {
      console.log(
        `  note: other work is running (load average ${loadAvg()}): mme local's event loop got ${ours.serverCores.toFixed(2)} of the 1 core it can use, ` +
          `the reference's ${CORES} workers ${ref.serverCores.toFixed(2)} of ${CORES}; at ${ours.cpuUsPerRequest.toFixed(0)} µs of CPU per request a whole core ` +
          `would carry about ${(1e6 / ours.cpuUsPerRequest).toFixed(0)} requests/s`,
      );
    }

    const refName = `gunicorn ×${CORES} + Flask + xgboost`;
    const table: Row[] = [
      {
        name: `warm 1-row invocations, ${CONNECTIONS} conns`,
        ours: ours.rps,
        reference: ref.rps,
        referenceName: refName,
        unit: 'req/s',
        goal: 3,
        higherIsBetter: true,
      },
      {
        name: 'warm throughput (absolute goal)',
        ours: ours.rps,
        reference: ref.rps,
        referenceName: refName,
        unit: 'req/s',
        goal: 5000,
        goalOn: 'value',
        higherIsBetter: true,
      },
      { name: 'warm latency p50', ours: ours.p50, reference: ref.p50, referenceName: refName },
      { name: 'warm latency p99', ours: ours.p99, reference: ref.p99, referenceName: refName, goal: 5, goalOn: 'value' },
      { name: 'server CPU per request', ours: ours.cpuUsPerRequest, reference: ref.cpuUsPerRequest, referenceName: refName, unit: 'us' },
      {
        name: `cold start, ${mb(artifacts.cold.size)} artifact`,
        ours: coldC.first,
        reference: coldC.reference,
        referenceName: 'python copy+tarfile+Booster+predict',
        goal: 300,
        goalOn: 'value',
      },
      {
        name: `cold start, ${mb(artifacts.warm.size)} artifact`,
        ours: coldW.first,
        reference: coldW.reference,
        referenceName: 'python copy+tarfile+Booster+predict',
      },
      { name: `cold start, ${mb(artifacts.cold.size)}, under warm traffic`, ours: median(busyCold), reference: NaN, referenceName: 'single-model server' },
      { name: 'warm p99 while models load', ours: mixed.p99, reference: NaN, referenceName: 'single-model server' },
      { name: 'warm max while models load', ours: mixed.max, reference: NaN, referenceName: 'single-model server' },
    ];
    printTable(table);
    if (ours.failed || ref.failed || mixed.failed) {
      console.log(`ERROR: failed requests under load (mme ${ours.failed + mixed.failed}, reference ${ref.failed})`);
      process.exitCode = 1;
    }
  } finally {
    await Promise.all([stop(local), stop(reference)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
