// Batch pushes that re-run cleanly (issue 9): several existing names give one line; --skip-identical skips the
// artifacts whose bytes are already stored. Checked on S3 (moto, read back with the SDK) and on a folder fleet.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mme, tempDir } from './helpers/cli.js';
import { tarHeader } from './helpers/models.js';
import { skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

const BUCKET = 'fleet';

/** A small gzip'd tar with one root file, bytes chosen by the caller (no mme involved). */
function artifact(file: string, body: Buffer): string {
  const tar = tarHeader('xgboost-model', body.length);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([tar, body, pad, Buffer.alloc(1024)])));
  return file;
}

function batch(dir: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => artifact(path.join(dir, `m${i}.tar.gz`), crypto.randomBytes(100)));
}

describe('batch push on S3', { skip: skipWithoutMoto }, () => {
  let moto: Moto;
  let s3: S3Client;
  const s3args = () => ['--endpoint-url', moto.url, '--prefix', `s3://${BUCKET}/models/`];
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key).sort();

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  after(async () => {
    s3?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  test('several existing names: one line with the count, the first few and the real fixes (exit 5, nothing pushed)', async () => {
    const files = batch(tempDir(), 8);
    assert.equal((await mme(['push', ...files.slice(0, 7), ...s3args()])).code, 0);
    const extra = artifact(path.join(tempDir(), 'new.tar.gz'), Buffer.from('new'));
    const r = await mme(['push', ...files, extra, ...s3args()]);
    assert.equal(r.code, 5, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^mme: 7 of 9 artifacts already exist under s3:\/\/fleet\/models\/: m0\.tar\.gz, m1\.tar\.gz, m2\.tar\.gz, m3\.tar\.gz, m4\.tar\.gz and 2 more; nothing was pushed\./,
    );
    assert.match(lines[0], /--skip-identical/);
    assert.match(lines[0], /--force/);
    assert.doesNotMatch(lines[0], /--as/);
    assert.equal((await keys()).length, 7);
  });

  test('--skip-identical pushes only what is new, says how many it skipped, and lists them under --json', async () => {
    const files = batch(tempDir(), 4);
    assert.equal((await mme(['push', ...files.slice(0, 3), ...s3args()])).code, 0);
    const r = await mme(['push', ...files, ...s3args(), '--skip-identical', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.result.pushes.map((p: { name: string }) => p.name),
      ['m3.tar.gz'],
    );
    assert.deepEqual(
      r.json.result.skipped.map((p: { name: string }) => p.name),
      ['m0.tar.gz', 'm1.tar.gz', 'm2.tar.gz'],
    );
    const sha = crypto.createHash('sha256').update(fs.readFileSync(files[0])).digest('hex');
    assert.equal(r.json.result.skipped[0].sha256, sha);
    assert.match(r.stderr, /skipped 3 artifact\(s\) already stored with the same sha256/);
    assert.deepEqual(await keys(), ['models/m0.tar.gz', 'models/m1.tar.gz', 'models/m2.tar.gz', 'models/m3.tar.gz']);
    // The stored sha256 (metadata) is the one of the bytes sent.
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/m3.tar.gz' }));
    assert.equal(head.Metadata?.sha256, crypto.createHash('sha256').update(fs.readFileSync(files[3])).digest('hex'));
  });

  test('--skip-identical still refuses a name whose stored bytes differ (exit 5); with --force it overwrites that one', async () => {
    const dir = tempDir();
    const files = batch(dir, 2);
    assert.equal((await mme(['push', ...files, ...s3args()])).code, 0);
    artifact(files[1], Buffer.from('changed'));
    const r = await mme(['push', ...files, ...s3args(), '--skip-identical']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /1 of 2 artifacts already exist under \S+ with different bytes: m1\.tar\.gz;/);
    const f = await mme(['push', ...files, ...s3args(), '--skip-identical', '--force', '--json']);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(
      f.json.result.pushes.map((p: { name: string }) => p.name),
      ['m1.tar.gz'],
    );
    assert.deepEqual(
      f.json.result.skipped.map((p: { name: string }) => p.name),
      ['m0.tar.gz'],
    );
  });
});

describe('batch push on a folder fleet', () => {
  test('--skip-identical skips identical copies there too', async () => {
    const dir = tempDir();
    const files = batch(path.join(dir, 'src'), 3);
    const prefix = ['--prefix', `file://${path.join(dir, 'fleet')}/`];
    assert.equal((await mme(['push', ...files.slice(0, 2), ...prefix])).code, 0);
    const refused = await mme(['push', ...files, ...prefix]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /2 of 3 artifacts already exist/);
    const r = await mme(['push', ...files, ...prefix, '--skip-identical', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.skipped.length, 2);
    assert.ok(fs.readFileSync(path.join(dir, 'fleet', 'm2.tar.gz')).equals(fs.readFileSync(files[2])));
  });
});
