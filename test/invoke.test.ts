// `mme invoke` end to end: the built binary against moto_server (canned InvokeEndpoint answers) and, for what moto
// cannot produce (ModelError, ValidationError, 429), small real HTTP servers on 127.0.0.1 that answer in the
// restJson1 shape any AWS SDK parses. Answers are checked against an independent path: the AWS SDK called directly
// from the test, or the requests the stub server recorded.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mme, tempDir, type RunResult } from './helpers/cli.js';
import { freePort, skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

const ENDPOINT = 'fraud-mme';

/** One stderr line, an `mme:` error, no stack trace, nothing on stdout: the bad-input contract. */
function assertUsageLine(r: RunResult, code: number, pattern: RegExp) {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.match(lines[0], /^mme: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('mme invoke against moto', { skip: skipWithoutMoto }, () => {
  let moto: Moto;
  let sdk: SageMakerRuntimeClient;
  const env = () => ({ AWS_ENDPOINT_URL: moto.url, MME_ENDPOINT_NAME: ENDPOINT });

  /** Queues canned answers; moto hands the next one to each new distinct request and repeats it for identical ones. */
  async function canned(...results: { Body: string; ContentType?: string; InvokedProductionVariant?: string; CustomAttributes?: string }[]) {
    await moto.reset();
    const res = await fetch(`${moto.url}/moto-api/static/sagemaker/endpoint-results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: '123456789012', region: 'us-east-1', results }),
    });
    assert.equal(res.status, 201);
  }

  /** The same call through the AWS SDK directly: moto answers it from the same cache entry only if mme sent the same request. */
  async function direct(target: string, body: string, extra: Record<string, string> = {}) {
    const out = await sdk.send(
      new InvokeEndpointCommand({ EndpointName: ENDPOINT, TargetModel: target, Body: Buffer.from(body), ContentType: 'text/csv', ...extra }),
    );
    return { body: Buffer.from(out.Body!).toString(), contentType: out.ContentType, variant: out.InvokedProductionVariant, attrs: out.CustomAttributes };
  }

  before(async () => {
    moto = await startMoto();
    sdk = new SageMakerRuntimeClient({ endpoint: moto.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  after(async () => {
    sdk?.destroy();
    await moto?.stop();
  });

  test('writes the response body raw to stdout, and a summary to stderr', async () => {
    await canned({ Body: '0.9731\n', ContentType: 'text/csv; charset=utf-8', InvokedProductionVariant: 'AllTraffic', CustomAttributes: 'trace=t1' });
    const r = await mme(['invoke', '--target', 'm37.tar.gz', '--body', '0.5,1.2,3.4'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0.9731\n');
    assert.match(r.stderr, /text\/csv; charset=utf-8 from m37\.tar\.gz via AllTraffic in [\d.]+ ms, custom attributes "trace=t1"/);
    // Independent path: the SDK's identical request hits moto's cache entry for mme's request.
    assert.deepEqual(await direct('m37.tar.gz', '0.5,1.2,3.4'), {
      body: '0.9731\n',
      contentType: 'text/csv; charset=utf-8',
      variant: 'AllTraffic',
      attrs: 'trace=t1',
    });
  });

  test('--json wraps body, content type, variant, custom attributes and latency', async () => {
    await canned({ Body: '{"score":0.12}', ContentType: 'application/json', InvokedProductionVariant: 'blue', CustomAttributes: 'model_version=7' });
    const r = await mme(['invoke', '--target', 'v2/m12.tar.gz', '--body', '1,2', '--accept', 'application/json', '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const res = r.json.result;
    assert.equal(r.json.status, 'success');
    assert.equal(res.body, '{"score":0.12}');
    assert.equal(res.bodyEncoding, 'utf8');
    assert.equal(res.contentType, 'application/json');
    assert.equal(res.invokedProductionVariant, 'blue');
    assert.equal(res.customAttributes, 'model_version=7');
    assert.equal(res.targetModel, 'v2/m12.tar.gz');
    assert.equal(res.endpointName, ENDPOINT);
    assert.equal(res.bytes, 14);
    assert.equal(typeof res.latencyMs, 'number');
    assert.ok(res.latencyMs > 0);
    assert.equal((await direct('v2/m12.tar.gz', '1,2', { Accept: 'application/json' })).body, '{"score":0.12}');
  });

  test('--out writes the body atomically to a file and keeps stdout empty', async () => {
    await canned({ Body: '0.1\n0.2\n', ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' });
    const dir = tempDir();
    const rows = path.join(dir, 'rows.csv');
    fs.writeFileSync(rows, '1,2\n3,4\n');
    const out = path.join(dir, 'out', 'scores.csv');
    const r = await mme(['invoke', '--target', 'm37.tar.gz', '--body-file', rows, '--out', out], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(fs.readFileSync(out, 'utf8'), '0.1\n0.2\n');
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['scores.csv'], 'no temp file left behind');
    assert.match(r.stderr, /written to .*scores\.csv/);
    const j = await mme(['invoke', '--target', 'm37.tar.gz', '--body-file', rows, '--out', out, '--json'], { env: env() });
    assert.equal(j.json.result.out, out);
    assert.equal(j.json.result.body, undefined);
    assert.equal(j.json.result.requestBytes, 8);
  });

  test('reads the body from stdin when no body flag is given', async () => {
    await canned({ Body: 'from-stdin', ContentType: 'text/plain', InvokedProductionVariant: 'AllTraffic' });
    const r = await mme(['invoke', '--target', 'm37.tar.gz'], { env: env(), input: '7,8,9\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-stdin');
    assert.equal((await direct('m37.tar.gz', '7,8,9\n')).body, 'from-stdin');
  });

  test('load mode: --repeat with --concurrency reports cold and warm latency', async () => {
    await canned({ Body: '0.5', ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' });
    const r = await mme(['invoke', '--target', 'm37.tar.gz', '--body', '1,1', '--repeat', '300', '--concurrency', '4', '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json.result;
    assert.equal(rep.requests, 300);
    assert.equal(rep.ok, 300);
    assert.equal(rep.errors, 0);
    assert.deepEqual(rep.errorsByType, {});
    assert.equal(rep.concurrency, 4);
    assert.equal(rep.cold.requests, 1);
    assert.equal(rep.warm.requests, 299);
    const w = rep.warm.latencyMs;
    assert.ok(w.min <= w.p50 && w.p50 <= w.p90 && w.p90 <= w.p99 && w.p99 <= w.max, JSON.stringify(w));
    assert.ok(rep.throughputPerSecond > 0);
    assert.equal(rep.byTarget['m37.tar.gz'].warm.requests, 299);

    const human = await mme(['invoke', '--target', 'm37.tar.gz', '--body', '1,1', '--repeat', '20'], { env: env() });
    assert.equal(human.code, 0, human.stderr);
    const rows = human.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(
      rows.map((row) => row.slice(0, 4)),
      [
        ['cold', '1', '1', '0'],
        ['warm', '19', '19', '0'],
      ],
    );
    assert.match(human.stderr, /20 request\(s\) to m37\.tar\.gz on fraud-mme, concurrency 1/);
  });

  test('load mode: --duration bounds the run by time', async () => {
    await canned({ Body: '0.5', ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' });
    // Without --repeat only the duration ends the run (the test would time out otherwise); how far past the second
    // the last in-flight request ends depends on the machine's load, so only the lower bound is asserted.
    const r = await mme(['invoke', '--target', 'm37.tar.gz', '--body', '2,2', '--duration', '1', '--concurrency', '2', '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json.result.requests >= 2);
    assert.ok(r.json.result.elapsedMs >= 1000, String(r.json.result.elapsedMs));
  });

  test('load mode: several targets, weighted from --targets-file, each with its own cold call', async () => {
    await canned(
      { Body: 'a', ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' },
      { Body: 'b', ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' },
    );
    const dir = tempDir();
    const file = path.join(dir, 'hot.txt');
    fs.writeFileSync(file, '# hot models\nm1.tar.gz 3\n\nv2/m2.tar.gz   # weight 1\n');
    const r = await mme(['invoke', '--targets-file', file, '--body', '3,3', '--repeat', '42', '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json.result;
    assert.deepEqual(rep.targets, [
      { name: 'm1.tar.gz', weight: 3 },
      { name: 'v2/m2.tar.gz', weight: 1 },
    ]);
    assert.equal(rep.cold.requests, 2);
    assert.equal(rep.byTarget['m1.tar.gz'].cold.requests, 1);
    assert.equal(rep.byTarget['m1.tar.gz'].warm.requests, 30);
    assert.equal(rep.byTarget['v2/m2.tar.gz'].warm.requests, 10);
  });

  test('bad input: exit 2 with one clear line, before anything is sent', async () => {
    const dir = tempDir();
    const big = path.join(dir, 'big.csv');
    fs.writeFileSync(big, Buffer.alloc(6_291_457, 0x31));
    const exact = path.join(dir, 'exact.csv');
    fs.writeFileSync(exact, Buffer.alloc(6_291_456, 0x31));
    const e = env();
    const cases: [string[], RegExp, Record<string, string | undefined>?, string?][] = [
      [['invoke', '--body', '1'], /no target model given/],
      [['invoke', '--target', ' m37.tar.gz', '--body', '1'], /--target " m37\.tar\.gz" starts with whitespace/],
      [['invoke', '--target', 'm37\t.tar.gz', '--body', '1'], /non-printable or non-ASCII character at position 4/],
      [['invoke', '--target', 'm'.repeat(1025), '--body', '1'], /must be 1 to 1024 characters \(it has 1025\)/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1'], /no endpointName configured/, { MME_ENDPOINT_NAME: undefined }],
      [
        ['invoke', '--target', 'm37.tar.gz', '--body', '1'],
        /env MME_ENDPOINT_NAME: "fraud_mme" is not a valid endpoint name/,
        { MME_ENDPOINT_NAME: 'fraud_mme' },
      ],
      [['invoke', '--target', 'm37.tar.gz', '--body-file', big], /is 6\.00 MiB \(6291457 bytes\); InvokeEndpoint takes at most 6291456 bytes/],
      [['invoke', '--target', 'm37.tar.gz'], /from stdin is more than 6\.00 MiB/, undefined, '1'.repeat(6_291_457)],
      [['invoke', '--target', 'm37.tar.gz'], /no request body: stdin was empty/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--body-file', exact], /--body and --body-file both give the request body/],
      [['invoke', '--target', 'm37.tar.gz', '--body-file', path.join(dir, 'nope.csv')], /--body-file .*nope\.csv: no such file/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--repeat', '0'], /--repeat "0" is not a whole number from 1 to 10000000/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--repeat', 'ten'], /--repeat "ten" is not a whole number/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--concurrency', '4'], /--concurrency applies to load runs only/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--repeat', '5', '--concurrency', '51'], /--concurrency "51" is not a whole number from 1 to 50/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--repeat', '5', '--out', 'x'], /--out writes one response body/],
      [['invoke', '--target', 'a.tar.gz', '--target', 'b.tar.gz', '--body', '1'], /one call takes one --target \(2 given\)/],
      [['invoke', '--target', 'a.tar.gz', '--target', 'a.tar.gz', '--body', '1', '--repeat', '3'], /target a\.tar\.gz is given twice/],
      [
        ['invoke', '--target', 'm37.tar.gz', '--body', '1', '--custom-attributes', 'caf\u00e9'],
        /--custom-attributes "café" has characters InvokeEndpoint does not accept/,
      ],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--custom-attributes', 'x'.repeat(1025)], /--custom-attributes must be 1 to 1024 characters/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--wait-ready', '-1'], /--wait-ready "-1" is not a duration between 0ms and 1h/],
      [['invoke', '--target', 'm37.tar.gz', '--body', '1', '--inference-id', ' x'], /--inference-id " x" has characters/],
    ];
    for (const [args, pattern, extraEnv, input] of cases) {
      const r = await mme(args, { env: { ...e, ...extraEnv }, input });
      assertUsageLine(r, 2, pattern);
    }
    // The limit itself is allowed: exactly 6,291,456 bytes goes out.
    await canned({ Body: 'ok', ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' });
    const r = await mme(['invoke', '--target', 'm37.tar.gz', '--body-file', exact], { env: e });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok');
  });
});

/** A real HTTP server on 127.0.0.1 that records requests and answers from `answer`. */
interface Stub {
  url: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[];
  close(): Promise<void>;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string | Buffer };

async function startStub(answer: (n: number) => Answer): Promise<Stub> {
  const requests: Stub['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const a = answer(requests.length);
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An error the way SageMaker Runtime sends it: restJson1, the type in x-amzn-ErrorType, the members in a JSON body. */
const awsError = (status: number, type: string, members: Record<string, unknown>): Answer => ({
  status,
  headers: { 'x-amzn-ErrorType': type, 'content-type': 'application/json', 'x-amzn-RequestId': 'req-1' },
  body: JSON.stringify(members),
});

const ok = (body: string | Buffer, headers: Record<string, string> = {}): Answer => ({
  status: 200,
  headers: { 'content-type': 'text/csv', 'x-Amzn-Invoked-Production-Variant': 'AllTraffic', ...headers },
  body,
});

describe('mme invoke on the wire and its error mapping (stub server)', () => {
  const stubs: Stub[] = [];
  const stub = async (answer: (n: number) => Answer) => {
    const s = await startStub(answer);
    stubs.push(s);
    return s;
  };
  const run = (s: Stub, args: string[], extra: Record<string, string> = {}) =>
    mme(['invoke', ...args], { env: { AWS_ENDPOINT_URL: s.url, MME_ENDPOINT_NAME: ENDPOINT, ...extra } });
  after(async () => {
    await Promise.all(stubs.map((s) => s.close()));
  });

  test('sends every header of the request as the API defines it', async () => {
    const s = await stub(() => ok('1'));
    const dir = tempDir();
    const file = path.join(dir, 'rows.json');
    fs.writeFileSync(file, '{"rows":[[1,2]]}');
    const r = await run(s, [
      '--target',
      'v2/m 37.tar.gz',
      '--body-file',
      file,
      '--accept',
      'text/csv',
      '--custom-attributes',
      'trace=abc',
      '--variant-target',
      'blue',
      '--inference-id',
      'inf-42',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.requests.length, 1);
    const q = s.requests[0];
    assert.equal(q.method, 'POST');
    assert.equal(q.url, `/endpoints/${ENDPOINT}/invocations`);
    assert.equal(q.headers['x-amzn-sagemaker-target-model'], 'v2/m 37.tar.gz');
    assert.equal(q.headers['content-type'], 'application/json', 'guessed from the .json extension');
    assert.equal(q.headers.accept, 'text/csv');
    assert.equal(q.headers['x-amzn-sagemaker-custom-attributes'], 'trace=abc');
    assert.equal(q.headers['x-amzn-sagemaker-target-variant'], 'blue');
    assert.equal(q.headers['x-amzn-sagemaker-inference-id'], 'inf-42');
    assert.equal(q.body.toString(), '{"rows":[[1,2]]}');

    await run(s, ['--target', 'm37.tar.gz', '--body', '1,2', '--content-type', 'text/libsvm']);
    assert.equal(s.requests[1].headers['content-type'], 'text/libsvm');
    await run(s, ['--target', 'm37.tar.gz', '--body', '1,2']);
    assert.equal(s.requests[2].headers['content-type'], 'text/csv', 'the default');
  });

  test('binary responses pass through untouched, and --json base64-encodes them', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x41]);
    const s = await stub(() => ok(bytes, { 'content-type': 'application/x-npy' }));
    const raw = await mme(['invoke', '--target', 'm37.tar.gz', '--body', '1'], { env: { AWS_ENDPOINT_URL: s.url, MME_ENDPOINT_NAME: ENDPOINT } });
    assert.equal(raw.code, 0, raw.stderr);
    // The helper decodes stdout as UTF-8, so compare through a file written by --out as well.
    const out = path.join(tempDir(), 'body.npy');
    await run(s, ['--target', 'm37.tar.gz', '--body', '1', '--out', out]);
    assert.deepEqual(fs.readFileSync(out), bytes);
    const j = await run(s, ['--target', 'm37.tar.gz', '--body', '1', '--json']);
    assert.equal(j.json.result.bodyEncoding, 'base64');
    assert.deepEqual(Buffer.from(j.json.result.body, 'base64'), bytes);
  });

  test('ModelError shows the container status, its message and the log stream', async () => {
    const arn = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/fraud-mme:log-stream:AllTraffic/i-0abc';
    const s = await stub(() =>
      awsError(424, 'ModelError', {
        ErrorCode: 'CLIENT_ERROR_FROM_MODEL',
        Message: 'Received client error (400) from primary with message "bad row".',
        OriginalStatusCode: 400,
        OriginalMessage: 'feature count mismatch:\n expected 30, got 2',
        LogStreamArn: arn,
      }),
    );
    const r = await run(s, ['--target', 'm37.tar.gz', '--body', '1,2']);
    assertUsageLine(
      r,
      1,
      /^mme: ModelError: the model container for m37\.tar\.gz on fraud-mme answered HTTP 400: feature count mismatch: expected 30, got 2\. Container logs: arn:aws:logs:.*i-0abc$/,
    );
    assert.equal(s.requests.length, 1, 'a ModelError is not retried');
    const j = await run(s, ['--target', 'm37.tar.gz', '--body', '1,2', '--json']);
    assert.equal(j.code, 1);
    assert.equal(j.json.status, 'error');
    assert.match(j.json.error.message, /answered HTTP 400/);
    assert.equal(j.json.error.hint, `Container logs: ${arn}`);
  });

  test('ValidationError: endpoint not multi-model exits 2, endpoint not found exits 3', async () => {
    const notMme = await stub(() =>
      awsError(400, 'ValidationError', {
        ErrorCode: 'TARGET_MODEL_HEADER_NOT_SUPPORTED',
        Message: `Endpoint ${ENDPOINT} is not a multi-model endpoint and does not support target model header.`,
      }),
    );
    assertUsageLine(
      await run(notMme, ['--target', 'm37.tar.gz', '--body', '1']),
      2,
      /endpoint fraud-mme is not a multi-model endpoint, so it does not take a TargetModel/,
    );
    const missing = await stub(() => awsError(400, 'ValidationError', { Message: `Endpoint ${ENDPOINT} of account 123456789012 not found.` }));
    assertUsageLine(await run(missing, ['--target', 'm37.tar.gz', '--body', '1']), 3, /endpoint fraud-mme does not exist in this account and region/);
    const other = await stub(() => awsError(400, 'ValidationError', { Message: 'Content type application/x-foo is not supported.' }));
    assertUsageLine(
      await run(other, ['--target', 'm37.tar.gz', '--body', '1']),
      2,
      /ValidationError from fraud-mme: Content type application\/x-foo is not supported\./,
    );
  });

  test('a model the endpoint cannot download: exit 3 when it is missing under the prefix, 1 when it is there', async () => {
    const s = await stub(() =>
      awsError(400, 'ValidationError', {
        Message:
          'Failed to download model data(bucket: models, key: fraud/m99.tar.gz). Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.',
      }),
    );
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'm37.tar.gz'), 'x');
    const prefix = `file://${dir}/`;
    assertUsageLine(
      await run(s, ['--target', 'm99.tar.gz', '--body', '1', '--prefix', prefix]),
      3,
      /model m99\.tar\.gz is not under file:\/\/.* List the models with `mme ls`/,
    );
    assertUsageLine(
      await run(s, ['--target', 'm37.tar.gz', '--body', '1', '--prefix', prefix]),
      1,
      /could not download m37\.tar\.gz, although it exists under file:\/\/.*execution role/,
    );
    assertUsageLine(await run(s, ['--target', 'm37.tar.gz', '--body', '1']), 1, /could not download m37\.tar\.gz .*`mme ls`/);
  });

  test('ModelNotReadyException is retried with backoff, saying the model is still loading', async () => {
    const notReady = awsError(429, 'ModelNotReadyException', { Message: 'Model m37.tar.gz is not ready.' });
    const s = await stub((n) => (n <= 2 ? notReady : ok('0.42\n')));
    const r = await run(s, ['--target', 'm37.tar.gz', '--body', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0.42\n');
    assert.equal(s.requests.length, 3);
    assert.equal((r.stderr.match(/m37\.tar\.gz is still loading on fraud-mme \(ModelNotReadyException\); retrying in [\d.]+ s/g) ?? []).length, 2, r.stderr);
    const j = await run(await stub((n) => (n === 1 ? notReady : ok('1'))), ['--target', 'm37.tar.gz', '--body', '1', '--json']);
    assert.equal(j.json.result.notReadyRetries, 1);
  });

  test('ModelNotReadyException past the --wait-ready budget fails, and the SDK does not retry it behind our back', async () => {
    const s = await stub(() => awsError(429, 'ModelNotReadyException', { Message: 'Model m37.tar.gz is not ready.' }));
    const r = await run(s, ['--target', 'm37.tar.gz', '--body', '1', '--wait-ready', '0']);
    assertUsageLine(r, 1, /ModelNotReadyException: m37\.tar\.gz was still loading on fraud-mme after 0 s of retries/);
    assert.equal(s.requests.length, 1);
    const bounded = await run(s, ['--target', 'm37.tar.gz', '--body', '1', '--wait-ready', '1.5']);
    assert.equal(bounded.code, 1);
    assert.match(bounded.stderr, /after 1\.5 s of retries/);
    assert.ok(s.requests.length >= 3, `retried within the budget (${s.requests.length} requests)`);
  });

  test('5xx is retried by the SDK, then reported in one line', async () => {
    const s = await stub(() => awsError(503, 'ServiceUnavailable', { Message: 'Service is unavailable.' }));
    const r = await run(s, ['--target', 'm37.tar.gz', '--body', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mme: ServiceUnavailable from fraud-mme \(HTTP 503\): Service is unavailable\./);
    assert.equal(s.requests.length, 3, 'the standard retry strategy: 3 attempts');
    const flaky = await stub((n) => (n === 1 ? awsError(500, 'InternalFailure', { Message: 'oops' }) : ok('fine')));
    const ok2 = await run(flaky, ['--target', 'm37.tar.gz', '--body', '1']);
    assert.equal(ok2.code, 0, ok2.stderr);
    assert.equal(ok2.stdout, 'fine');
  });

  test('an unreachable endpoint URL is one line', async () => {
    const port = await freePort();
    const r = await mme(['invoke', '--target', 'm37.tar.gz', '--body', '1'], {
      env: { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, MME_ENDPOINT_NAME: ENDPOINT },
    });
    assertUsageLine(r, 1, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  test('load mode counts errors by type and exits 1; stops at once on a missing endpoint (exit 3)', async () => {
    const s = await stub((n) => (n % 4 === 0 ? awsError(424, 'ModelError', { Message: 'boom', OriginalStatusCode: 500, OriginalMessage: 'boom' }) : ok('1')));
    const r = await run(s, ['--target', 'm37.tar.gz', '--body', '1', '--repeat', '40', '--concurrency', '2', '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.json.result.requests, 40);
    assert.equal(r.json.result.errors, 10);
    assert.deepEqual(r.json.result.errorsByType, { ModelError: 10 });
    assert.equal(r.json.result.ok, 30);
    assert.match(r.stderr, /10 of 40 request\(s\) failed; the first: ModelError/);

    const gone = await stub(() => awsError(400, 'ValidationError', { Message: `Endpoint ${ENDPOINT} of account 123456789012 not found.` }));
    const g = await run(gone, ['--target', 'm37.tar.gz', '--body', '1', '--repeat', '1000', '--concurrency', '4']);
    assertUsageLine(g, 3, /endpoint fraud-mme does not exist/);
    assert.equal(gone.requests.length, 1, 'the cold call failed; no warm calls were sent');
  });
});
