// `mme stats --all-fleets` for 10 fleets against the usual script: one Python process calling boto3
// get_metric_statistics once per metric and statistic (bench/stats-boto3.py), both reading the same moto_server.
// Both gather the same 26 numbers per fleet; the bench checks that they agree before timing anything.
//
// Two data sets, because moto's cost model differs from CloudWatch's: moto's GetMetricData scans every datapoint of
// the window once per query (sorting each datapoint's dimensions), so with dense data its server time, not the
// client, decides the result. "sparse" measures the tools (round trips, start-up); "dense" shows moto's scan.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { baseEnv, MME, tempDir } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/moto.js';
import { fetchMetrics } from '../src/stats/fetch.js';
import { groupRequests, planQueries, type Target } from '../src/stats/plan.js';
import { resolveWindow } from '../src/stats/window.js';
import { printTable, timeCommand, type Row } from './lib/measure.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FLEETS = 10;
const MIN = 60_000;
const WINDOW_MIN = 60;
const T0 = Math.floor(Date.now() / MIN) * MIN - 2 * WINDOW_MIN * MIN;
const START = new Date(T0).toISOString().replace('.000Z', 'Z');
const END = new Date(T0 + WINDOW_MIN * MIN).toISOString().replace('.000Z', 'Z');
const endpoints = Array.from({ length: FLEETS }, (_, i) => `bench-ep-${i}`);

const SM = [
  'ModelCacheHit',
  'ModelLoadingWaitTime',
  'ModelDownloadingTime',
  'ModelLoadingTime',
  'ModelUnloadingTime',
  'Invocations',
  'ModelLatency',
  'OverheadLatency',
  'Invocation4XXErrors',
  'Invocation5XXErrors',
];
const EP = ['LoadedModelCount', 'CPUUtilization', 'MemoryUtilization', 'DiskUtilization'];

/** One statistic set per metric per minute, as SageMaker publishes them, for `minutes` minutes of the window. */
async function seed(url: string, minutes: number): Promise<number> {
  const cw = new CloudWatchClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    disableRequestCompression: true,
  });
  let count = 0;
  for (const [e, endpoint] of endpoints.entries()) {
    const dims = [
      { Name: 'EndpointName', Value: endpoint },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ];
    for (const [namespace, names] of [
      ['AWS/SageMaker', SM],
      ['/aws/sagemaker/Endpoints', EP],
    ] as const) {
      const data: MetricDatum[] = [];
      for (let m = 0; m < minutes; m++) {
        for (const [k, name] of names.entries()) {
          const v = name === 'ModelCacheHit' ? 0.9 : name.endsWith('Errors') ? 0.01 : 1000 * (k + 1) + e + m;
          const n = 100;
          data.push({
            MetricName: name,
            Dimensions: dims,
            Timestamp: new Date(T0 + m * MIN + 5000),
            StatisticValues: { SampleCount: n, Sum: v * n, Minimum: v / 2, Maximum: v * 2 },
          });
        }
      }
      for (let i = 0; i < data.length; i += 1000) await cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 1000) }));
      count += data.length;
    }
  }
  return count;
}

const dir = tempDir('mme-stats-bench-');
/**
 * Like test/helpers/moto.ts, but the server logs to a file: timeCommand blocks this process in spawnSync, and a piped
 * stderr that nobody drains fills up (moto logs a traceback for every percentile query it fails) until moto, and
 * the command waiting on it, hang.
 */
async function startMotoLogged(logFile: string): Promise<{ url: string; reset(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  const log = fs.openSync(logFile, 'w');
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 20_000; ; ) {
    if (
      await fetch(`${url}/moto-api/`).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`moto_server did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    reset: async () => void (await fetch(`${url}/moto-api/reset`, { method: 'POST' })),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.closeSync(log);
    },
  };
}

const moto = await startMotoLogged(path.join(dir, 'moto.log'));
fs.writeFileSync(
  path.join(dir, 'mme.config.json'),
  JSON.stringify({
    fleets: Object.fromEntries(endpoints.map((ep, i) => [`fleet-${String(i).padStart(2, '0')}`, { endpointName: ep, endpointUrl: moto.url }])),
  }),
);
const env = baseEnv({ AWS_ENDPOINT_URL: undefined });
const mmeArgs = [MME, 'stats', '--all-fleets', '--config', path.join(dir, 'mme.config.json'), '--start', START, '--end', END, '--json'];
const pyArgs = [path.join(here, 'stats-boto3.py'), moto.url, START, END, ...endpoints];

const rows: Row[] = [];
const notes: string[] = [];

/** Median time of the GetMetricData requests alone (mme's own code, no process start-up), to show where time goes. */
async function timeFetch(url: string): Promise<number> {
  const window = resolveWindow({ start: START, end: END });
  const targets: Target[] = endpoints.map((endpoint) => ({
    fleet: endpoint,
    endpoint,
    variant: 'AllTraffic',
    region: 'us-east-1',
    client: { region: 'us-east-1', endpointUrl: url },
  }));
  const queries = planQueries(targets, window, false);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fetchMetrics(groupRequests(queries, targets), targets, window, new AbortController().signal);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[1];
}
try {
  for (const [label, minutes, runs] of [
    ['sparse: 5 min of data', 5, 5],
    ['dense: 60 min of per-minute data', 60, 3],
  ] as const) {
    await moto.reset();
    const datapoints = await seed(moto.url, minutes);
    // Same numbers from both tools, or the timing means nothing.
    const ours = JSON.parse(spawnSync(process.execPath, mmeArgs, { env, encoding: 'utf8' }).stdout).result;
    const py = spawnSync('python3', pyArgs, { env, encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`reference script failed: ${py.stderr}`);
    const theirs = JSON.parse(py.stdout) as Record<string, Record<string, number | null>>;
    for (const f of ours.fleets) {
      for (const [name, v] of Object.entries(f.summary as Record<string, number | null>)) {
        const t = theirs[f.endpoint][name];
        const same = v === null ? t === null : t !== null && Math.abs(v - t) <= 1e-9 * Math.max(1, Math.abs(t));
        if (!same) throw new Error(`${f.endpoint} ${name}: mme ${v}, boto3 ${t}`);
      }
    }
    const name = `stats, ${FLEETS} fleets, ${label} (${datapoints} datapoints)`;
    const oursMs = timeCommand(process.execPath, mmeArgs, runs, env);
    const refMs = timeCommand('python3', pyArgs, runs, env);
    rows.push({ name, ours: oursMs, reference: refMs, referenceName: `boto3 get_metric_statistics x ${26 * FLEETS}`, goal: 0.5 });
    const server = await timeFetch(moto.url);
    notes.push(
      `${label}: mme sent ${ours.cloudwatch.requests} GetMetricData requests for ${ours.cloudwatch.queries} queries (numbers agree with boto3); ` +
        `those requests alone, timed in-process, take ${server.toFixed(0)} ms (moto scans every datapoint of the window once per query).`,
    );
  }
} finally {
  await moto.stop();
}
printTable(rows);
for (const n of notes) console.log(`- ${n}`);
