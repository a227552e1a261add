// `mme stats` end to end: metrics are seeded into moto_server with PutMetricData straight from the SDK (not through
// mme), then the built binary is run and its numbers are checked against arithmetic done here on the seeds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CloudWatchClient, GetMetricStatisticsCommand, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { baseEnv, MME, mme, ROOT, tempDir, type RunResult } from './helpers/cli.js';
import { mapLimit } from '../src/util/map-limit.js';
import { skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

const MIN = 60_000;
// A 10-minute window that ended 20 minutes ago: all its data is 1-minute data, and nothing is written to it later.
const T0 = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;
const START = new Date(T0).toISOString();
const END = new Date(T0 + 10 * MIN).toISOString();
const at = (minute: number, seconds = 10) => new Date(T0 + minute * MIN + seconds * 1000);

const SM = 'AWS/SageMaker';
const EP = '/aws/sagemaker/Endpoints';

let moto: Moto;
let dir: string;
let env: Record<string, string>;

async function seed(url: string): Promise<void> {
  const cw = new CloudWatchClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    disableRequestCompression: true,
  });
  const put = async (namespace: string, endpoint: string, variant: string, data: Omit<MetricDatum, 'Dimensions'>[]) => {
    const dims = [
      { Name: 'EndpointName', Value: endpoint },
      { Name: 'VariantName', Value: variant },
    ];
    await cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.map((d) => ({ ...d, Dimensions: dims })) }));
  };
  const us = 'Microseconds' as const;
  // fleet "tail": a thrashing endpoint. Minute 0 and minute 1 of the window have data; the rest has none.
  await put(SM, 'fraud-tail-mme', 'AllTraffic', [
    // 8 hits of 10, then 21 of 30: 29/40 = 0.725 (the mean of the two minutes' ratios would be 0.75)
    { MetricName: 'ModelCacheHit', Timestamp: at(0), Values: [1, 0], Counts: [8, 2], Unit: 'None' },
    { MetricName: 'ModelCacheHit', Timestamp: at(1), StatisticValues: { SampleCount: 30, Sum: 21, Minimum: 0, Maximum: 1 }, Unit: 'None' },
    // outside the window on both sides: must not count
    { MetricName: 'ModelCacheHit', Timestamp: at(-2), Values: [0], Counts: [50], Unit: 'None' },
    { MetricName: 'ModelCacheHit', Timestamp: at(10, 5), Values: [0], Counts: [50], Unit: 'None' },
    // waits 200, 600 and 1300 ms: mean 700 ms (per-minute means 400 and 1300 would average 850), max 1300 ms
    { MetricName: 'ModelLoadingWaitTime', Timestamp: at(0), Values: [200_000, 600_000], Unit: us },
    { MetricName: 'ModelLoadingWaitTime', Timestamp: at(1), Value: 1_300_000, Unit: us },
    { MetricName: 'ModelDownloadingTime', Timestamp: at(0), Value: 150_000, Unit: us },
    { MetricName: 'ModelLoadingTime', Timestamp: at(0), StatisticValues: { SampleCount: 3, Sum: 300_000, Minimum: 50_000, Maximum: 200_000 }, Unit: us },
    // 12 unloads, mean (6 x 20 ms + 6 x 40 ms) / 12 = 30 ms
    { MetricName: 'ModelUnloadingTime', Timestamp: at(0), Values: [20_000], Counts: [6], Unit: us },
    { MetricName: 'ModelUnloadingTime', Timestamp: at(1), Values: [40_000], Counts: [6], Unit: us },
    { MetricName: 'Invocations', Timestamp: at(0), Value: 10, Unit: 'None' },
    { MetricName: 'Invocations', Timestamp: at(1), Value: 30, Unit: 'None' },
    // 4, 8 and 18 ms: mean 10 ms
    { MetricName: 'ModelLatency', Timestamp: at(0), Values: [4000, 8000], Unit: us },
    { MetricName: 'ModelLatency', Timestamp: at(1), Value: 18_000, Unit: us },
    { MetricName: 'OverheadLatency', Timestamp: at(0), Value: 2000, Unit: us },
    { MetricName: 'Invocation4XXErrors', Timestamp: at(0), Values: [0, 1], Counts: [9, 1], Unit: 'None' },
    // no Invocation5XXErrors at all: "no data", not 0
  ]);
  await put(EP, 'fraud-tail-mme', 'AllTraffic', [
    { MetricName: 'LoadedModelCount', Timestamp: at(0), Values: [10, 14], Unit: 'None' },
    { MetricName: 'LoadedModelCount', Timestamp: at(1), Value: 12, Unit: 'None' },
    { MetricName: 'CPUUtilization', Timestamp: at(0), Values: [150, 50], Unit: 'Percent' },
    { MetricName: 'MemoryUtilization', Timestamp: at(0), Values: [80, 90], Unit: 'Percent' },
    // no DiskUtilization
  ]);
  // Same endpoint, another variant: must not mix with AllTraffic.
  await put(SM, 'fraud-tail-mme', 'Blue', [{ MetricName: 'ModelCacheHit', Timestamp: at(0), Values: [1, 0], Counts: [1, 1], Unit: 'None' }]);
  // fleet "head": healthy.
  await put(SM, 'fraud-head-mme', 'AllTraffic', [
    { MetricName: 'ModelCacheHit', Timestamp: at(3), Values: [1], Counts: [100], Unit: 'None' },
    { MetricName: 'Invocations', Timestamp: at(3), Value: 100, Unit: 'None' },
    { MetricName: 'ModelLatency', Timestamp: at(3), Value: 3000, Unit: us },
  ]);
}

before(async () => {
  if (skipWithoutMoto) return;
  moto = await startMoto();
  await seed(moto.url);
  dir = tempDir('mme-stats-');
  fs.writeFileSync(
    path.join(dir, 'mme.config.json'),
    JSON.stringify({
      defaultFleet: 'tail',
      fleets: {
        tail: { endpointName: 'fraud-tail-mme', endpointUrl: moto.url },
        head: { endpointName: 'fraud-head-mme', endpointUrl: moto.url },
        'tail-blue': { endpointName: 'fraud-tail-mme', variant: 'Blue', endpointUrl: moto.url },
        dev: { prefix: 'file://./models/' },
      },
    }),
  );
  env = {};
});

after(async () => {
  await moto?.stop();
});

const stats = (args: string[], extraEnv: Record<string, string | undefined> = {}) => mme(['stats', ...args], { cwd: dir, env: { ...env, ...extraEnv } });
const WINDOW = ['--start', START, '--end', END];

/** One stderr line for the person, no stack trace. */
function assertOneLine(r: RunResult, pattern: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

const TAIL = {
  'cache-hit': 0.725,
  requests: 40,
  'load-wait-avg': 700,
  'load-wait-max': 1300,
  'load-wait-p99': null, // moto 5.2 cannot compute percentiles: shown as no data
  'download-avg': 150,
  'download-max': 150,
  'load-avg': 100,
  'load-max': 200,
  unloads: 12,
  'unload-avg': 30,
  'loaded-models': 12,
  'loaded-models-max': 14,
  invocations: 40,
  'latency-avg': 10,
  'latency-p99': null,
  'overhead-avg': 2,
  'overhead-p99': null,
  'errors-4xx': 1,
  'errors-5xx': null,
  cpu: 100,
  'cpu-max': 150,
  memory: 85,
  'memory-max': 90,
  disk: null,
  'disk-max': null,
};

describe('mme stats', { skip: skipWithoutMoto }, () => {
  test('--json: the summary over the window, weighted correctly, ms units, no data as null', async () => {
    const r = await stats([...WINDOW, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json.result;
    assert.equal(r.json.status, 'success');
    assert.deepEqual(res.window, { start: START.replace('.000Z', 'Z'), end: END.replace('.000Z', 'Z'), seconds: 600, period: null });
    assert.equal(res.fleets.length, 1);
    const f = res.fleets[0];
    assert.deepEqual(
      { fleet: f.fleet, endpoint: f.endpoint, variant: f.variant, region: f.region },
      { fleet: 'tail', endpoint: 'fraud-tail-mme', variant: 'AllTraffic', region: 'us-east-1' },
    );
    assert.deepEqual(f.summary, TAIL);
    // Keys in the documented fixed order.
    assert.deepEqual(Object.keys(f.summary), Object.keys(TAIL));
    assert.equal(res.units['load-wait-p99'], 'ms');
    assert.equal(res.units['cache-hit'], 'ratio');
    assert.equal(res.units.cpu, 'percent');
    assert.deepEqual(
      f.diagnosis.map((d: { code: string }) => d.code),
      ['thrashing', 'load-wait-dominates'],
    );
    // Everything in one request, percentiles in one more (kept apart for emulators), which moto fails.
    assert.deepEqual(res.cloudwatch, { requests: 2, queries: 26 });
    assert.match(res.warnings[0], /could not compute percentile statistics \(GetMetricData failed: HTTP 500\)/);
    assert.match(r.stderr, /warning: .*percentile/);
    assert.doesNotMatch(r.stderr, /\u001b\[/); // no colour off a terminal
  });

  test('--output json prints the same document as --json', async () => {
    const [a, b] = await Promise.all([stats([...WINDOW, '--json']), stats([...WINDOW, '--output', 'json'])]);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(b.json, a.json);
  });

  test('table: one row per metric with units, "no data", and the diagnosis', async () => {
    const r = await stats(WINDOW);
    assert.equal(r.code, 0, r.stderr);
    // Piped: tab-separated rows with a header row; window and diagnosis on stderr.
    const rows = new Map(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    assert.equal(rows.get('metric'), 'tail');
    assert.equal(rows.get('endpoint'), 'fraud-tail-mme/AllTraffic');
    assert.equal(rows.get('cache-hit'), '72.5%');
    assert.equal(rows.get('requests'), '40');
    assert.equal(rows.get('load-wait-avg'), '700 ms');
    assert.equal(rows.get('load-wait-max'), '1300 ms');
    assert.equal(rows.get('load-wait-p99'), 'no data');
    assert.equal(rows.get('latency-avg'), '10.0 ms');
    assert.equal(rows.get('overhead-avg'), '2.00 ms');
    assert.equal(rows.get('errors-5xx'), 'no data');
    assert.equal(rows.get('cpu'), '100.0%');
    assert.equal(rows.get('disk'), 'no data');
    assert.equal(rows.size, 28);
    assert.match(r.stderr, /^window \S+ \S+ to \S+ \S+ \(10m\)$/m);
    assert.match(
      r.stderr,
      /diagnosis: working set does not fit \(thrashing\): 72\.5% cache hits and 12 unloads for 11 misses\. AWS recommends more memory per instance \(a larger instance type\) or more instances\./,
    );
    assert.match(r.stderr, /diagnosis: model load wait dominates latency: 192\.5 ms per request/);
  });

  test('--output csv: header row, one row per fleet, empty fields for no data', async () => {
    const r = await stats([...WINDOW, '--output', 'csv']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row, ...rest] = r.stdout.split('\r\n');
    assert.deepEqual(rest, ['']);
    const names = header.split(',');
    assert.deepEqual(names.slice(0, 5), ['fleet', 'endpoint', 'variant', 'start', 'end']);
    assert.deepEqual(names.slice(5), Object.keys(TAIL));
    const cells = row.split(',');
    assert.deepEqual(cells.slice(0, 3), ['tail', 'fraud-tail-mme', 'AllTraffic']);
    const expected = Object.values(TAIL).map((v) => (v === null ? '' : String(v)));
    assert.deepEqual(cells.slice(5), expected);
  });

  test('--output prom: valid exposition, seconds and ratios, one HELP/TYPE per family, no sample without data', async () => {
    const r = await stats(['--all-fleets', ...WINDOW, '--output', 'prom']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const helps = lines.filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
    const types = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    assert.deepEqual(types, helps);
    assert.equal(new Set(types).size, types.length, 'each family declared once');
    for (const l of lines.filter((x) => !x.startsWith('#'))) {
      assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="(?:[^"\\\n]|\\.)*"(,[a-z_]+="(?:[^"\\\n]|\\.)*")*\})? -?[0-9.e+-]+$/, l);
      assert.ok(types.includes(l.split(/[{ ]/)[0]), `sample of an undeclared family: ${l}`);
    }
    const sample = (name: string, fleet: string, variant = 'AllTraffic') => {
      const ep = fleet === 'head' ? 'fraud-head-mme' : 'fraud-tail-mme';
      const line = lines.find((l) => l.startsWith(`${name}{fleet="${fleet}",endpoint="${ep}",variant="${variant}"} `));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    assert.equal(sample('mme_model_cache_hit_ratio', 'tail'), 0.725);
    assert.equal(sample('mme_model_cache_hit_ratio', 'head'), 1);
    assert.equal(sample('mme_model_cache_hit_ratio', 'tail-blue', 'Blue'), 0.5);
    assert.equal(sample('mme_model_loading_wait_average_seconds', 'tail'), 0.7);
    assert.equal(sample('mme_model_loading_wait_max_seconds', 'tail'), 1.3);
    assert.equal(sample('mme_model_unloads', 'tail'), 12);
    assert.equal(sample('mme_cpu_utilization_max_ratio', 'tail'), 1.5);
    assert.equal(sample('mme_memory_utilization_average_ratio', 'tail'), 0.85);
    assert.equal(sample('mme_model_latency_average_seconds', 'head'), 0.003);
    assert.equal(sample('mme_disk_utilization_average_ratio', 'tail'), undefined, 'no data: no sample');
    assert.equal(sample('mme_model_loading_wait_p99_seconds', 'tail'), undefined);
    assert.ok(lines.includes('mme_stats_window_seconds 600'));
    // An independent parser (prometheus_client, where the Python that runs moto has it) reads it all.
    const py = spawnSync(
      'python3',
      ['-c', 'import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\nprint(sum(len(f.samples) for f in p(sys.stdin.read())))'],
      { input: r.stdout, encoding: 'utf8' },
    );
    if (py.status === 0) assert.equal(Number(py.stdout.trim()), lines.filter((l) => !l.startsWith('#')).length);
    else assert.match(py.stderr, /No module named 'prometheus_client'/);
  });

  test('--fail-if: each breach on its own stderr line, exit 4, data still printed; no data never breaches', async () => {
    const r = await stats([
      ...WINDOW,
      '--json',
      '--fail-if',
      'cache-hit<0.9',
      '--fail-if',
      'load-wait-p99>500ms',
      '--fail-if',
      'unloads>100',
      '--fail-if',
      'latency-avg >= 0.01s',
      '--fail-if',
      'memory>85%',
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(r.json.result.fleets[0].summary, TAIL);
    const breaches = r.stderr.split('\n').filter((l) => l.startsWith('breach:'));
    assert.deepEqual(breaches, [
      "breach: tail (fraud-tail-mme/AllTraffic): cache-hit is 72.5% (--fail-if 'cache-hit<0.9')",
      "breach: tail (fraud-tail-mme/AllTraffic): latency-avg is 10.0 ms (--fail-if 'latency-avg >= 0.01s')",
    ]);
    assert.match(
      r.stderr,
      /warning: tail \(fraud-tail-mme\/AllTraffic\): load-wait-p99 has no data in the window, so --fail-if 'load-wait-p99>500ms' was not checked\./,
    );
    assert.deepEqual(
      r.json.result.checks.map((c: { condition: string; status: string; value: number | null }) => [c.condition, c.status, c.value]),
      [
        ['cache-hit<0.9', 'breach', 0.725],
        ['load-wait-p99>500ms', 'no-data', null],
        ['unloads>100', 'ok', 12],
        ['latency-avg >= 0.01s', 'breach', 10],
        ['memory>85%', 'ok', 85],
      ],
    );
    const ok = await stats([...WINDOW, '--fail-if', 'cache-hit<70%', '--fail-if', 'load-wait-max<=1300001us', '--fail-if', 'errors-5xx>0']);
    assert.equal(ok.code, 4, 'load-wait-max 1300 ms <= 1300.001 ms holds');
    const pass = await stats([...WINDOW, '--output', 'csv', '--fail-if', 'cache-hit<70%', '--fail-if', 'errors-5xx>0', '--fail-if', 'unloads!=12']);
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(pass.stdout, /^fleet,endpoint/);
    assert.match(pass.stderr, /errors-5xx has no data/);
  });

  test('--series: one row per period, no data where CloudWatch has none', async () => {
    const r = await stats([...WINDOW, '--series', '--period', '60', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const f = r.json.result.fleets[0];
    assert.equal(r.json.result.window.period, 60);
    assert.equal(f.series.length, 10);
    assert.equal(f.series[0].timestamp, new Date(T0).toISOString().replace('.000Z', 'Z'));
    assert.equal(f.series[1].timestamp, new Date(T0 + MIN).toISOString().replace('.000Z', 'Z'));
    assert.deepEqual([f.series[0]['cache-hit'], f.series[0].requests, f.series[0]['load-wait-avg'], f.series[0]['loaded-models']], [0.8, 10, 400, 12]);
    assert.deepEqual([f.series[1]['cache-hit'], f.series[1].requests, f.series[1]['load-wait-avg'], f.series[1]['loaded-models']], [0.7, 30, 1300, 12]);
    for (const row of f.series.slice(2)) assert.equal(row['cache-hit'], null);
    // The summary is still the exact window statistic.
    assert.deepEqual(f.summary, TAIL);

    const csv = await stats([...WINDOW, '--series', '--period', '5m', '--output', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\r\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^fleet,endpoint,variant,timestamp,cache-hit,requests,/);
    assert.match(lines[1], /^tail,fraud-tail-mme,AllTraffic,[^,]+,0\.725,40,700,1300,/);
    assert.match(lines[2], /^tail,fraud-tail-mme,AllTraffic,[^,]+,,,/);

    const table = await stats([...WINDOW, '--series']);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 11);
    assert.match(rows[0], /^fleet\ttime\trequests\tcache-hit\t/);
    assert.match(rows[1], /^tail\t\S+ \S+Z\t10\t80\.0%\t400 ms\t/);
  });

  test('--all-fleets: every fleet with an endpoint, by name; prefix-only fleets skipped with a warning', async () => {
    const r = await stats(['--all-fleets', ...WINDOW, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const fleets = r.json.result.fleets;
    assert.deepEqual(
      fleets.map((f: { fleet: string }) => f.fleet),
      ['head', 'tail', 'tail-blue'],
    );
    assert.deepEqual(fleets[1].summary, TAIL);
    assert.equal(fleets[0].summary['cache-hit'], 1);
    assert.equal(fleets[0].summary.requests, 100);
    assert.equal(fleets[0].summary['latency-avg'], 3);
    assert.equal(fleets[0].summary.unloads, null);
    assert.deepEqual(
      fleets[0].diagnosis.map((d: { code: string }) => d.code),
      ['ok'],
    );
    assert.equal(fleets[2].summary['cache-hit'], 0.5);
    assert.equal(fleets[2].summary.requests, 2);
    assert.deepEqual(r.json.result.skipped, [{ fleet: 'dev', reason: `no endpointName in ${path.join(dir, 'mme.config.json')}.` }]);
    assert.match(r.stderr, /warning: fleet dev skipped: no endpointName/);
    assert.deepEqual(r.json.result.cloudwatch, { requests: 2, queries: 78 });

    const table = await stats(['--all-fleets', ...WINDOW, '--fail-if', 'cache-hit<0.9']);
    assert.equal(table.code, 4);
    assert.match(table.stdout, /^metric\thead\ttail\ttail-blue$/m);
    assert.match(table.stdout, /^cache-hit\t100\.0%\t72\.5%\t50\.0%$/m);
    assert.deepEqual(table.stderr.split('\n').filter((l) => l.startsWith('breach:')).length, 2);
    assert.match(table.stderr, /^tail: diagnosis: working set does not fit/m);
    assert.match(table.stderr, /^head: diagnosis: no thrashing/m);
  });

  test('more than 500 queries: split into requests of at most 500, results merged in fleet order', async () => {
    const many = path.join(dir, 'many.json');
    const names = Array.from({ length: 22 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    fs.writeFileSync(many, JSON.stringify({ fleets: Object.fromEntries(names.map((n) => [n, { endpointName: 'fraud-head-mme', endpointUrl: moto.url }])) }));
    const r = await stats(['--config', many, '--all-fleets', ...WINDOW, '--json']);
    assert.equal(r.code, 0, r.stderr);
    // 22 x 23 = 506 plain queries in two requests, 66 percentile queries in a third.
    assert.deepEqual(r.json.result.cloudwatch, { requests: 3, queries: 572 });
    assert.deepEqual(
      r.json.result.fleets.map((f: { fleet: string }) => f.fleet),
      names,
    );
    for (const f of r.json.result.fleets) assert.deepEqual([f.summary.requests, f.summary['cache-hit'], f.summary['latency-avg']], [100, 1, 3]);
  });

  test('--since (ending now or at --end), and an endpoint without data', async () => {
    const r = await stats(['--fleet', 'head', '--since', '1h', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.window.seconds, 3600);
    assert.equal(r.json.result.fleets[0].summary.requests, 100);
    // --since with --end: the same window as --start/--end.
    const ending = await stats(['--end', END, '--since', '10m', '--json']);
    assert.equal(ending.code, 0, ending.stderr);
    assert.equal(ending.json.result.window.start, START.replace('.000Z', 'Z'));
    assert.deepEqual(ending.json.result.fleets[0].summary, TAIL);
    const ghost = await stats(['--endpoint-name', 'ghost-mme', ...WINDOW, '--json', '--fail-if', 'cache-hit<0.9']);
    assert.equal(ghost.code, 0, ghost.stderr);
    const f = ghost.json.result.fleets[0];
    assert.ok(Object.values(f.summary).every((v) => v === null));
    assert.equal(f.diagnosis[0].code, 'no-data');
    assert.match(ghost.stderr, /cache-hit has no data in the window/);
    assert.deepEqual(ghost.json.result.warnings, [], 'no data, so no percentile failure either');
  });

  test('bad input: exit 2 with one clear line, before any request', async () => {
    const noConfig = tempDir('mme-stats-empty-');
    const cases: [string[], RegExp, Record<string, string>?, string?][] = [
      [['--fail-if', 'cachehit<0.9'], /unknown metric "cachehit".*Did you mean cache-hit\?/],
      [['--fail-if', 'cache-hit<<0.9'], /--fail-if 'cache-hit<<0\.9' is not a condition/],
      [['--fail-if', 'cache-hit=0.9'], /is not a condition\. Compare with ==/],
      [['--fail-if', 'load-wait-p99>500'], /load-wait-p99 is a duration and needs a unit/],
      [['--fail-if', 'unloads>5ms'], /"ms" is not a unit for unloads/],
      [['--fail-if', 'cache-hit<90'], /cache-hit is a ratio between 0 and 1/],
      [['--start', END, '--end', START], /the window ends .* before it starts/],
      [['--start', 'yesterday'], /--start "yesterday" is not a time/],
      [['--start', '2026-11-22T01:00'], /--start "2026-11-22T01:00" has no time zone/],
      [['--start', '2999-01-01'], /the window starts in the future/],
      [['--since', '3x'], /--since "3x" is not a duration/],
      [['--since', '90s'], /--since 90s is not a whole number of minutes/],
      [['--since', '1h', '--start', START], /--since and --start both set/],
      [['--period', '90'], /--period 90 is not a multiple of 60 seconds/],
      [['--since', '3d', '--series'], /too many datapoints: a 3d window with --period 60 gives 4320 rows per fleet \(at most 1440\)\. Use --period 180/],
      [['--all-fleets', '--fleet', 'tail'], /--all-fleets and --fleet both choose fleets/],
      [['--all-fleets'], /--all-fleets: env MME_ENDPOINT_NAME would set the endpointName of every fleet/, { MME_ENDPOINT_NAME: 'x' }],
      [['--json', '--output', 'csv'], /--json and --output csv ask for different formats/],
      [['--series', '--output', 'prom'], /--output prom cannot carry --series/],
      [['--endpoint-name', 'bad_name'], /"bad_name" is not a valid endpoint name/],
      [[], /no endpointName configured\. Pass --endpoint-name fraud-mme, set MME_ENDPOINT_NAME/, {}, noConfig],
      [['--all-fleets'], /--all-fleets: no mme\.config\.json found/, {}, noConfig],
    ];
    const results = await mapLimit(cases, 4, ([args, , e, cwd]) =>
      mme(['stats', ...args], { cwd: cwd ?? dir, env: { ...env, ...e, XDG_CONFIG_HOME: noConfig } }),
    );
    results.forEach((r, i) => {
      const [args, pattern] = cases[i];
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assertOneLine(r, pattern);
      if (args.includes('--json')) assert.equal(r.json?.error?.exitCode, 2, args.join(' '));
      else assert.equal(r.stdout, '', args.join(' '));
    });
    // Commander refuses unknown formats itself, also with exit 2.
    const xml = await stats(['--output', 'xml']);
    assert.equal(xml.code, 2);
    assert.match(xml.stderr, /Allowed choices are table, json, csv, prom/);
    // Under --output json the error is a JSON document on stdout too.
    const j = await stats(['--output', 'json', '--period', '90']);
    assert.equal(j.code, 2);
    assert.equal(j.json.status, 'error');
    assert.equal(j.json.error.exitCode, 2);
    assert.match(j.json.error.message, /--period 90/);
    assertOneLine(j, /--period 90/);
  });

  test('an unreachable CloudWatch endpoint: exit 1, one line', async () => {
    const r = await stats([...WINDOW, '--endpoint-url', 'http://127.0.0.1:9'], { AWS_MAX_ATTEMPTS: '1' });
    assert.equal(r.code, 1);
    assertOneLine(r, /cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});

// moto cannot compute percentiles; `mme local` can. Real traffic through it (SDK InvokeEndpoint), then mme stats'
// numbers, p99 included, must equal what GetMetricStatistics gives for the same window from the same server.
describe('mme stats against mme local (percentiles)', () => {
  let local: ChildProcess | undefined;
  after(() => void local?.kill('SIGTERM'));

  test('p99 and the rest match GetMetricStatistics', async () => {
    const work = tempDir('mme-stats-local-');
    const models = path.join(work, 'models');
    fs.mkdirSync(models);
    const fixtures = path.join(ROOT, 'test', 'fixtures', 'xgboost');
    const packed = await mme(['package', path.join(fixtures, 'models', 'binary_logistic'), path.join(fixtures, 'models', 'count_poisson')], { cwd: models });
    assert.equal(packed.code, 0, packed.stderr);
    const endpoint = 'stats-local-mme';
    local = spawn(
      process.execPath,
      [MME, 'local', '--port', '0', '--json', '--prefix', `file://${models}/`, '--endpoint-name', endpoint, '--cache-dir', path.join(work, 'cache')],
      { env: baseEnv(), stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      local!.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))).result.url);
      });
      local!.once('exit', (code) => reject(new Error(`mme local exited with ${code}`)));
    });
    const rt = new SageMakerRuntimeClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    const row = fs.readFileSync(path.join(fixtures, 'data', 'dense.csv'), 'utf8').split('\n')[1];
    const n = 12;
    for (let i = 0; i < n; i++) {
      await rt.send(
        new InvokeEndpointCommand({
          EndpointName: endpoint,
          TargetModel: i % 2 ? 'count_poisson.tar.gz' : 'binary_logistic.tar.gz',
          ContentType: 'text/csv',
          Body: row,
        }),
      );
    }
    // The current minute is still being written: a window that ends in the future takes it in.
    const now = Math.floor(Date.now() / MIN) * MIN;
    const start = new Date(now - 2 * MIN);
    const end = new Date(now + 2 * MIN);
    const r = await mme(['stats', '--endpoint-name', endpoint, '--endpoint-url', url, '--start', start.toISOString(), '--end', end.toISOString(), '--json'], {
      cwd: work,
    });
    assert.equal(r.code, 0, r.stderr);
    const res = r.json.result;
    assert.deepEqual(res.warnings, []);
    const s = res.fleets[0].summary;
    assert.equal(s.requests, n);
    assert.equal(s.invocations, n);

    const cw = new CloudWatchClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const stat = async (metric: string, statistic: string) => {
      const percentile = statistic.startsWith('p');
      const out = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/SageMaker',
          MetricName: metric,
          StartTime: start,
          EndTime: end,
          Period: 240,
          Dimensions: [
            { Name: 'EndpointName', Value: endpoint },
            { Name: 'VariantName', Value: 'AllTraffic' },
          ],
          ...(percentile ? { ExtendedStatistics: [statistic] } : { Statistics: [statistic as 'Average'] }),
        }),
      );
      assert.equal(out.Datapoints?.length, 1, `${metric} ${statistic}`);
      const d = out.Datapoints![0] as Record<string, any>;
      return percentile ? d.ExtendedStatistics[statistic] : d[statistic];
    };
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${a} != ${b}`);
    assert.equal(typeof s['latency-p99'], 'number');
    assert.equal(typeof s['load-wait-p99'], 'number');
    close(s['latency-p99'], (await stat('ModelLatency', 'p99')) / 1000);
    close(s['overhead-p99'], (await stat('OverheadLatency', 'p99')) / 1000);
    close(s['load-wait-p99'], (await stat('ModelLoadingWaitTime', 'p99')) / 1000);
    close(s['latency-avg'], (await stat('ModelLatency', 'Average')) / 1000);
    close(s['cache-hit'], await stat('ModelCacheHit', 'Average'));
    assert.ok(s['load-wait-p99'] <= s['load-wait-max'] && s['latency-p99'] >= s['latency-avg'] * 0.5);
  });
});
