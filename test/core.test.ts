// End-to-end tests of the CLI core (issue 2): the built `mme` against a real moto S3, checked through the SDK.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MME, baseEnv, mme, tempDir } from './helpers/cli.js';
import { skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';

const BUCKET = 'fleet';

/** A model folder with an XGBoost-looking file (the contents need not score: package and push don't load it). */
function modelFolder(dir: string, files: Record<string, string | Buffer> = { 'xgboost-model.json': '{"learner":{}}' }): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

describe('mme package', () => {
  const work = tempDir();

  test('puts the files at the archive root, with reproducible bytes', async () => {
    const src = modelFolder(path.join(work, 'm37'), { 'xgboost-model': Buffer.from([1, 2, 3]), 'code/inference.py': 'print(1)\n' });
    const a = await mme(['package', src, '-o', path.join(work, 'a.tar.gz'), '--json']);
    assert.equal(a.code, 0, a.stderr);
    // Same input later, with other mtimes and from another folder: same bytes.
    const copy = modelFolder(path.join(work, 'copy', 'm37'), { 'xgboost-model': Buffer.from([1, 2, 3]), 'code/inference.py': 'print(1)\n' });
    fs.utimesSync(path.join(copy, 'xgboost-model'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = await mme(['package', copy, '-o', path.join(work, 'b.tar.gz'), '--json']);
    assert.equal(b.json.result.sha256, a.json.result.sha256);
    const sha = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(work, 'a.tar.gz')))
      .digest('hex');
    assert.equal(a.json.result.sha256, sha);
    // An independent reader: GNU tar lists the entries at the root, owned by 0/0 with fixed modes.
    const listing = execFileSync('tar', ['tzvf', path.join(work, 'a.tar.gz')]).toString();
    assert.match(listing, /^drwxr-xr-x 0\/0 .* code\/$/m);
    assert.match(listing, /^-rw-r--r-- 0\/0 .* code\/inference\.py$/m);
    assert.match(listing, /^-rw-r--r-- 0\/0 .* xgboost-model$/m);
    assert.doesNotMatch(listing, /m37\//);
    assert.equal(a.json.result.framework, 'xgboost');
    // three bytes are not a legacy binary model (its header does not read as one): labelled invalid, with a warning
    assert.deepEqual(a.json.result.modelFiles, [{ path: 'xgboost-model', format: 'invalid' }]);
  });

  test('a large input is one valid gzip stream that round-trips', async () => {
    const big = crypto.randomBytes(3 * 1024 * 1024);
    const text = Buffer.from('0.123456789,'.repeat(300_000));
    const src = modelFolder(path.join(work, 'big'), { 'xgboost-model.json': text, 'weights.bin': big });
    const out = path.join(work, 'big.tar.gz');
    const r = await mme(['package', src, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    execFileSync('gzip', ['-t', out]);
    const x = tempDir();
    execFileSync('tar', ['xzf', out, '-C', x]);
    assert.ok(fs.readFileSync(path.join(x, 'weights.bin')).equals(big));
    assert.ok(fs.readFileSync(path.join(x, 'xgboost-model.json')).equals(text));
  });

  test('warns when an XGBoost artifact holds several model files', async () => {
    const src = modelFolder(path.join(work, 'kfold'), { 'xgboost-model-0': 'a', 'xgboost-model-1': 'b' });
    const r = await mme(['package', src, '-o', path.join(work, 'kfold.tar.gz')]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: 2 XGBoost model files .* averages their predictions/);
  });

  const refusals: [string, () => string[], RegExp][] = [
    ['a missing folder', () => [path.join(work, 'nope')], /does not exist/],
    ['an empty folder', () => [modelFolder(path.join(work, 'empty'), {})], /has no files to package/],
    [
      'a symlink out of the folder',
      () => {
        const d = modelFolder(path.join(work, 'linky'));
        fs.symlinkSync('/etc/hostname', path.join(d, 'leak'));
        return [d];
      },
      /symlink pointing outside/,
    ],
    [
      'a FIFO',
      () => {
        const d = modelFolder(path.join(work, 'fifo'));
        execFileSync('mkfifo', [path.join(d, 'pipe')]);
        return [d];
      },
      /not a regular file/,
    ],
    ['an input that is already a .tar.gz', () => [path.join(work, 'a.tar.gz')], /already a gzip file/],
  ];
  for (const [what, args, message] of refusals) {
    test(`refuses ${what} (exit 2, nothing written)`, async () => {
      const out = path.join(work, `refused-${what.replace(/\W/g, '')}.tar.gz`);
      const r = await mme(['package', ...args(), '-o', out]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      assert.ok(!fs.existsSync(out));
    });
  }
});

describe('push, ls and rm against S3 (moto)', { skip: skipWithoutMoto }, () => {
  let moto: Moto;
  let s3: S3Client;
  const work = tempDir();
  let artifact: string;
  const s3args = (prefix = `s3://${BUCKET}/models/`) => ['--endpoint-url', moto.url, '--prefix', prefix];
  const keys = async (prefix = '') => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    artifact = path.join(work, 'm37.tar.gz');
    assert.equal((await mme(['package', modelFolder(path.join(work, 'm37')), '-o', artifact])).code, 0);
  });
  after(async () => {
    s3?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  test('push uploads under the prefix with the sha256 in metadata', async () => {
    const r = await mme(['push', artifact, ...s3args(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(artifact)).digest('hex');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/m37.tar.gz' }));
    assert.equal(head.Metadata?.sha256, sha);
    assert.equal(head.ContentLength, fs.statSync(artifact).size);
    assert.equal(r.json.result.pushes[0].url, `s3://${BUCKET}/models/m37.tar.gz`);
    // ls --long reads it back; an object another tool wrote has none.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/other.tar.gz', Body: 'x' }));
    const ls = await mme(['ls', '--long', ...s3args(), '--json']);
    assert.deepEqual(
      ls.json.result.models.map((m: { name: string; sha256: string | null }) => [m.name, m.sha256]),
      [
        ['m37.tar.gz', sha],
        ['other.tar.gz', null],
      ],
    );
  });

  test('push refuses to overwrite (exit 5) and leaves the object alone; --force overwrites', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/m37.tar.gz', Body: 'old' }));
    const r = await mme(['push', artifact, ...s3args()]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /already exists .* cached old copy.*--as m37-v2\.tar\.gz/);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/m37.tar.gz' }))).ContentLength, 3);
    const f = await mme(['push', artifact, ...s3args(), '--force']);
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stderr, /keep serving the old copy/);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/m37.tar.gz' }))).ContentLength, fs.statSync(artifact).size);
  });

  test('push --as names the model, sub-folders included; --dry-run sends nothing', async () => {
    const dry = await mme(['push', artifact, '--as', 'v2/m37.tar.gz', ...s3args(), '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would push .* s3:\/\/fleet\/models\/v2\/m37\.tar\.gz/);
    assert.deepEqual(await keys(), []);
    const r = await mme(['push', artifact, '--as', 'v2/m37.tar.gz', ...s3args()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await keys(), ['models/v2/m37.tar.gz']);
  });

  test('a file larger than the part size goes up in parts and leaves no multipart upload behind', async () => {
    const big = path.join(work, 'big.tar.gz');
    const src = modelFolder(path.join(work, 'bigsrc'), { 'xgboost-model': crypto.randomBytes(20 * 1024 * 1024) });
    assert.equal((await mme(['package', src, '-o', big])).code, 0);
    const r = await mme(['push', big, ...s3args()]);
    assert.equal(r.code, 0, r.stderr);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'models/big.tar.gz' }));
    assert.equal(head.ContentLength, fs.statSync(big).size);
    assert.match(head.ETag ?? '', /-\d+"?$/, 'a multipart ETag');
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
  });

  test('an interrupted push aborts its multipart upload: no object, no parts (exit 130)', async () => {
    const big = path.join(work, 'huge.tar.gz');
    const src = modelFolder(path.join(work, 'hugesrc'), { 'xgboost-model': crypto.randomBytes(150 * 1024 * 1024) });
    assert.equal((await mme(['package', src, '-o', big])).code, 0);
    const child = spawn(process.execPath, [MME, 'push', big, ...s3args()], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    // Interrupt once the upload has begun (moto knows of the multipart upload), however long that takes.
    while (((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).length === 0) {
      assert.equal(child.exitCode, null, `push ended before its upload was seen: ${stderr}`);
      await new Promise((r) => setImmediate(r));
    }
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 130, stderr);
    assert.deepEqual(await keys(), []);
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
  });

  test('ls lists every page (1,001 models: two pages) and not the sibling prefix models/v10/', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `m${String(i).padStart(4, '0')}.tar.gz`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `models/v1/${n}`, Body: 'x' }))));
    }
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/v10/trap.tar.gz', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/v1/sub/deep.tar.gz', Body: 'xy' }));
    const r = await mme(['ls', ...s3args(`s3://${BUCKET}/models/v1`), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.count, 1001);
    assert.equal(r.json.result.prefix, 's3://fleet/models/v1/');
    const listed = r.json.result.models.map((m: { name: string }) => m.name);
    assert.ok(listed.includes('sub/deep.tar.gz'));
    assert.ok(!listed.some((n: string) => n.includes('trap')));
    // Piped human output: one row per model, the summary on stderr.
    const plain = await mme(['ls', ...s3args(`s3://${BUCKET}/models/v1/`), '--sort', 'size']);
    assert.equal(plain.stdout.trim().split('\n').length, 1001);
    assert.match(plain.stdout.split('\n')[0], /^sub\/deep\.tar\.gz\t2\t/);
    assert.match(plain.stderr, /1001 model\(s\)/);
  });

  test('rm deletes all named models, or none when one is missing (exit 3)', async () => {
    for (const n of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `models/${n}.tar.gz`, Body: 'x' }));
    const missing = await mme(['rm', 'a.tar.gz', 'zzz.tar.gz', '--yes', ...s3args()]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /not found .* zzz\.tar\.gz\. Nothing was deleted/);
    assert.equal((await keys()).length, 3);
    const noYes = await mme(['rm', 'a.tar.gz', ...s3args()]);
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /--yes/);
    const r = await mme(['rm', 'a.tar.gz', 'b.tar.gz', '--yes', ...s3args(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await keys(), ['models/c.tar.gz']);
    assert.match(r.stderr, /until they are evicted/);
  });

  test('bad input: one line, its exit code, and the bucket untouched', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/keep.tar.gz', Body: 'x' }));
    const notGzip = path.join(work, 'plain.tar.gz');
    fs.writeFileSync(notGzip, 'not gzip');
    const badConfig = path.join(work, 'bad.json');
    fs.writeFileSync(badConfig, '{"fleets": {"tail": {"prefx": "s3://x/"}}}');
    const goodConfig = path.join(work, 'good.json');
    fs.writeFileSync(goodConfig, '{"fleets": {"tail": {"prefix": "s3://fleet/models/"}}}');
    const brokenJson = path.join(work, 'broken.json');
    fs.writeFileSync(brokenJson, '{"fleets": ');
    const cases: [string, string[], number, RegExp][] = [
      ['missing config file', ['ls', '--config', path.join(work, 'none.json')], 2, /does not exist/],
      ['config that is not JSON', ['ls', '--config', brokenJson], 2, /is not valid JSON/],
      ['unknown config key', ['ls', '--config', badConfig], 2, /fleets\.tail: unknown key "prefx"/],
      ['unknown fleet', ['ls', '--config', goodConfig, '--fleet', 'head'], 2, /unknown fleet "head".*known fleets: tail/],
      ['bad prefix', ['ls', '--prefix', 'http://bucket/models/'], 2, /is not an s3:\/\/ or file:\/\/ prefix/],
      ['bad bucket', ['ls', '--prefix', 's3://Bad_Bucket/'], 2, /valid S3 bucket/],
      ['no prefix at all', ['ls'], 2, /no prefix configured.*--prefix/],
      ['missing artifact', ['push', path.join(work, 'nope.tar.gz'), ...s3args()], 2, /does not exist/],
      ['not a gzip', ['push', notGzip, ...s3args()], 2, /is not a gzip file/],
      ['a ".." name', ['push', artifact, '--as', '../escape.tar.gz', ...s3args()], 2, /"\.\." segment/],
      ['leading whitespace', ['push', artifact, '--as', ' m.tar.gz', ...s3args()], 2, /starts with whitespace/],
      ['a non-ASCII name', ['push', artifact, '--as', 'mödel.tar.gz', ...s3args()], 2, /non-printable or non-ASCII/],
      ['--as with two artifacts', ['push', artifact, artifact, '--as', 'x.tar.gz', ...s3args()], 2, /--as names one model/],
      ['unreachable endpoint', ['ls', '--endpoint-url', 'http://127.0.0.1:9', '--prefix', `s3://${BUCKET}/models/`], 1, /cannot reach http:\/\/127\.0\.0\.1:9/],
      ['unknown option', ['ls', '--bogus'], 2, /unknown option '--bogus'/],
    ];
    for (const [what, args, code, message] of cases) {
      const r = await mme(args);
      assert.equal(r.code, code, `${what}: ${r.stderr}`);
      assert.match(r.stderr, message, what);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
    }
    assert.deepEqual(await keys(), ['models/keep.tar.gz']);
  });
});

describe('file:// fleets and config', () => {
  const work = tempDir();
  const artifact = path.join(work, 'm1.tar.gz');
  before(async () => {
    assert.equal((await mme(['package', modelFolder(path.join(work, 'm1')), '-o', artifact])).code, 0);
  });

  test('push, ls, rm on a folder, with the overwrite guard and no temp files', async () => {
    fs.writeFileSync(path.join(work, 'mme.config.json'), JSON.stringify({ defaultFleet: 'local', fleets: { local: { prefix: 'file://./fleet' } } }));
    const opts = { cwd: work };
    assert.equal((await mme(['push', artifact], opts)).code, 0);
    assert.equal((await mme(['push', artifact, '--as', 'v2/m1.tar.gz'], opts)).code, 0);
    assert.ok(fs.readFileSync(path.join(work, 'fleet', 'm1.tar.gz')).equals(fs.readFileSync(artifact)));
    const again = await mme(['push', artifact], opts);
    assert.equal(again.code, 5);
    const ls = await mme(['ls', '--json'], opts);
    assert.deepEqual(
      ls.json.result.models.map((m: { name: string }) => m.name),
      ['m1.tar.gz', 'v2/m1.tar.gz'],
    );
    assert.equal(ls.json.result.prefix, `file://${path.join(work, 'fleet')}/`);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(artifact)).digest('hex');
    const long = await mme(['ls', '--long'], opts);
    assert.match(long.stdout, new RegExp(`^m1\\.tar\\.gz\\t${fs.statSync(artifact).size}\\t\\S+ \\S+\\t${sha}$`, 'm'));
    assert.equal((await mme(['rm', 'm1.tar.gz', '--yes'], opts)).code, 0);
    assert.deepEqual(fs.readdirSync(path.join(work, 'fleet'), { recursive: true }).sort(), ['v2', 'v2/m1.tar.gz']);
  });

  test('settings come from flags, then environment, then the config file, then defaults', async () => {
    const dir = tempDir();
    const sub = path.join(dir, 'a', 'b');
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'mme.config.json'),
      JSON.stringify({
        defaultFleet: 'tail',
        fleets: { tail: { prefix: 's3://file-bucket/models', endpointName: 'from-file', region: 'eu-west-1' }, head: { prefix: 's3://head-bucket/' } },
      }),
    );
    const show = async (args: string[], env: Record<string, string | undefined> = {}) => {
      const r = await mme(['config', '--json', ...args], { cwd: sub, env: { AWS_REGION: undefined, ...env } });
      assert.equal(r.code, 0, r.stderr);
      return Object.fromEntries(r.json.result.settings.map((s: { key: string; value: string; source: string }) => [s.key, s]));
    };
    let s = await show([]);
    assert.equal(s.prefix.value, 's3://file-bucket/models/', 'normalised with a trailing /');
    assert.match(s.prefix.source, /mme\.config\.json \(fleets\.tail\.prefix\)$/);
    assert.equal(s.region.value, 'eu-west-1');
    assert.equal(s.variant.value, 'AllTraffic');
    assert.equal(s.variant.source, 'default');
    s = await show([], { MME_ENDPOINT_NAME: 'from-env', AWS_REGION: 'us-west-2' });
    assert.equal(s.endpointName.value, 'from-env');
    assert.equal(s.endpointName.source, 'env MME_ENDPOINT_NAME');
    assert.equal(s.region.value, 'us-west-2');
    s = await show(['--endpoint-name', 'from-flag'], { MME_ENDPOINT_NAME: 'from-env' });
    assert.equal(s.endpointName.value, 'from-flag');
    assert.equal(s.endpointName.source, 'flag --endpoint-name');
    s = await show([], { MME_FLEET: 'head' });
    assert.equal(s.prefix.value, 's3://head-bucket/');
    const fleets = await mme(['fleets', '--json'], { cwd: sub });
    assert.deepEqual(
      fleets.json.result.fleets.map((f: { name: string; default: boolean }) => [f.name, f.default]),
      [
        ['head', false],
        ['tail', true],
      ],
    );
  });
});
