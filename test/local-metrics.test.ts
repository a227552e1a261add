// The local endpoint's metrics (issue 5): a recorder fed known samples behind a tiny node:http server, read back
// through independent clients: @aws-sdk/client-cloudwatch (AWS JSON 1.0), the aws CLI (JSON, and RPC v2 CBOR), and
// Prometheus' own text parser (python prometheus_client) for GET /metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  PutMetricDataCommand,
  paginateGetMetricData,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { decode, encode as cborEncode } from 'cbor2';
import { Aggregate, MinuteBucket, MINUTE_MS, Series } from '../src/local/metrics/buckets.js';
import { MetricsRecorder, handleMetricsRequest } from '../src/local/metrics/index.js';
import { baseEnv, tempDir } from './helpers/cli.js';

const ENDPOINT = 'local-mme';
const VARIANT = 'AllTraffic';
const DIMS = [
  { Name: 'EndpointName', Value: ENDPOINT },
  { Name: 'VariantName', Value: VARIANT },
];
/** A fixed clock: minute 0 of the test is T0, the recorder's "now" sits in minute 2. */
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
// An independent CBOR codec (not the SDK's, which the endpoint uses) to check the wire bytes.
const cborDecode = (bytes: Uint8Array): any => decode(bytes);
const cborBody = (v: unknown) => new Uint8Array(cborEncode(v));
const at = (minutes: number, seconds = 0) => new Date(T0 + minutes * MINUTE_MS + seconds * 1000);

// ---------------------------------------------------------------------------------------------------------------
// Buckets and percentiles, on their own

describe('minute buckets', () => {
  test('keep exact statistics and exact nearest-rank percentiles while under the cap', () => {
    const b = new MinuteBucket(1024);
    for (let v = 1; v <= 100; v++) b.add(v);
    const agg = new Aggregate();
    agg.add(b);
    assert.deepEqual([agg.count, agg.sum, agg.min, agg.max, agg.average], [100, 5050, 1, 100, 50.5]);
    assert.equal(agg.percentile(50), 50);
    assert.equal(agg.percentile(90), 90);
    assert.equal(agg.percentile(99), 99);
    assert.equal(agg.percentile(99.5), 100);
    assert.equal(agg.percentile(0), 1);
    assert.equal(agg.percentile(100), 100);
  });

  test('hold at most `cap` raw values, yet keep a uniform sample and exact statistic sets', () => {
    const b = new MinuteBucket(256);
    for (let i = 0; i < 100_000; i++) b.add(i % 1000);
    assert.equal(b.kept, 256);
    assert.ok(b.values.length <= 256);
    assert.equal(b.count, 100_000);
    assert.equal(b.sum, (100 * (999 * 1000)) / 2);
    assert.deepEqual([b.min, b.max], [0, 999]);
    const agg = new Aggregate();
    agg.add(b);
    // A uniform sample of 256 from 0..999: the median lands near 500 (10 standard errors of slack).
    const p50 = agg.percentile(50)!;
    assert.ok(Math.abs(p50 - 500) < 150, `p50 ${p50}`);
  });

  test('weigh each minute by its own rate when merging minutes into a period', () => {
    // A busy minute of 10,000 fast values and a quiet one with 10 slow values: the slow ones are 0.1% of the
    // period, so p99 is fast and p99.95 slow. Merging the two samples unweighted would put p99 among the slow.
    const busy = new MinuteBucket(64);
    for (let i = 0; i < 10_000; i++) busy.add(1);
    const quiet = new MinuteBucket(64);
    for (let i = 0; i < 10; i++) quiet.add(1000);
    const agg = new Aggregate();
    agg.add(busy);
    agg.add(quiet);
    assert.equal(agg.percentile(99), 1);
    assert.equal(agg.percentile(99.95), 1000);
  });

  test('offer no percentiles for negative values or unexpandable statistic sets (as CloudWatch)', () => {
    const b = new MinuteBucket(8);
    b.add(-1);
    const a = new Aggregate();
    a.add(b);
    assert.equal(a.percentile(50), undefined);
    const s = new MinuteBucket(8);
    s.addSet(4, 10, 1, 4);
    const sa = new Aggregate();
    sa.add(s);
    assert.equal(sa.percentile(50), undefined);
    assert.equal(sa.average, 2.5);
    const same = new MinuteBucket(8);
    same.addSet(1000, 7000, 7, 7); // min = max: 1000 sevens, expanded into the reservoir
    const ma = new Aggregate();
    ma.add(same);
    assert.equal(ma.percentile(99), 7);
    assert.equal(same.kept, 8);
  });

  test('a series keeps only its retention window', () => {
    const s = new Series('N', 'M', [], 'None', 16, 180);
    s.add(T0, 1);
    s.add(T0 + 100 * MINUTE_MS, 2);
    assert.equal(s.range(-Infinity, Infinity).length, 2);
    s.add(T0 + 180 * MINUTE_MS, 3); // minute 0 is now 180 minutes old: dropped
    assert.deepEqual(
      s.range(-Infinity, Infinity).map(([, b]) => b.sum),
      [2, 3],
    );
    assert.equal(s.totalCount, 3); // Prometheus totals are never pruned
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The endpoint: a recorder with known samples behind a tiny server

let clock = T0;
let recorder: MetricsRecorder;
let server: http.Server;
let url: string;
let cw: CloudWatchClient;

/** Known traffic. Minute 0: latencies 1..100 ms; minute 1: ten of 500 ms. Values are microseconds, as SageMaker. */
function feed(r: MetricsRecorder): void {
  clock = T0 + 5_000;
  for (let i = 1; i <= 100; i++) {
    r.record('Invocations', 1);
    r.record('ModelLatency', i * 1000);
    r.record('OverheadLatency', 200);
    r.record('ModelCacheHit', i % 4 === 0 ? 0 : 1); // 75 hits, 25 misses
    r.record('Invocation4XXErrors', i <= 2 ? 1 : 0);
    r.record('Invocation5XXErrors', 0);
  }
  r.record('ModelLoadingWaitTime', 250_000);
  r.record('ModelDownloadingTime', 100_000);
  r.record('ModelLoadingTime', 150_000);
  r.sample(() => ({ loadedModels: 3, memoryBytes: 512, memoryBudget: 1024, diskBytes: 250, diskBudget: 1000 }));
  clock = T0 + MINUTE_MS + 30_000;
  for (let i = 0; i < 10; i++) {
    r.record('Invocations', 1);
    r.record('ModelLatency', 500_000);
    r.record('OverheadLatency', 400);
    r.record('ModelCacheHit', 1);
    r.record('Invocation4XXErrors', 0);
    r.record('Invocation5XXErrors', 0);
  }
  r.record('ModelUnloadingTime', 3000);
  r.record('ModelUnloadingTime', 5000);
  r.sample(() => ({ loadedModels: 2, memoryBytes: 256, memoryBudget: 1024, diskBytes: 500, diskBudget: 1000 }));
  clock = T0 + 2 * MINUTE_MS + 10_000;
}

before(async () => {
  recorder = new MetricsRecorder({ endpointName: ENDPOINT, variantName: VARIANT, now: () => clock });
  feed(recorder);
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (!handleMetricsRequest(recorder, req, res, Buffer.concat(chunks))) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not a metrics request');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cw = new CloudWatchClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
});

after(async () => {
  cw?.destroy();
  recorder?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

const latency = { Namespace: 'AWS/SageMaker', MetricName: 'ModelLatency', Dimensions: DIMS };

describe('CloudWatch API through @aws-sdk/client-cloudwatch (AWS JSON 1.0)', () => {
  test('GetMetricStatistics: the five statistics per minute, in microseconds', async () => {
    const r = await cw.send(
      new GetMetricStatisticsCommand({
        ...latency,
        StartTime: at(0),
        EndTime: at(3),
        Period: 60,
        Statistics: ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'],
      }),
    );
    assert.equal(r.Label, 'ModelLatency');
    const points = r.Datapoints!.sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime());
    assert.deepEqual(points, [
      { Timestamp: at(0), SampleCount: 100, Average: 50_500, Sum: 5_050_000, Minimum: 1000, Maximum: 100_000, Unit: 'Microseconds' },
      { Timestamp: at(1), SampleCount: 10, Average: 500_000, Sum: 5_000_000, Minimum: 500_000, Maximum: 500_000, Unit: 'Microseconds' },
    ]);
  });

  test('GetMetricStatistics: percentiles, and periods that merge minutes', async () => {
    const one = await cw.send(
      new GetMetricStatisticsCommand({ ...latency, StartTime: at(0), EndTime: at(1), Period: 60, ExtendedStatistics: ['p50', 'p99', 'p99.9'] }),
    );
    assert.deepEqual(one.Datapoints![0].ExtendedStatistics, { p50: 50_000, p99: 99_000, 'p99.9': 100_000 });
    // Two minutes in one 120 s period: 110 values, ten of them slow; start rounded down to the minute.
    const two = await cw.send(
      new GetMetricStatisticsCommand({ ...latency, StartTime: at(0, 42), EndTime: at(5), Period: 120, ExtendedStatistics: ['p90', 'p99'] }),
    );
    assert.equal(two.Datapoints!.length, 1);
    assert.deepEqual(two.Datapoints![0].Timestamp, at(0));
    assert.deepEqual(two.Datapoints![0].ExtendedStatistics, { p90: 99_000, p99: 500_000 });
    const avg = await cw.send(
      new GetMetricStatisticsCommand({ ...latency, StartTime: at(0), EndTime: at(5), Period: 300, Statistics: ['Average', 'SampleCount'] }),
    );
    assert.deepEqual(
      avg.Datapoints!.map((p) => [p.SampleCount, p.Average]),
      [[110, 10_050_000 / 110]],
    );
  });

  test('GetMetricStatistics: cache-hit ratio, error counts, and the instance gauges', async () => {
    const stat = async (Namespace: string, MetricName: string, Statistics: ('Average' | 'Sum' | 'SampleCount' | 'Maximum')[]) =>
      (await cw.send(new GetMetricStatisticsCommand({ Namespace, MetricName, Dimensions: DIMS, StartTime: at(0), EndTime: at(2), Period: 120, Statistics })))
        .Datapoints![0];
    const hit = await stat('AWS/SageMaker', 'ModelCacheHit', ['Average', 'SampleCount']);
    assert.deepEqual([hit.Average, hit.SampleCount, hit.Unit], [85 / 110, 110, 'None']);
    assert.equal((await stat('AWS/SageMaker', 'Invocations', ['Sum'])).Sum, 110);
    assert.equal((await stat('AWS/SageMaker', 'Invocation4XXErrors', ['Sum'])).Sum, 2);
    assert.equal((await stat('AWS/SageMaker', 'ModelUnloadingTime', ['SampleCount'])).SampleCount, 2);
    const loaded = await stat('/aws/sagemaker/Endpoints', 'LoadedModelCount', ['Average', 'Maximum']);
    assert.deepEqual([loaded.Average, loaded.Maximum, loaded.Unit], [2.5, 3, 'None']);
    const mem = await stat('/aws/sagemaker/Endpoints', 'MemoryUtilization', ['Maximum']);
    assert.deepEqual([mem.Maximum, mem.Unit], [50, 'Percent']);
    const disk = await stat('/aws/sagemaker/Endpoints', 'DiskUtilization', ['Maximum']);
    assert.equal(disk.Maximum, 50);
  });

  test('wrong dimensions or another unit find no data, as in CloudWatch', async () => {
    const q = { StartTime: at(0), EndTime: at(3), Period: 60, Statistics: ['Sum' as const] };
    const partial = await cw.send(new GetMetricStatisticsCommand({ ...q, Namespace: 'AWS/SageMaker', MetricName: 'Invocations', Dimensions: [DIMS[0]] }));
    assert.deepEqual(partial.Datapoints, []);
    const other = await cw.send(
      new GetMetricStatisticsCommand({
        ...q,
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocations',
        Dimensions: [DIMS[0], { Name: 'VariantName', Value: 'Other' }],
      }),
    );
    assert.deepEqual(other.Datapoints, []);
    const unit = await cw.send(new GetMetricStatisticsCommand({ ...q, ...latency, Unit: 'Milliseconds' }));
    assert.deepEqual(unit.Datapoints, []);
    const rightUnit = await cw.send(new GetMetricStatisticsCommand({ ...q, ...latency, Unit: 'Microseconds' }));
    assert.equal(rightUnit.Datapoints!.length, 2);
  });

  test('GetMetricData: several stats at once, newest first by default, and paging', async () => {
    const queries: MetricDataQuery[] = [
      { Id: 'p99', MetricStat: { Metric: latency, Period: 60, Stat: 'p99' } },
      { Id: 'hits', MetricStat: { Metric: { ...latency, MetricName: 'ModelCacheHit' }, Period: 60, Stat: 'Average' }, Label: 'hit ratio' },
      { Id: 'calls', MetricStat: { Metric: { ...latency, MetricName: 'Invocations' }, Period: 120, Stat: 'Sum' } },
      { Id: 'hidden', MetricStat: { Metric: latency, Period: 60, Stat: 'Maximum' }, ReturnData: false },
    ];
    const r = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: at(0), EndTime: at(3) }));
    assert.deepEqual(
      r.MetricDataResults!.map((m) => [m.Id, m.Label, m.StatusCode, m.Timestamps, m.Values]),
      [
        ['p99', 'ModelLatency', 'Complete', [at(1), at(0)], [500_000, 99_000]],
        ['hits', 'hit ratio', 'Complete', [at(1), at(0)], [1, 0.75]],
        ['calls', 'Invocations', 'Complete', [at(0)], [110]],
      ],
    );
    assert.equal(r.NextToken, undefined);

    const asc = await cw.send(
      new GetMetricDataCommand({ MetricDataQueries: queries.slice(0, 1), StartTime: at(0), EndTime: at(3), ScanBy: 'TimestampAscending' }),
    );
    assert.deepEqual(asc.MetricDataResults![0].Values, [99_000, 500_000]);

    // One datapoint per page through the SDK's own paginator: the pages add up to the whole answer.
    const pages = [];
    for await (const page of paginateGetMetricData({ client: cw }, { MetricDataQueries: queries, StartTime: at(0), EndTime: at(3), MaxDatapoints: 1 }))
      pages.push(page);
    assert.equal(pages.length, 5);
    assert.equal(pages[0].MetricDataResults![0].StatusCode, 'PartialData');
    const joined = new Map<string, number[]>();
    for (const p of pages) for (const m of p.MetricDataResults!) joined.set(m.Id!, [...(joined.get(m.Id!) ?? []), ...m.Values!]);
    assert.deepEqual(Object.fromEntries(joined), { p99: [500_000, 99_000], hits: [1, 0.75], calls: [110] });
  });

  test('ListMetrics: what has data, filtered by namespace, name and dimensions', async () => {
    const all = await cw.send(new ListMetricsCommand({}));
    const names = all.Metrics!.map((m) => `${m.Namespace} ${m.MetricName}`);
    // CPUUtilization needs two gauge samples a real interval apart; the rest were all recorded.
    for (const n of [
      'AWS/SageMaker ModelLatency',
      'AWS/SageMaker ModelCacheHit',
      'AWS/SageMaker ModelUnloadingTime',
      '/aws/sagemaker/Endpoints LoadedModelCount',
      '/aws/sagemaker/Endpoints MemoryUtilization',
    ]) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    assert.deepEqual(all.Metrics!.find((m) => m.MetricName === 'ModelLatency')!.Dimensions, DIMS);
    const endpoints = await cw.send(new ListMetricsCommand({ Namespace: '/aws/sagemaker/Endpoints' }));
    assert.ok(endpoints.Metrics!.every((m) => m.Namespace === '/aws/sagemaker/Endpoints') && endpoints.Metrics!.length >= 3);
    const one = await cw.send(new ListMetricsCommand({ MetricName: 'Invocations', Dimensions: [{ Name: 'EndpointName', Value: ENDPOINT }] }));
    assert.equal(one.Metrics!.length, 1);
    const none = await cw.send(new ListMetricsCommand({ Dimensions: [{ Name: 'EndpointName', Value: 'someone-else' }] }));
    assert.deepEqual(none.Metrics, []);
  });

  test('PutMetricData into a custom namespace reads back; AWS/ is reserved', async () => {
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Custom/Tests',
        MetricData: [
          { MetricName: 'Score', Dimensions: [{ Name: 'Model', Value: 'm1' }], Timestamp: at(1, 5), Values: [1, 2, 3], Counts: [1, 1, 2], Unit: 'Count' },
          { MetricName: 'Score', Dimensions: [{ Name: 'Model', Value: 'm1' }], Timestamp: at(1, 50), Value: 10, Unit: 'Count' },
        ],
      }),
    );
    const r = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Custom/Tests',
        MetricName: 'Score',
        Dimensions: [{ Name: 'Model', Value: 'm1' }],
        StartTime: at(0),
        EndTime: at(3),
        Period: 60,
        Statistics: ['Sum', 'SampleCount', 'Maximum'],
      }),
    );
    assert.deepEqual(r.Datapoints, [{ Timestamp: at(1), Sum: 19, SampleCount: 5, Maximum: 10, Unit: 'Count' }]);
    await assert.rejects(
      cw.send(new PutMetricDataCommand({ Namespace: 'AWS/SageMaker', MetricData: [{ MetricName: 'Invocations', Value: 1 }] })),
      (e: Error) => e.name === 'InvalidParameterValueException' && /AWS\/ prefix is reserved/.test(e.message),
    );
  });

  test('bad requests come back as CloudWatch errors the SDK recognises', async () => {
    const base = { ...latency, StartTime: at(0), EndTime: at(3) };
    await assert.rejects(cw.send(new GetMetricStatisticsCommand({ ...base, Period: 30, Statistics: ['Sum'] })), (e: Error) => {
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.match(e.message, /Period must be a multiple of 60/);
      assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
      return true;
    });
    await assert.rejects(cw.send(new GetMetricStatisticsCommand({ ...base, Period: 60, Statistics: ['Sum'], ExtendedStatistics: ['p99'] })), {
      name: 'InvalidParameterCombinationException',
    });
    await assert.rejects(cw.send(new GetMetricStatisticsCommand({ ...base, Period: 60 })), { name: 'MissingRequiredParameterException' });
    await assert.rejects(
      cw.send(new GetMetricStatisticsCommand({ ...base, StartTime: at(-3000), Period: 60, Statistics: ['Sum'] })),
      /exceeds the limit of 1,440/,
    );
    await assert.rejects(
      cw.send(new GetMetricDataCommand({ MetricDataQueries: [{ Id: 'e1', Expression: 'SUM(METRICS())' }], StartTime: at(0), EndTime: at(3) })),
      (e: Error) => e.name === 'ValidationException' && /does not evaluate metric math/.test(e.message),
    );
    await assert.rejects(
      cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [{ Id: 'a', MetricStat: { Metric: latency, Period: 60, Stat: 'tm99' } }],
          StartTime: at(0),
          EndTime: at(3),
        }),
      ),
      /tm99 .* not supported by mme local/,
    );
    await assert.rejects(
      cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [{ Id: 'a', MetricStat: { Metric: latency, Period: 60, Stat: 'Sum' } }],
          StartTime: at(0),
          EndTime: at(3),
          NextToken: 'bogus',
        }),
      ),
      { name: 'InvalidNextToken' },
    );
  });
});

describe('wire details', () => {
  test('AWS JSON 1.0: unknown operation and bad JSON get the protocol error shape', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'x-amz-target': 'GraniteServiceVersion20100801.DescribeAlarms', 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.0');
    const body = await res.json();
    assert.equal(body.__type, 'com.amazon.coral.service#UnknownOperationException');
    assert.match(body.message, /does not implement the CloudWatch operation DescribeAlarms/);
    const bad = await fetch(url, { method: 'POST', headers: { 'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics' }, body: '{' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).__type, 'com.amazonaws.cloudwatch#SerializationException');
  });

  test('RPC v2 CBOR: tag-1 timestamps, the smithy-protocol header, errors with __type and the query code', async () => {
    const op = (name: string) => `${url}/service/GraniteServiceVersion20100801/operation/${name}`;
    const headers = { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor', accept: 'application/cbor' };
    const res = await fetch(op('GetMetricStatistics'), {
      method: 'POST',
      headers,
      body: cborBody({ ...latency, StartTime: at(0), EndTime: at(3), Period: 60, Statistics: ['Maximum'] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('smithy-protocol'), 'rpc-v2-cbor');
    assert.equal(res.headers.get('content-type'), 'application/cbor');
    const raw = Buffer.from(await res.arrayBuffer());
    assert.ok(raw.includes(Buffer.from([0xc1, 0x1a])), 'timestamps are CBOR tag 1 over epoch seconds');
    const body = cborDecode(raw);
    assert.deepEqual(
      body.Datapoints.map((p: { Timestamp: Date; Maximum: number }) => [p.Timestamp, p.Maximum]),
      [
        [at(0), 100_000],
        [at(1), 500_000],
      ],
    );

    const err = await fetch(op('GetMetricStatistics'), {
      method: 'POST',
      headers,
      body: cborBody({ ...latency, StartTime: at(0), EndTime: at(3), Period: 61, Statistics: ['Sum'] }),
    });
    assert.equal(err.status, 400);
    assert.equal(err.headers.get('x-amzn-query-error'), 'InvalidParameterValue;Sender');
    const e = cborDecode(Buffer.from(await err.arrayBuffer()));
    assert.equal(e.__type, 'com.amazonaws.cloudwatch#InvalidParameterValueException');
    assert.match(e.message, /multiple of 60/);

    const unknown = await fetch(op('DeleteAlarms'), { method: 'POST', headers, body: cborBody({}) });
    assert.equal(cborDecode(Buffer.from(await unknown.arrayBuffer())).__type, 'smithy.framework#UnknownOperationException');
    // A malformed percent-escape in the operation name is just an unknown operation (not a 500 InternalFailure).
    const malformed = await fetch(op('%E0'), { method: 'POST', headers, body: cborBody({}) });
    assert.equal(malformed.status, 400);
    const m = cborDecode(Buffer.from(await malformed.arrayBuffer()));
    assert.equal(m.__type, 'smithy.framework#UnknownOperationException');
    assert.match(m.message, /does not implement the CloudWatch operation %E0/);
    const mixed = await fetch(op('ListMetrics'), {
      method: 'POST',
      headers: { ...headers, 'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics' },
      body: cborBody({}),
    });
    assert.equal(mixed.status, 400);

    const put = await fetch(op('PutMetricData'), {
      method: 'POST',
      headers,
      body: cborBody({ Namespace: 'Custom/Cbor', MetricData: [{ MetricName: 'X', Value: 1 }] }),
    });
    assert.equal(put.status, 200);
    assert.equal(put.headers.get('content-type'), null, 'an operation without output has no body and no Content-Type');
    assert.equal((await put.arrayBuffer()).byteLength, 0);
  });

  test('other requests are left to the server', async () => {
    const res = await fetch(`${url}/endpoints/${ENDPOINT}/invocations`, { method: 'POST', body: '1,2' });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), 'not a metrics request');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The aws CLI: as installed (botocore picks JSON for CloudWatch), and forced to RPC v2 CBOR

const awsCli = spawnSync('aws', ['--version'], { encoding: 'utf8' });
const skipWithoutAws = awsCli.status === 0 ? false : 'the aws CLI is not installed';

function aws(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'aws',
      ['cloudwatch', ...args, '--endpoint-url', url, '--output', 'json'],
      {
        env: baseEnv({ AWS_DEFAULT_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1', AWS_RETRY_MODE: 'standard', ...env }),
        timeout: 600_000, // a hang guard only
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A copy of botocore's own CloudWatch model that lists only smithy-rpc-v2-cbor, found through AWS_DATA_PATH: the
 * same CLI then speaks CBOR with botocore's own serializer and parser.
 */
function cborOnlyModels(): string | undefined {
  const py = spawnSync('python3', ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8' });
  if (py.status !== 0) return undefined;
  const dir = path.join(py.stdout.trim(), 'data', 'cloudwatch', '2010-08-01');
  const gz = path.join(dir, 'service-2.json.gz');
  const text = fs.existsSync(gz) ? zlib.gunzipSync(fs.readFileSync(gz)).toString() : fs.readFileSync(path.join(dir, 'service-2.json'), 'utf8');
  const model = JSON.parse(text);
  if (!model.metadata.protocols?.includes('smithy-rpc-v2-cbor')) return undefined;
  model.metadata.protocols = ['smithy-rpc-v2-cbor'];
  model.metadata.protocol = 'smithy-rpc-v2-cbor';
  const root = tempDir('mme-botocore-');
  fs.mkdirSync(path.join(root, 'cloudwatch', '2010-08-01'), { recursive: true });
  fs.writeFileSync(path.join(root, 'cloudwatch', '2010-08-01', 'service-2.json'), JSON.stringify(model));
  return root;
}

const statsArgs = [
  'get-metric-statistics',
  '--namespace',
  'AWS/SageMaker',
  '--metric-name',
  'ModelLatency',
  '--dimensions',
  `Name=EndpointName,Value=${ENDPOINT}`,
  `Name=VariantName,Value=${VARIANT}`,
  '--start-time',
  at(0).toISOString(),
  '--end-time',
  at(3).toISOString(),
  '--period',
  '120',
];
const dataArgs = [
  'get-metric-data',
  '--start-time',
  at(0).toISOString(),
  '--end-time',
  at(3).toISOString(),
  '--scan-by',
  'TimestampAscending',
  '--metric-data-queries',
  JSON.stringify([
    { Id: 'p99', MetricStat: { Metric: latency, Period: 60, Stat: 'p99' } },
    { Id: 'hits', MetricStat: { Metric: { ...latency, MetricName: 'ModelCacheHit' }, Period: 120, Stat: 'Average' } },
  ]),
];

/** aws CLI v1 prints timestamps as received: epoch seconds from JSON and CBOR (ISO text only if so configured). */
const cliTime = (v: number | string) => (typeof v === 'number' ? v * 1000 : Date.parse(v));

function checkCliAnswers(
  stats: { stdout: string; stderr: string; code: number },
  p99: { stdout: string; stderr: string; code: number },
  data: { stdout: string; stderr: string; code: number },
): void {
  assert.equal(stats.code, 0, stats.stderr);
  const s = JSON.parse(stats.stdout);
  assert.equal(s.Datapoints.length, 1);
  const point = s.Datapoints[0];
  assert.equal(cliTime(point.Timestamp), at(0).getTime());
  assert.deepEqual([point.SampleCount, point.Sum, point.Minimum, point.Maximum, point.Unit], [110, 10_050_000, 1000, 500_000, 'Microseconds']);
  assert.ok(Math.abs(point.Average - 10_050_000 / 110) < 1e-6);
  assert.equal(p99.code, 0, p99.stderr);
  assert.deepEqual(JSON.parse(p99.stdout).Datapoints[0].ExtendedStatistics, { p99: 500_000, p50: 55_000 });
  assert.equal(data.code, 0, data.stderr);
  const d = JSON.parse(data.stdout);
  assert.deepEqual(
    d.MetricDataResults.map((m: { Id: string; Timestamps: Array<number | string>; Values: number[]; StatusCode: string }) => [
      m.Id,
      m.Timestamps.map(cliTime),
      m.Values,
      m.StatusCode,
    ]),
    [
      ['p99', [at(0).getTime(), at(1).getTime()], [99_000, 500_000], 'Complete'],
      ['hits', [at(0).getTime()], [85 / 110], 'Complete'],
    ],
  );
}

describe('the aws CLI', { skip: skipWithoutAws }, () => {
  test('as installed: get-metric-statistics and get-metric-data', async () => {
    const [stats, p99, data] = await Promise.all([
      aws([...statsArgs, '--statistics', 'SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']),
      aws([...statsArgs, '--extended-statistics', 'p99', 'p50']),
      aws(dataArgs),
    ]);
    checkCliAnswers(stats, p99, data);
  });

  test('speaking Smithy RPC v2 CBOR: the same answers, list-metrics, and errors by code', async (t) => {
    const models = cborOnlyModels();
    if (!models) return t.skip('this botocore has no RPC v2 CBOR model for CloudWatch');
    const env = { AWS_DATA_PATH: models };
    const [stats, p99, data, list, bad] = await Promise.all([
      aws([...statsArgs, '--statistics', 'SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum', '--debug'], env),
      aws([...statsArgs, '--extended-statistics', 'p99', 'p50'], env),
      aws(dataArgs, env),
      aws(['list-metrics', '--namespace', '/aws/sagemaker/Endpoints', '--metric-name', 'LoadedModelCount'], env),
      aws([...statsArgs.slice(0, -2), '--period', '90', '--statistics', 'Sum'], env),
    ]);
    assert.match(stats.stderr, /operation\/GetMetricStatistics/, 'the CLI used the RPC v2 CBOR route');
    assert.match(stats.stderr, /smithy-protocol['"]?: ['"]?rpc-v2-cbor/i);
    checkCliAnswers(stats, p99, data);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).Metrics, [{ Namespace: '/aws/sagemaker/Endpoints', MetricName: 'LoadedModelCount', Dimensions: DIMS }]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /\(InvalidParameterValue\).*Period must be a multiple of 60/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Prometheus

const PROM_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (NaN|[+-]Inf|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/;

describe('GET /metrics', () => {
  test('is Prometheus text that agrees with what was recorded', async (t) => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // The exposition grammar, line by line: HELP and TYPE once per family before its samples.
    const typed = new Map<string, string>();
    const values = new Map<string, number>();
    for (const line of text.trimEnd().split('\n')) {
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
      if (meta) {
        if (meta[1] === 'TYPE') {
          assert.ok(!typed.has(meta[2]), `TYPE twice for ${meta[2]}`);
          assert.match(meta[3], /^(counter|gauge|summary|histogram|untyped)$/);
          typed.set(meta[2], meta[3]);
        }
        continue;
      }
      const m = PROM_LINE.exec(line);
      assert.ok(m, `not a valid sample line: ${line}`);
      const family = m[1].replace(/_(sum|count)$/, '');
      assert.ok(typed.has(m[1]) || typed.get(family) === 'summary', `sample before its TYPE: ${line}`);
      assert.match(m[2], new RegExp(`endpoint="${ENDPOINT}",variant="${VARIANT}"`));
      values.set(m[1] + (/quantile="([^"]+)"/.exec(m[2])?.[1] ?? ''), Number(m[3]));
    }
    assert.equal(values.get('mme_local_invocations_total'), 110);
    assert.equal(values.get('mme_local_invocation_4xx_errors_total'), 2);
    assert.equal(values.get('mme_local_model_cache_hits_total'), 85);
    assert.equal(values.get('mme_local_model_cache_lookups_total'), 110);
    assert.equal(values.get('mme_local_model_latency_seconds_count'), 110);
    assert.ok(Math.abs(values.get('mme_local_model_latency_seconds_sum')! - 10.05) < 1e-9);
    assert.equal(values.get('mme_local_model_latency_seconds0.99'), 0.5);
    assert.equal(values.get('mme_local_model_latency_seconds0.5'), 0.055);
    assert.equal(values.get('mme_local_model_unloading_seconds_count'), 2);
    assert.equal(values.get('mme_local_loaded_models'), 2);
    assert.equal(values.get('mme_local_memory_utilization_percent'), 25);
    assert.equal(values.get('mme_local_disk_budget_bytes'), 1000);
    assert.equal(typed.get('mme_local_model_latency_seconds'), 'summary');
    assert.equal(typed.get('mme_local_invocations_total'), 'counter');

    // And Prometheus' own Python client parses it, when installed (pip install prometheus_client, or Debian's
    // python3-prometheus-client for /usr/bin/python3).
    const parser = [
      'import sys, json',
      'from prometheus_client.parser import text_string_to_metric_families as parse',
      'out = {}',
      'for fam in parse(sys.stdin.read()):',
      '    for s in fam.samples: out[s.name + s.labels.get("quantile", "")] = [fam.type, s.value]',
      'print(json.dumps(out))',
    ].join('\n');
    const runs = ['python3', '/usr/bin/python3'].map((exe) => spawnSync(exe, ['-c', parser], { input: text, encoding: 'utf8' }));
    const py = runs.find((r) => r.status === 0) ?? runs[0];
    if (runs.every((r) => r.status !== 0 && /No module named|ENOENT/.test(`${r.stderr}${r.error ?? ''}`)))
      return t.diagnostic('prometheus_client not installed: parsed by the grammar check only');
    assert.equal(py.status, 0, py.stderr);
    const parsed = JSON.parse(py.stdout);
    assert.deepEqual(parsed.mme_local_invocations_total, ['counter', 110]);
    assert.deepEqual(parsed['mme_local_model_latency_seconds0.99'], ['summary', 0.5]);
    assert.deepEqual(parsed.mme_local_loaded_models, ['gauge', 2]);
  });
});

describe('gauges', () => {
  test('watch() samples CPU of this process between ticks, and stop() ends it', async () => {
    const r = new MetricsRecorder({ endpointName: 'cpu', variantName: VARIANT, gaugeIntervalMs: 20 });
    const wall0 = process.hrtime.bigint();
    r.watch(() => ({ loadedModels: 1, memoryBytes: 1, memoryBudget: 4, diskBytes: 0, diskBudget: 0 }));
    // Keep a core busy for 50 ms of CPU time (counted, not timed: a loaded machine stretches it, nothing more).
    const cpu0 = process.cpuUsage();
    for (let spent = 0; spent < 50_000; ) {
      for (let i = 0; i < 1e5; i++) Math.sqrt(Math.random());
      const d = process.cpuUsage(cpu0);
      spent = d.user + d.system;
    }
    const spentUs = (({ user, system }) => user + system)(process.cpuUsage(cpu0));
    r.refresh(); // the sample a read of the metrics takes
    const wallUs = Number(process.hrtime.bigint() - wall0) / 1000;
    const cpu = r.recorded('CPUUtilization');
    assert.ok(cpu && cpu.totalCount >= 1, 'CPU sampled');
    const busiest = Math.max(...cpu.range(-Infinity, Infinity).map(([, b]) => b.max));
    // Over the whole busy stretch, the share is at least what the busy loop alone spent over all the wall time.
    assert.ok(busiest >= (spentUs / wallUs) * 100 && busiest <= 100 * 64, `CPU ${busiest}%; the loop spent ${spentUs} µs in ${wallUs.toFixed(0)} µs`);
    assert.equal(r.recorded('MemoryUtilization')!.lastValue, 25);
    assert.equal(r.recorded('DiskUtilization')!.lastValue, 0, 'no disk budget: 0%, not NaN');
    // The timer samples too: wait for ticks of an interval of the same period started after the recorder's (Node
    // fires timers of one period in the order they were set, so the recorder's ticks first): an order, not a delay.
    const ticks = async (n: number) => {
      let seen = 0;
      await new Promise<void>((resolve) => {
        const t = setInterval(() => ++seen === n && (clearInterval(t), resolve()), 20);
      });
    };
    const ticked = r.recorded('LoadedModelCount')!.totalCount;
    await ticks(2);
    assert.ok(r.recorded('LoadedModelCount')!.totalCount > ticked, 'the timer sampled');
    r.stop();
    const count = r.recorded('LoadedModelCount')!.totalCount;
    await ticks(3);
    assert.equal(r.recorded('LoadedModelCount')!.totalCount, count, 'no samples after stop()');
  });
});
