// One hash per byte sent, and still server-verified (issues 10 and 12): every upload request of `mme push` and
// `mme sync` carries the SHA-256 of its body both as the checksum S3 verifies (x-amz-checksum-sha256) and as the
// signed payload hash (x-amz-content-sha256). Seen on the wire by a recording proxy in front of moto, which hashes the
// bodies itself; what is stored is read back with the SDK directly.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { CreateBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mme, tempDir } from './helpers/cli.js';
import { tarHeader } from './helpers/models.js';
import { freePort, skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

const BUCKET = 'fleet';

/** A gzip'd tar (stored, so its size is about `bytes`) with one root file of random bytes; no mme involved. */
function artifact(file: string, bytes: number): string {
  const tar = tarHeader('xgboost-model', bytes);
  const pad = Buffer.alloc((512 - (bytes % 512)) % 512);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([tar, crypto.randomBytes(bytes), pad, Buffer.alloc(1024)]), { level: 0 }));
  return file;
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  size: number;
  sha256: Buffer;
}

/** A proxy that forwards everything to moto and records each request with the sha256 of the body it carried. */
async function recordingProxy(target: string): Promise<{ url: string; seen: Seen[]; close(): void }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const hash = crypto.createHash('sha256');
    let size = 0;
    const up = http.request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    req.on('end', () => seen.push({ method: req.method!, url: req.url!, headers: req.headers, size, sha256: hash.digest() }));
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, seen, close: () => server.close() };
}

const uploads = (seen: Seen[]) => seen.filter((s) => s.method === 'PUT' && s.size > 0);

function assertOneHash(s: Seen): void {
  assert.equal(s.headers['x-amz-content-sha256'], s.sha256.toString('hex'), `${s.url}: the signed payload hash is the body's`);
  assert.equal(s.headers['x-amz-checksum-sha256'], s.sha256.toString('base64'), `${s.url}: the checksum S3 verifies is the body's`);
  assert.equal(s.headers['transfer-encoding'], undefined, `${s.url}: a plain body, not aws-chunked`);
}

describe('upload requests carry one SHA-256 as checksum and payload hash', { skip: skipWithoutMoto }, () => {
  let moto: Moto;
  let s3: S3Client;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const work = tempDir();
  const env = { XDG_CACHE_HOME: path.join(work, 'cache') };
  const args = (prefix: string) => ['--endpoint-url', proxy.url, '--prefix', `s3://${BUCKET}/${prefix}`];

  before(async () => {
    moto = await startMoto();
    proxy = await recordingProxy(moto.url);
    s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  after(async () => {
    proxy?.close();
    s3?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    proxy.seen.length = 0;
  });

  test('a small artifact goes up as one PutObject; S3 holds its sha256 as checksum and metadata', async () => {
    const file = artifact(path.join(work, 'small', 'm1.tar.gz'), 3 * 1024 * 1024);
    const r = await mme(['push', file, ...args('models/')], { env });
    assert.equal(r.code, 0, r.stderr);
    const puts = uploads(proxy.seen);
    assert.equal(puts.length, 1, 'one request');
    assert.doesNotMatch(puts[0].url, /partNumber|uploadId/);
    assertOneHash(puts[0]);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest();
    assert.deepEqual(puts[0].sha256, sha);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/m1.tar.gz', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha.toString('base64'));
    assert.equal(head.Metadata?.sha256, sha.toString('hex'));
    assert.equal(head.ContentLength, fs.statSync(file).size);
  });

  test('a large artifact: every part carries its own sha256 once; no multipart upload is left', async () => {
    const file = artifact(path.join(work, 'big', 'big.tar.gz'), 20 * 1024 * 1024);
    const r = await mme(['push', file, ...args('models/')], { env });
    assert.equal(r.code, 0, r.stderr);
    const parts = uploads(proxy.seen);
    assert.equal(parts.length, 3, '8 + 8 + 4 MiB');
    for (const p of parts) {
      assert.match(p.url, /partNumber=\d/);
      assertOneHash(p);
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/big.tar.gz' }));
    assert.equal(head.Metadata?.sha256, crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
  });

  test('sync uploads each new artifact once, from the bytes it hashed for the version name', async () => {
    const dir = path.join(work, 'fleet');
    for (const alias of ['a1', 'a2', 'a3']) artifact(path.join(dir, `${alias}.tar.gz`), 1024 * 1024);
    const r = await mme(['sync', dir, ...args('rel/'), '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.uploads, 3);
    const puts = uploads(proxy.seen).filter((s) => !s.url.includes('.mme'));
    assert.equal(puts.length, 3);
    for (const p of puts) assertOneHash(p);
    const stored = ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'rel/a' }))).Contents ?? []).map((o) => o.Key).sort();
    const expected = ['a1', 'a2', 'a3'].map((alias) => {
      const sha = crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(dir, `${alias}.tar.gz`)))
        .digest('hex');
      return `rel/${alias}/${sha.slice(0, 12)}.tar.gz`;
    });
    assert.deepEqual(stored, expected);
    // Nothing changed: no upload, no listing wait, no manifest write.
    proxy.seen.length = 0;
    const again = await mme(['sync', dir, ...args('rel/'), '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([again.json.result.unchanged, again.json.result.uploads, again.json.result.written], [3, 0, false]);
    assert.deepEqual(
      proxy.seen.filter((s) => s.method !== 'GET'),
      [],
    );
  });
});
