/**
 * `mme local --handler`: warm single-row requests to a trivial model (a linear model on 8 features, stdlib Python
 * handler test/fixtures/handlers/linear_inference.py) through mme local and its Python server, against:
 *   - the same Python server called directly on its contract port (POST /models/{name}/invoke): the difference at
 *     p50 is what the hop through mme local (InvokeEndpoint → the contract) adds. Goal: ≤ 1 ms at p50;
 *   - mme local's built-in XGBoost runtime (a small model, same request shape): what a Python handler costs;
 *   - the gunicorn + Flask + xgboost reference of bench/reference/server.py (the way the XGBoost container serves),
 *     when gunicorn, Flask and xgboost are installed (skipped with a note otherwise).
 * Each server gets the same closed-loop load: CONNECTIONS keep-alive connections for SECONDS, after a warm-up;
 * latency percentiles from every response's own time.
 * Run: npm run build && node --import tsx bench/handler.bench.ts
 * Knobs: MME_BENCH_SECONDS (default 5), MME_BENCH_CONNECTIONS (default 4).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { baseEnv, MME, ROOT } from '../test/helpers/cli.js';
import { printTable, type Row } from './lib/measure.js';

const SECONDS = Number(process.env.MME_BENCH_SECONDS) || 5;
const CONNECTIONS = Number(process.env.MME_BENCH_CONNECTIONS) || 4;
const WARMUP_SECONDS = 1;
const ENDPOINT = 'local-mme';
const HANDLER = path.join(ROOT, 'test', 'fixtures', 'handlers', 'linear_inference.py');
const XGB_MODEL = path.join(ROOT, 'test', 'fixtures', 'xgboost', 'models', 'reg_squarederror', 'xgboost-model.json');
const REFERENCE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference');
const ROW = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'xgboost', 'data', 'dense.csv'), 'utf8').split('\n')[4]; // a row without missing values (the linear handler reads plain floats)

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

/** Closed-loop load: each connection sends the next request when the previous one is answered. */
async function load(url: string, headers: Record<string, string>, body: string, seconds: number, connections = CONNECTIONS): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const u = new URL(url);
  const payload = Buffer.from(body);
  const times: number[] = [];
  const until = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      const req = http.request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': payload.length } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`${url} answered ${res.statusCode}`));
            times.push(performance.now() - t);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  return { rps: times.length / elapsed, p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)] };
}

/** Throughput under CONNECTIONS connections; latency percentiles from one connection (no queueing in them). */
async function measure(url: string, headers: Record<string, string>, body: string): Promise<Result> {
  await load(url, headers, body, WARMUP_SECONDS);
  const busy = await load(url, headers, body, SECONDS);
  const alone = await load(url, headers, body, SECONDS, 1);
  return { rps: busy.rps, p50: alone.p50, p99: alone.p99 };
}

interface Local {
  url: string;
  child: ChildProcess;
  stderr: () => string;
}

function startLocal(args: string[]): Promise<Local> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MME, 'local', '--port', '0', '--json', ...args], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve({ url: JSON.parse(out.split('\n')[0]).result.url, child, stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`mme local exited ${code}: ${err}`)));
  });
}

function run(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, [MME, ...args], { cwd, env: baseEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mme ${args.join(' ')}: ${r.stderr}`);
}

function referenceMissing(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v gunicorn']).status !== 0) return 'gunicorn not found (apt-get install -y gunicorn python3-flask python3-xgboost)';
  if (spawnSync('/usr/bin/python3', ['-c', 'import flask, xgboost']).status !== 0) return 'python3-flask / python3-xgboost not installed';
  return undefined;
}

async function startReference(modelDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const child = spawn(
    'gunicorn',
    ['--workers', String(os.availableParallelism()), '--worker-class', 'gthread', '--bind', `127.0.0.1:${port}`, '--chdir', REFERENCE_DIR, 'server:app'],
    {
      env: { ...process.env, SM_MODEL_DIR: modelDir, OMP_NUM_THREADS: '1' },
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url: `http://127.0.0.1:${port}/invocations`, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('gunicorn reference did not start');
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-bench-handler-'));
  const started: ChildProcess[] = [];
  try {
    const linearDir = path.join(work, 'linear');
    fs.mkdirSync(linearDir);
    fs.writeFileSync(path.join(linearDir, 'model.json'), JSON.stringify({ weights: [1, 2, 3, 4, 5, 6, 7, 8], bias: 0.5 }));
    const xgbDir = path.join(work, 'xgb');
    fs.mkdirSync(xgbDir);
    fs.copyFileSync(XGB_MODEL, path.join(xgbDir, 'xgboost-model'));
    const prefix = `file://${path.join(work, 'prefix')}/`;
    for (const [dir, name] of [
      [linearDir, 'linear.tar.gz'],
      [xgbDir, 'xgb.tar.gz'],
    ]) {
      run(['package', dir, '-o', path.join(work, name)], work);
      run(['push', path.join(work, name), '--prefix', prefix], work);
    }
    const headers = (target: string) => ({ 'content-type': 'text/csv', accept: 'application/json', 'x-amzn-sagemaker-target-model': target });

    const handler = await startLocal(['--prefix', prefix, '--cache-dir', path.join(work, 'cache-h'), '--handler', HANDLER, '--workers', '0']);
    started.push(handler.child);
    const viaMme = await measure(`${handler.url}/endpoints/${ENDPOINT}/invocations`, headers('linear.tar.gz'), ROW);
    const port = /on port (\d+)/.exec(handler.stderr())![1];
    const models = (await (await fetch(`http://127.0.0.1:${port}/models`)).json()) as { models: { modelName: string }[] };
    const direct = await measure(
      `http://127.0.0.1:${port}/models/${encodeURIComponent(models.models[0].modelName)}/invoke`,
      { 'content-type': 'text/csv', accept: 'application/json' },
      ROW,
    );
    handler.child.kill('SIGTERM');

    const builtin = await startLocal(['--prefix', prefix, '--cache-dir', path.join(work, 'cache-b')]);
    started.push(builtin.child);
    const native = await measure(`${builtin.url}/endpoints/${ENDPOINT}/invocations`, headers('xgb.tar.gz'), ROW);
    builtin.child.kill('SIGTERM');

    let reference: Result | undefined;
    const missing = referenceMissing();
    if (!missing) {
      const ref = await startReference(xgbDir);
      started.push(ref.child);
      reference = await measure(ref.url, { 'content-type': 'text/csv' }, ROW);
      ref.child.kill('SIGTERM');
    }

    console.log(
      `warm single-row requests: req/s over ${CONNECTIONS} keep-alive connections, p50/p99 over one (no queueing); ${SECONDS} s each, ${os.availableParallelism()} cores`,
    );
    const refName = 'gunicorn+Flask+xgboost';
    const rows: Row[] = [
      {
        name: '--handler via mme local: req/s',
        ours: viaMme.rps,
        reference: native.rps,
        referenceName: 'built-in runtime',
        unit: 'req/s',
        higherIsBetter: true,
      },
      { name: '--handler via mme local: p99', ours: viaMme.p99, reference: native.p99, referenceName: 'built-in runtime' },
      {
        name: '--handler via mme local: req/s',
        ours: viaMme.rps,
        reference: reference?.rps ?? NaN,
        referenceName: reference ? refName : `${refName}: ${missing}`,
        unit: 'req/s',
        higherIsBetter: true,
      },
      { name: '--handler via mme local: p99', ours: viaMme.p99, reference: reference?.p99 ?? NaN, referenceName: reference ? refName : 'skipped' },
      { name: '--handler via mme local: p50', ours: viaMme.p50, reference: direct.p50, referenceName: 'handler server called directly' },
      {
        name: 'contract hop added at p50 (mme local − direct)',
        ours: viaMme.p50 - direct.p50,
        reference: NaN,
        referenceName: 'goal ≤ 1 ms',
        goal: 1.0001,
        goalOn: 'value',
      },
    ];
    printTable(rows);
    console.log(
      `direct to the handler server: ${direct.rps.toFixed(0)} req/s, p50 ${direct.p50.toFixed(2)} ms, p99 ${direct.p99.toFixed(2)} ms; ` +
        `built-in runtime: ${native.rps.toFixed(0)} req/s, p50 ${native.p50.toFixed(2)} ms, p99 ${native.p99.toFixed(2)} ms`,
    );
  } finally {
    for (const c of started) if (c.exitCode === null) c.kill('SIGTERM'); // mme local stops its container
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
