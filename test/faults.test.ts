// Faults between mme and AWS (issue 10): a proxy that stalls, resets, drops and slows sits between the built `mme`
// and moto. Every command ends within its timeout with one line and its exit code, and S3 is left with no multipart
// upload (checked with boto3's twin, the SDK's ListMultipartUploads, directly against moto).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { MME, baseEnv, mme, tempDir, type RunResult } from './helpers/cli.js';
import { tarHeader } from './helpers/models.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

const BUCKET = 'fleet';
/** Short limits so that a stall ends in seconds; the bound on each run is only "it ends at all". */
const FAST = { MME_CONNECT_TIMEOUT: '2s', MME_REQUEST_TIMEOUT: '1s', AWS_MAX_ATTEMPTS: '2' };
const ENDS_WITHIN = 45_000;

/** A gzip'd tar made without mme: a header block with one file, random bytes (they are never unpacked here). */
function artifactOf(file: string, bytes: number): string {
  const tar = tarHeader('xgboost-model', bytes);
  // Gzip stored blocks keep random bytes at their size: a real multipart upload without compression cost.
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([tar, crypto.randomBytes(bytes), Buffer.alloc(1024)]), { level: 0 }));
  return file;
}

// One moto and one proxy for the file: each test sets the proxy's mode and starts from an empty bucket.
let moto: Moto;
let proxy: FaultProxy;
let s3: S3Client;
const work = tempDir();
before(async () => {
  if (skipWithoutMoto) return;
  moto = await startMoto();
  proxy = await startFaultProxy(moto.url);
  s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});
after(async () => {
  s3?.destroy();
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  if (skipWithoutMoto) return;
  proxy.setMode({ kind: 'pass' });
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

describe('commands through a faulty network', { skip: skipWithoutMoto }, () => {
  let small: string;
  let big: string;
  const viaProxy = () => ['--endpoint-url', proxy.url, '--prefix', `s3://${BUCKET}/models/`, '--endpoint-name', 'fraud-mme'];
  const uploads = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key);
  const oneLine = (r: RunResult) => {
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('mme-test-phase:'));
    assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
    return lines[0];
  };

  before(() => {
    small = artifactOf(path.join(work, 'm1.tar.gz'), 1024);
    big = artifactOf(path.join(work, 'big.tar.gz'), 20 * 1024 * 1024);
  });
  test('a server that accepts and never answers: ls, rm, push, stats and invoke each end with one line, exit 1', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/m1.tar.gz', Body: 'x' }));
    proxy.setMode({ kind: 'stall' });
    const runs: [string, string[]][] = [
      ['ls', ['ls']],
      ['rm', ['rm', 'm1.tar.gz', '--yes']],
      ['push', ['push', small]],
      ['stats', ['stats', '--since', '1h']],
      ['invoke', ['invoke', '--target', 'm1.tar.gz', '--body', '1,2,3,4,5,6,7,8']],
    ];
    const results = await Promise.all(runs.map(([, args]) => mme([...args, ...viaProxy()], { env: FAST, timeoutMs: ENDS_WITHIN })));
    results.forEach((r, i) => {
      const what = runs[i][0];
      assert.equal(r.code, 1, `${what}: ${r.stderr}`);
      assert.match(oneLine(r), /no answer from http:\/\/127\.0\.0\.1:\d+ within the request timeout/, what);
    });
    assert.deepEqual(await keys(), ['models/m1.tar.gz'], 'rm deleted nothing, push wrote nothing');
    assert.deepEqual(await uploads(), []);
  });

  test('the first SIGTERM ends ls, rm, push, stats and invoke at once while a request hangs (exit 130, one line)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/m1.tar.gz', Body: 'x' }));
    const runs: [string, string[]][] = [
      ['ls', ['ls']],
      ['rm', ['rm', 'm1.tar.gz', '--yes']],
      ['push', ['push', small]],
      ['stats', ['stats', '--since', '1h']],
      ['invoke', ['invoke', '--target', 'm1.tar.gz', '--body', '1,2,3,4,5,6,7,8']],
    ];
    for (const [what, args] of runs) {
      proxy.setMode({ kind: 'stall' });
      const stalled = proxy.next('stalled');
      // The default 60 s request timeout: only the signal can end these runs within the test's bound.
      const child = spawn(process.execPath, [MME, ...args, ...viaProxy()], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const guard = setTimeout(() => child.kill('SIGKILL'), ENDS_WITHIN); // only so a regression fails instead of hanging
      const closed = new Promise<number | null>((r) => child.on('close', r));
      await stalled;
      child.kill('SIGTERM');
      const code = await closed;
      clearTimeout(guard);
      assert.equal(code, 130, `${what}: ${stderr}`);
      assert.equal(stderr.trim().split('\n').length, 1, `${what}: ${stderr}`);
      assert.match(stderr, /interrupted/, what);
    }
    assert.deepEqual(await keys(), ['models/m1.tar.gz']);
  });

  test('a connection reset at accept is called a reset, not "cannot reach"; --json gives one document', async () => {
    proxy.setMode({ kind: 'reset' });
    const r = await mme(['ls', ...viaProxy(), '--json'], { env: FAST, timeoutMs: ENDS_WITHIN });
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /connection to .* was reset mid-request \(ECONNRESET\)/);
    assert.doesNotMatch(r.stderr, /cannot reach/);
    assert.equal(r.json.status, 'error');
  });

  test('an answer that trickles in still completes (the request timeout is an idle limit)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/m1.tar.gz', Body: 'x' }));
    proxy.setMode({ kind: 'slow', delayMs: 20 });
    const r = await mme(['ls', ...viaProxy(), '--json'], { env: FAST, timeoutMs: ENDS_WITHIN });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.count, 1);
  });

  test('a reset mid-upload aborts the multipart upload and says so (exit 1, no parts left)', async () => {
    proxy.setMode({ kind: 'drop-after', bytes: 10 * 1024 * 1024, then: 'pass' });
    const reset = proxy.next('reset');
    const r = await mme(['push', big, ...viaProxy()], { env: { ...FAST, AWS_MAX_ATTEMPTS: '1' }, timeoutMs: ENDS_WITHIN });
    await reset;
    assert.equal(r.code, 1, r.stderr);
    const line = oneLine(r);
    assert.match(
      line,
      /upload of big\.tar\.gz failed: the connection .* was reset mid-request \(ECONNRESET\); its multipart upload was aborted; nothing was written/,
    );
    assert.doesNotMatch(line, /cannot reach/);
    assert.deepEqual(await uploads(), []);
    assert.deepEqual(await keys(), []);
  });

  test('when the abort itself cannot get through, the message names the upload id left behind', async () => {
    proxy.setMode({ kind: 'drop-after', bytes: 10 * 1024 * 1024, then: 'reset' });
    const r = await mme(['push', big, ...viaProxy()], { env: { ...FAST, AWS_MAX_ATTEMPTS: '1' }, timeoutMs: ENDS_WITHIN });
    assert.equal(r.code, 1, r.stderr);
    const left = await uploads();
    assert.equal(left.length, 1, 'the upload the proxy kept mme from aborting');
    const line = oneLine(r);
    assert.ok(line.includes(`multipart upload ${left[0].UploadId} could not be aborted`), line);
    assert.match(line, /aws s3api abort-multipart-upload --bucket fleet --key models\/big\.tar\.gz --upload-id/);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: left[0].Key, UploadId: left[0].UploadId }));
  });

  test('a batch push with one failure stops and aborts the others: no orphan parts', async () => {
    const big2 = artifactOf(path.join(work, 'big2.tar.gz'), 20 * 1024 * 1024);
    proxy.setMode({ kind: 'drop-after', bytes: 12 * 1024 * 1024, then: 'pass' });
    const r = await mme(['push', big, big2, ...viaProxy()], { env: { ...FAST, AWS_MAX_ATTEMPTS: '1' }, timeoutMs: ENDS_WITHIN });
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /reset mid-request/);
    assert.deepEqual(await uploads(), []);
    assert.deepEqual(await keys(), []);
  });

  test('a file modified during the push is caught by hashing the bytes sent: nothing written, no parts (exit 1)', async () => {
    // Hold the name check (HEAD), which comes after the first hash; change a byte the upload has yet to read; let go.
    const file = path.join(work, 'moving.tar.gz');
    fs.copyFileSync(big, file);
    proxy.setMode({ kind: 'hold', match: /^HEAD /, count: 1 });
    const held = proxy.next('held');
    const run = mme(['push', file, ...viaProxy()], { env: { MME_REQUEST_TIMEOUT: '60s' }, timeoutMs: ENDS_WITHIN });
    await held;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('tampered'), 0, 8, 15 * 1024 * 1024);
    fs.closeSync(fd);
    proxy.release();
    const r = await run;
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /moving\.tar\.gz: the file changed while it was being pushed: .*its multipart upload was aborted; nothing was written/);
    assert.deepEqual(await uploads(), []);
    assert.deepEqual(await keys(), []);
  });

  test('ten uploads in flight at once, all tied to the one Ctrl-C signal: no warning on stderr', async () => {
    // Node warns about "a possible memory leak" from the 11th listener of one AbortSignal (the SDK adds some per request).
    const dir = path.join(work, 'ten');
    for (let i = 0; i < 12; i++) artifactOf(path.join(dir, `m${i}.tar.gz`), 1024 + i);
    proxy.setMode({ kind: 'hold', match: /^PUT /, count: 10 });
    let held = 0;
    const onHeld = () => ++held === 10 && proxy.release();
    proxy.on('held', onHeld);
    try {
      const r = await mme(['sync', dir, ...viaProxy()], { env: { MME_REQUEST_TIMEOUT: '60s' }, timeoutMs: ENDS_WITHIN });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(held, 10);
      assert.doesNotMatch(r.stderr, /Warning/);
    } finally {
      proxy.off('held', onHeld);
    }
  });

  test('CompleteMultipartUpload keeps the overwrite guard: a push that finishes second is refused (exit 5)', async () => {
    // The first push is held at its complete while a second push of the same name finishes; then it is let go.
    proxy.setMode({ kind: 'hold', match: /^POST \S*uploadId=/, count: 1 });
    const held = proxy.next('held');
    const mid = artifactOf(path.join(work, 'mid.tar.gz'), 9 * 1024 * 1024);
    const other = artifactOf(path.join(work, 'other', 'mid.tar.gz'), 9 * 1024 * 1024 + 1);
    const first = mme(['push', mid, ...viaProxy()], { env: { MME_REQUEST_TIMEOUT: '60s' }, timeoutMs: ENDS_WITHIN });
    await held;
    const second = await mme(['push', other, '--endpoint-url', moto.url, '--prefix', `s3://${BUCKET}/models/`]);
    assert.equal(second.code, 0, second.stderr);
    proxy.release();
    const r = await first;
    assert.equal(r.code, 5, r.stderr);
    assert.match(oneLine(r), /mid\.tar\.gz already exists .*another push created it meanwhile.*multipart upload was aborted/);
    assert.deepEqual(await uploads(), []);
    const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'models/mid.tar.gz' }));
    assert.equal(stored.ContentLength, fs.statSync(other).size, "the second push's bytes");
  });
});

describe('Ctrl-C at each phase of a push', { skip: skipWithoutMoto }, () => {
  let big: string;
  before(() => {
    big = artifactOf(path.join(work, 'phases.tar.gz'), 20 * 1024 * 1024);
  });

  /** Starts a push, waits for `ready` (an event that says the phase is under way), sends SIGINT, returns the result. */
  async function interruptAt(ready: (stderr: { text: string; changed: EventTarget }) => Promise<unknown>, extraEnv: Record<string, string> = {}, json = false) {
    const child = spawn(process.execPath, [MME, 'push', big, '--endpoint-url', proxy.url, '--prefix', `s3://${BUCKET}/models/`, ...(json ? ['--json'] : [])], {
      env: baseEnv({ MME_TEST_PHASES: '1', ...extraEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const err = { text: '', changed: new EventTarget() };
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => {
      err.text += c;
      err.changed.dispatchEvent(new Event('data'));
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), ENDS_WITHIN); // only so a regression fails instead of hanging
    const closed = new Promise<number | null>((r) => child.on('close', r));
    await Promise.race([ready(err), closed]);
    child.kill('SIGINT');
    const code = await closed;
    clearTimeout(guard);
    const lines = err.text
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('mme-test-phase:'));
    return { code, lines, stdout, stderr: err.text };
  }
  const marker = (name: string) => (err: { text: string; changed: EventTarget }) =>
    new Promise<void>((resolve) => {
      const check = () => err.text.includes(`mme-test-phase: ${name}\n`) && resolve();
      err.changed.addEventListener('data', check);
      check();
    });

  const phases: [string, () => Promise<unknown>, Record<string, string>][] = [
    ['hashing', () => Promise.resolve(), { MME_TEST_HOLD: 'hashing' }],
    [
      'checking (HEAD held)',
      () => {
        proxy.setMode({ kind: 'hold', match: /^HEAD / });
        return Promise.resolve();
      },
      {},
    ],
    [
      'uploading parts (a part held)',
      () => {
        proxy.setMode({ kind: 'hold', match: /^PUT \S*partNumber=2/, count: 1 });
        return Promise.resolve();
      },
      {},
    ],
    [
      'completing (CompleteMultipartUpload held)',
      () => {
        proxy.setMode({ kind: 'hold', match: /^POST \S*uploadId=/, count: 1 });
        return Promise.resolve();
      },
      {},
    ],
  ];
  for (const [phase, arrange, env] of phases) {
    test(`SIGINT while ${phase}: exit 130, one line, no object, no multipart upload`, async () => {
      await arrange();
      const held = env.MME_TEST_HOLD ? undefined : proxy.next('held');
      const r = await interruptAt(async (err) => (held ? held : marker('hashing')(err)), env);
      assert.equal(r.code, 130, r.stderr);
      assert.equal(r.lines.length, 1, r.stderr);
      assert.match(r.lines[0], /^mme: (push |upload of phases\.tar\.gz )?interrupted/);
      proxy.release();
      assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? [], []);
      assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
    });
  }

  test('SIGINT under --json: still exactly one JSON document', async () => {
    proxy.setMode({ kind: 'hold', match: /^PUT \S*partNumber=2/, count: 1 });
    const held = proxy.next('held');
    const r = await interruptAt(() => held, {}, true);
    proxy.release();
    assert.equal(r.code, 130, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.status, 'error');
    assert.equal(doc.error.exitCode, 130);
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
  });
});
