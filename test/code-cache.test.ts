// The V8 code cache of the CLI's and the SDK's bundles (src/util/code-cache.ts): written once in the user's cache
// folder, used by the next runs, and never a reason for a command to fail: a damaged cache or one that others could
// have written is replaced, not used. Checked by running the built `mme ls` on moto S3 and looking at the cache
// folder directly; the tests damage S3's cache (the CLI's is handled by the same code).
// Run: npm run build && node --import tsx --test test/code-cache.test.ts
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mme, tempDir } from './helpers/cli.js';
import { skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

describe('the SDK code cache', { skip: skipWithoutMoto }, () => {
  let moto: Moto;
  const cacheHome = tempDir('mme-code-cache-');
  const folder = path.join(cacheHome, 'mme', 'code-cache');
  const ls = () => mme(['ls', '--prefix', 's3://fleet/', '--endpoint-url', moto.url, '--json'], { env: { XDG_CACHE_HOME: cacheHome } });
  /** The cache files: name → bytes. */
  const files = () => new Map(fs.readdirSync(folder).map((f) => [f, fs.readFileSync(path.join(folder, f))]));
  /** S3's cache file: name and bytes. */
  const s3Cache = () => [...files()].find(([f]) => f.startsWith('s3-'))!;

  before(async () => {
    moto = await startMoto();
    const s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'fleet' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fleet', Key: 'm1.tar.gz', Body: 'not read by ls' }));
    s3.destroy();
  });
  after(async () => {
    await moto?.stop();
    fs.rmSync(cacheHome, { recursive: true, force: true });
  });

  const listsM1 = async () => {
    const r = await ls();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(
      r.json.result.models.map((m: { name: string }) => m.name),
      ['m1.tar.gz'],
    );
  };

  test('the first run writes it, private to the user; the next runs use it as it is', async () => {
    await listsM1();
    const names = [...files().keys()].sort();
    assert.equal(names.length, 2, `two bundles, the CLI's and S3's: ${names}`);
    // the bundle (content hash), its folder, the Node version
    assert.match(names[0], /^cli-[0-9a-f]{12}\.cjs\.[0-9a-f]{8}\.v\d+\.\d+\.\d+-\w+\.v8$/);
    assert.match(names[1], /^s3-[0-9a-f]{12}\.cjs\.[0-9a-f]{8}\.v\d+\.\d+\.\d+-\w+\.v8$/);
    assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
    const inodes = names.map((name) => {
      assert.equal(fs.statSync(path.join(folder, name)).mode & 0o777, 0o600);
      return fs.statSync(path.join(folder, name)).ino;
    });
    await listsM1();
    await listsM1();
    assert.deepEqual(
      names.map((name) => fs.statSync(path.join(folder, name)).ino),
      inodes,
      'a cache V8 accepted is not written again',
    );
  });

  /** After a run that rewrote it: a cache like the first one, which the next run accepts (does not write again). */
  const rewritten = async (file: string, size: number) => {
    assert.ok(Math.abs(fs.statSync(file).size - size) < size / 10, `${fs.statSync(file).size} bytes, the first run wrote ${size}`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const inode = fs.statSync(file).ino;
    await listsM1();
    assert.equal(fs.statSync(file).ino, inode);
  };

  test('a damaged cache is ignored and replaced', async () => {
    const [name, bytes] = s3Cache();
    const file = path.join(folder, name);
    for (const damaged of [Buffer.from('not a code cache'), bytes.subarray(0, bytes.length >> 1), Buffer.alloc(0)]) {
      fs.writeFileSync(file, damaged);
      await listsM1();
      await rewritten(file, bytes.length);
    }
  });

  test('a cache that others could have written is not used, and replaced', async () => {
    const [name, bytes] = s3Cache();
    const file = path.join(folder, name);
    // valid, but group- and world-writable
    fs.writeFileSync(file, bytes);
    fs.chmodSync(file, 0o666);
    await listsM1();
    await rewritten(file, bytes.length);
  });

  test("another build's, folder's or Node version's cache of the same bundle is deleted when the cache is written", async () => {
    const [name] = s3Cache();
    const stale = [
      's3-000000000000.cjs.00000000.v20.0.0-x64.v8',
      name.replace(/\.v\d+\.\d+\.\d+-/, '.v18.0.0-'),
      name.replace(/\.[0-9a-f]{8}\./, '.00000000.'), // the same build in another folder
    ];
    const other = 'cloudwatch-000000000000.cjs.v20.0.0-x64.v8';
    for (const f of [...stale, other]) fs.writeFileSync(path.join(folder, f), 'old', { mode: 0o600 });
    fs.rmSync(path.join(folder, name)); // the next run writes it
    await listsM1();
    assert.deepEqual([...files().keys()].filter((f) => !f.startsWith('cli-')).sort(), [other, name].sort());
  });

  test('a cache folder that cannot be made (under /proc) leaves the command as it is', { skip: !fs.existsSync('/proc/self') && 'no /proc' }, async () => {
    // Node's recursive mkdir never returned there: the command hung at exit. The timeout is a hang guard only.
    const r = await mme(['ls', '--prefix', 's3://fleet/', '--endpoint-url', moto.url, '--json'], {
      env: { XDG_CACHE_HOME: '/proc/mme-test' },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.json.result.models.length, 1);
  });

  test('MME_NO_CODE_CACHE: nothing is read or written', async () => {
    fs.rmSync(folder, { recursive: true });
    const r = await mme(['ls', '--prefix', 's3://fleet/', '--endpoint-url', moto.url, '--json'], {
      env: { XDG_CACHE_HOME: cacheHome, MME_NO_CODE_CACHE: '1' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(folder), false);
  });
});
