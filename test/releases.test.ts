// Releases (issue 12) end to end: the built `mme` on moto S3 and on a file:// folder, every result checked through an
// independent path (the AWS SDK called from the test, the file system, boto3 for the README's snippet, `mme local`'s
// own management API for warm-ups).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MME, ROOT, baseEnv, mme, tempDir } from './helpers/cli.js';
import { freePort, skipWithoutMoto, startMoto, type Moto } from './helpers/moto.js';
import { startLocal, type LocalProcess } from './helpers/local.js';
import { tar } from './helpers/models.js';

const MERCHANTS = path.join(ROOT, 'examples', 'merchants');
const REQUEST = path.join(MERCHANTS, 'request.csv');
const BUCKET = 'fleet';
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** One place models live, seen by the test without going through mme. */
interface Backend {
  prefix(group: string): string;
  flags: string[];
  manifest(group: string): Promise<any | undefined>;
  /** Changes whenever the manifest is written (S3 ETag; the file's inode and mtime). */
  manifestTag(group: string): Promise<string | undefined>;
  writeManifestRaw(group: string, text: string): Promise<void>;
  /** name → size and last-modified, the manifest excluded. */
  objects(group: string): Promise<Map<string, { size: number; modified: string }>>;
  put(group: string, name: string, bytes: Buffer): Promise<void>;
  get(group: string, name: string): Promise<Buffer>;
}

function s3Backend(moto: () => Moto): Backend {
  let client: S3Client | undefined;
  const s3 = () =>
    (client ??= new S3Client({ endpoint: moto().url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const key = (group: string, name: string) => `${group}/${name}`;
  return {
    prefix: (group) => `s3://${BUCKET}/${group}/`,
    get flags() {
      return ['--endpoint-url', moto().url];
    },
    async manifest(group) {
      try {
        const r = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key(group, '.mme/aliases.json') }));
        return JSON.parse(await r.Body!.transformToString());
      } catch (e) {
        if ((e as Error).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
    async manifestTag(group) {
      try {
        return (await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key(group, '.mme/aliases.json') }))).ETag;
      } catch {
        return undefined;
      }
    },
    async writeManifestRaw(group, text) {
      await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key(group, '.mme/aliases.json'), Body: text }));
    },
    async objects(group) {
      const out = new Map<string, { size: number; modified: string }>();
      let token: string | undefined;
      do {
        const page = await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${group}/`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const name = o.Key!.slice(group.length + 1);
          if (!name.startsWith('.mme/')) out.set(name, { size: o.Size!, modified: o.LastModified!.toISOString() });
        }
        token = page.NextContinuationToken;
      } while (token);
      return out;
    },
    async put(group, name, bytes) {
      await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key(group, name), Body: bytes }));
    },
    async get(group, name) {
      const r = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key(group, name) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    },
  };
}

function fileBackend(root: string): Backend {
  const dir = (group: string) => path.join(root, group);
  const manifestFile = (group: string) => path.join(dir(group), '.mme', 'aliases.json');
  return {
    prefix: (group) => `file://${dir(group)}/`,
    flags: [],
    async manifest(group) {
      return fs.existsSync(manifestFile(group)) ? JSON.parse(fs.readFileSync(manifestFile(group), 'utf8')) : undefined;
    },
    async manifestTag(group) {
      const st = fs.statSync(manifestFile(group), { throwIfNoEntry: false });
      return st && `${st.ino}:${st.mtimeMs}`;
    },
    async writeManifestRaw(group, text) {
      fs.writeFileSync(manifestFile(group), text); // in place, as an editor saving over it might
    },
    async objects(group) {
      const out = new Map<string, { size: number; modified: string }>();
      if (!fs.existsSync(dir(group))) return out;
      for (const rel of fs.readdirSync(dir(group), { recursive: true }) as string[]) {
        const st = fs.statSync(path.join(dir(group), rel));
        if (st.isFile() && !rel.startsWith('.mme')) out.set(rel.split(path.sep).join('/'), { size: st.size, modified: `${st.ino}:${st.mtimeMs}` });
      }
      return out;
    },
    async put(group, name, bytes) {
      fs.mkdirSync(path.dirname(path.join(dir(group), name)), { recursive: true });
      fs.writeFileSync(path.join(dir(group), name), bytes);
    },
    async get(group, name) {
      return fs.readFileSync(path.join(dir(group), name));
    },
  };
}

/** A model folder whose bytes differ from every other (the model need not score: only warm-ups load one). */
function fakeModel(dir: string, seed: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'xgboost-model.json'), JSON.stringify({ learner: {}, seed }));
  return dir;
}

function suite(kind: string, backend: () => Backend, skip: string | false) {
  describe(`releases on ${kind}`, { skip }, () => {
    const work = tempDir('mme-releases-');
    const run = (group: string, args: string[], extra: { env?: Record<string, string> } = {}) =>
      mme([...args, '--prefix', backend().prefix(group), ...backend().flags], { cwd: work, env: extra.env });

    test('a release is named after its content; releasing the same bytes again uploads nothing', async () => {
      const b = backend();
      const r = await run('naming', ['release', 'm37', path.join(MERCHANTS, 'm37'), '--note', 'first', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const { version, sha256: sum, uploaded } = r.json.result;
      assert.equal(uploaded, true);
      assert.match(version, /^m37\/[0-9a-f]{12}\.tar\.gz$/);
      // The stored bytes hash to the name, and `mme package` of the same folder makes the same bytes.
      const stored = await b.get('naming', version);
      assert.equal(sha256(stored), sum);
      assert.equal(version, `m37/${sum.slice(0, 12)}.tar.gz`);
      const pkg = await mme(['package', path.join(MERCHANTS, 'm37'), '-o', path.join(work, 'm37.tar.gz'), '--json']);
      assert.equal(pkg.json.result.sha256, sum);
      const m = await b.manifest('naming');
      assert.equal(m.schemaVersion, 1);
      assert.equal(m.aliases.m37.target, version);
      assert.deepEqual(
        m.aliases.m37.history.map((h: any) => [h.target, h.note]),
        [[version, 'first']],
      );
      assert.match(m.aliases.m37.history[0].by, /\S/);

      const before = await b.objects('naming');
      const tag = await b.manifestTag('naming');
      // The artifact itself, released again: same name, nothing sent, manifest untouched.
      const again = await run('naming', ['release', 'm37', path.join(work, 'm37.tar.gz'), '--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.json.result.version, version);
      assert.equal(again.json.result.uploaded, false);
      assert.equal(again.json.result.promoted, false);
      assert.match(again.stderr, /nothing uploaded/);
      assert.deepEqual(await b.objects('naming'), before);
      assert.equal(await b.manifestTag('naming'), tag);

      // The manifest is not a model, and ls shows the alias beside its version.
      const ls = await run('naming', ['ls', '--json']);
      assert.deepEqual(
        ls.json.result.models.map((x: any) => [x.name, x.aliases]),
        [[version, ['m37']]],
      );
      assert.deepEqual(ls.json.result.aliases, { m37: version });
      const resolve = await run('naming', ['resolve', 'm37']);
      assert.equal(resolve.stdout, `${version}\n`);
    });

    test('promote, rollback and history; bad input changes nothing', async () => {
      const b = backend();
      const v1 = (await run('history', ['release', 'm1', fakeModel(path.join(work, 'h1'), 'one'), '--json'])).json.result.version;
      const v2 = (await run('history', ['release', 'm1', fakeModel(path.join(work, 'h2'), 'two'), '--note', 'retrained', '--json'])).json.result.version;
      const v3r = await run('history', ['release', 'm1', fakeModel(path.join(work, 'h3'), 'three'), '--no-promote', '--json']);
      assert.equal(v3r.json.result.promoted, false);
      const v3 = v3r.json.result.version;
      assert.equal((await b.manifest('history')).aliases.m1.target, v2);

      const hash3 = v3.slice(3, 9);
      const p = await run('history', ['promote', 'm1', hash3, '--note', 'canary ok', '--json']);
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual([p.json.result.version, p.json.result.previous], [v3, v2]);
      const rb = await run('history', ['rollback', 'm1', '--json']);
      assert.equal(rb.code, 0, rb.stderr);
      assert.deepEqual([rb.json.result.version, rb.json.result.previous], [v2, v3]);
      const to = await run('history', ['rollback', 'm1', '--to', v1]);
      assert.equal(to.code, 0, to.stderr);
      const m = await b.manifest('history');
      assert.equal(m.aliases.m1.target, v1);
      assert.deepEqual(
        m.aliases.m1.history.map((h: any) => h.target),
        [v1, v2, v3, v2, v1],
      );
      assert.equal(m.aliases.m1.history[2].note, 'canary ok');
      const versions = await run('history', ['versions', 'm1', '--json']);
      assert.equal(versions.json.result.aliases[0].live.target, v1);
      assert.equal(versions.json.result.aliases[0].previous.length, 4);
      assert.equal(versions.json.result.aliases[0].live.size, (await b.objects('history')).get(v1)!.size);

      // Two versions sharing a hash prefix: ambiguous (2); unknown prefix, alias or version: not found (3).
      await b.put('history', 'm1/abcd00000000.tar.gz', Buffer.from('x'));
      await b.put('history', 'm1/abcd11111111.tar.gz', Buffer.from('y'));
      const tag = await b.manifestTag('history');
      const cases: [string[], number, RegExp][] = [
        [['promote', 'm1', 'abcd'], 2, /matches 2 versions/],
        [['promote', 'm1', 'ffff'], 3, /no version of m1/],
        [['promote', 'm1', 'm1/ffffffffffff.tar.gz'], 3, /does not exist/],
        [['resolve', 'nope'], 3, /alias nope does not exist/],
        [['rollback', 'nope'], 3, /alias nope does not exist/],
        [['versions', 'nope'], 3, /does not exist/],
        [['release', 'm1.tar.gz', path.join(work, 'h1')], 2, /ends in \.tar\.gz/],
      ];
      for (const [args, code, message] of cases) {
        const r = await run('history', args);
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      assert.equal(await b.manifestTag('history'), tag);

      // A manifest broken by hand, or from a newer mme: refused with exit 2, left as it was.
      const good = JSON.stringify(await b.manifest('history'));
      for (const [text, message] of [
        ['{"schemaVersion": 1, "aliases": ', /not valid JSON/],
        [JSON.stringify({ ...JSON.parse(good), schemaVersion: 2 }), /schemaVersion 2, newer than this mme/],
      ] as const) {
        await b.writeManifestRaw('history', text);
        const r = await run('history', ['promote', 'm1', v2, '--json']);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.json.status, 'error');
        assert.equal(
          JSON.stringify(await b.manifest('history').catch(() => 'unparsable')),
          JSON.stringify(text.startsWith('{"schemaVersion": 1, "aliases": ') ? 'unparsable' : JSON.parse(text)),
        );
      }
      await b.writeManifestRaw('history', good);
      assert.equal((await run('history', ['promote', 'm1', v2])).code, 0);
      assert.equal((await b.manifest('history')).aliases.m1.target, v2);
    });

    test('20 concurrent promotes of one alias from separate processes: none lost', async () => {
      const b = backend();
      const names = Array.from({ length: 20 }, (_, i) => `hot/${crypto.createHash('sha256').update(`v${i}`).digest('hex').slice(0, 12)}.tar.gz`);
      for (const n of names) await b.put('race', n, Buffer.from(n));
      const results = await Promise.all(names.map((n, i) => run('race', ['promote', 'hot', n, '--note', `p${i}`])));
      results.forEach((r, i) => {
        assert.equal(r.code, 0, `promote ${i}: ${r.stderr}`);
      });
      const m = await b.manifest('race');
      const history = m.aliases.hot.history;
      assert.equal(history.length, 20);
      assert.deepEqual(history.map((h: any) => h.target).sort(), [...names].sort());
      assert.equal(m.aliases.hot.target, history[0].target);
    });

    test('sync: 70 merchants, then one changed, then nothing changed, then failed uploads leave the manifest alone', async () => {
      const b = backend();
      const dir = path.join(work, 'merchants');
      fs.cpSync(MERCHANTS, dir, { recursive: true });
      const first = await run('sync', ['sync', dir, '--note', 'nightly 1', '--json']);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual([first.json.result.added, first.json.result.changed, first.json.result.unchanged, first.json.result.uploads], [70, 0, 0, 70]);
      assert.match(first.stderr, /skipping 4 file\(s\) that are not models/);
      const m1 = await b.manifest('sync');
      assert.equal(Object.keys(m1.aliases).length, 70);
      const objects = await b.objects('sync');
      assert.equal(objects.size, 70);
      for (const [alias, entry] of Object.entries<any>(m1.aliases)) {
        assert.ok(objects.has(entry.target), entry.target);
        assert.equal(entry.history[0].note, 'nightly 1');
        assert.ok(entry.target.startsWith(`${alias}/`));
      }
      // Same bytes as `mme package` makes: a merchant's version hash is its artifact's sha256.
      assert.equal(sha256(await b.get('sync', m1.aliases.m12.target)).slice(0, 12), m1.aliases.m12.target.slice(4, 16));

      // One model changed: one upload, one alias moved.
      fs.appendFileSync(path.join(dir, 'm05', 'xgboost-model'), Buffer.from([0]));
      const second = await run('sync', ['sync', dir, '--json']);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual([second.json.result.added, second.json.result.changed, second.json.result.unchanged, second.json.result.uploads], [0, 1, 69, 1]);
      const m2 = await b.manifest('sync');
      assert.notEqual(m2.aliases.m05.target, m1.aliases.m05.target);
      assert.deepEqual(
        m2.aliases.m05.history.map((h: any) => h.target),
        [m2.aliases.m05.target, m1.aliases.m05.target],
      );
      assert.equal(m2.aliases.m06.target, m1.aliases.m06.target);

      // Nothing changed: no object written (sizes and modification times as they were) and no manifest write.
      const before = await b.objects('sync');
      const tag = await b.manifestTag('sync');
      const third = await run('sync', ['sync', dir, '--json']);
      assert.equal(third.code, 0, third.stderr);
      assert.deepEqual([third.json.result.unchanged, third.json.result.uploads, third.json.result.written], [70, 0, false]);
      assert.deepEqual(await b.objects('sync'), before);
      assert.equal(await b.manifestTag('sync'), tag);

      // --dry-run and --prune: the plan only.
      fs.rmSync(path.join(dir, 'm70'), { recursive: true });
      const dry = await run('sync', ['sync', dir, '--prune', '--dry-run', '--json']);
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(dry.json.result.pruned, ['m70']);
      assert.equal(await b.manifestTag('sync'), tag);
      const pruned = await run('sync', ['sync', dir, '--prune']);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.equal((await b.manifest('sync')).aliases.m70, undefined);
      assert.ok((await b.objects('sync')).has(m1.aliases.m70.target), 'pruning an alias leaves its versions for gc');

      // A failed upload: the versions that did go up stay unreferenced, the manifest is left exactly as it was.
      fs.appendFileSync(path.join(dir, 'm06', 'xgboost-model'), Buffer.from([0]));
      fs.appendFileSync(path.join(dir, 'm07', 'xgboost-model'), Buffer.from([0]));
      const tagBefore = await b.manifestTag('sync');
      const aliasesBefore = (await b.manifest('sync')).aliases;
      let failed;
      if (kind === 'file://') {
        fakeModel(path.join(dir, 'm71'), 'new');
        fs.writeFileSync(path.join(new URL(b.prefix('sync')).pathname, 'm71'), 'a file where the folder m71/ must go');
        failed = await run('sync', ['sync', dir, '--json']);
      } else {
        const proxy = await startProxy(moto!.url, (req) => (req.method === 'PUT' && req.url!.includes('/sync/m07/') ? 'fail' : 'pass'));
        failed = await mme(['sync', dir, '--json', '--prefix', b.prefix('sync'), '--endpoint-url', proxy.url], { cwd: work });
        await proxy.close();
      }
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stderr, /upload\(s\) failed .*the manifest was not changed/);
      assert.equal(await b.manifestTag('sync'), tagBefore);
      assert.deepEqual((await b.manifest('sync')).aliases, aliasesBefore);
      const orphans = (await run('sync', ['versions', '--json'])).json.result.unreferenced.map((u: any) => u.name);
      assert.ok(
        orphans.some((n: string) => n.startsWith('m06/')),
        `m06's new version stays for gc: ${orphans}`,
      );
      if (kind === 'file://') fs.rmSync(path.join(dir, 'm71'), { recursive: true });

      // Ctrl-C while an upload is under way (held by a proxy until the signal is sent): exit 130, manifest untouched.
      if (kind !== 'file://') {
        let child: ChildProcess | undefined;
        let held!: () => void;
        const holding = new Promise<void>((r) => (held = r));
        const proxy = await startProxy(
          moto!.url,
          (req) => (req.method === 'PUT' && req.url!.includes('/sync/m07/') ? 'hold' : 'pass'),
          () => held(),
        );
        child = spawn(process.execPath, [MME, 'sync', dir, '--prefix', b.prefix('sync'), '--endpoint-url', proxy.url], {
          cwd: work,
          env: baseEnv(),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr!.on('data', (c) => (stderr += c));
        const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
        await holding;
        child.kill('SIGINT');
        assert.equal(await exited, 130, stderr);
        await proxy.close();
        assert.equal(await b.manifestTag('sync'), tagBefore);
      }
      // And once the fault is gone, the same sync goes through.
      const retry = await run('sync', ['sync', dir, '--json']);
      assert.equal(retry.code, 0, retry.stderr);
      assert.equal(retry.json.result.changed, 2);
    });

    test('sync of artifacts to a second prefix: hashes from the cache, and every version goes up whole', async () => {
      const b = backend();
      const dir = path.join(work, 'artifacts');
      fs.mkdirSync(dir);
      const made = await mme(['package', ...['m01', 'm02', 'm03'].map((m) => path.join(MERCHANTS, m)), '--out-dir', dir], { cwd: work });
      assert.equal(made.code, 0, made.stderr);
      const first = await run('sync-a', ['sync', dir, '--json']);
      assert.equal(first.code, 0, first.stderr);
      // Same files, same hash cache: nothing is hashed before the plan, yet each new version is read and sent.
      const second = await run('sync-b', ['sync', dir, '--json']);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual([second.json.result.added, second.json.result.uploads], [3, 3]);
      const manifest = await b.manifest('sync-b');
      for (const file of fs.readdirSync(dir)) {
        const alias = file.replace(/\.tar\.gz$/, '');
        const bytes = fs.readFileSync(path.join(dir, file));
        assert.equal(manifest.aliases[alias].target, `${alias}/${sha256(bytes).slice(0, 12)}.tar.gz`);
        assert.ok((await b.get('sync-b', manifest.aliases[alias].target)).equals(bytes), alias);
      }
    });

    test('gc keeps the live, the last N and the recently live versions, and deletes exactly the rest', async () => {
      const b = backend();
      const names = Array.from({ length: 5 }, (_, i) => `g1/${crypto.createHash('sha256').update(`g${i}`).digest('hex').slice(0, 12)}.tar.gz`);
      for (const n of names) await b.put('gc', n, Buffer.from(n));
      for (const n of names) assert.equal((await run('gc', ['promote', 'g1', n])).code, 0);
      const orphan = (await run('gc', ['release', 'g1', fakeModel(path.join(work, 'orphan'), 'orphan'), '--no-promote', '--json'])).json.result.version;
      await b.put('gc', 'flat.tar.gz', Buffer.from('legacy'));

      // Default drain (24 h): everything here was live or uploaded just now, so nothing goes.
      const safe = await run('gc', ['gc', '--dry-run', '--json']);
      assert.equal(safe.code, 0, safe.stderr);
      assert.deepEqual(safe.json.result.wouldDelete, []);
      // No drain, keep 3: the two oldest and the never-live upload go; flat names are never touched.
      const dry = await run('gc', ['gc', '--drain', '0', '--dry-run', '--json']);
      assert.deepEqual(dry.json.result.wouldDelete.map((d: any) => d.name).sort(), [names[0], names[1], orphan].sort());
      assert.equal((await b.objects('gc')).size, 7);
      const noYes = await run('gc', ['gc', '--drain', '0']);
      assert.equal(noYes.code, 2);
      assert.match(noYes.stderr, /--yes/);
      // Asked by name for a live or recently live version: refused, nothing deleted.
      const live = await run('gc', ['gc', names[4], '--yes']);
      assert.equal(live.code, 2);
      assert.match(live.stderr, /refusing to delete .*\(live\)/);
      const recent = await run('gc', ['gc', names[0], '--yes']);
      assert.equal(recent.code, 2);
      assert.match(recent.stderr, /within the drain period/);
      assert.equal((await b.objects('gc')).size, 7);

      const real = await run('gc', ['gc', '--drain', '0', '--yes', '--json']);
      assert.equal(real.code, 0, real.stderr);
      assert.deepEqual([...(await b.objects('gc')).keys()].sort(), ['flat.tar.gz', names[2], names[3], names[4]].sort());
      const keep1 = await run('gc', ['gc', '--drain', '0', '--keep', '1', '--yes']);
      assert.equal(keep1.code, 0, keep1.stderr);
      assert.deepEqual([...(await b.objects('gc')).keys()].sort(), ['flat.tar.gz', names[4]].sort());
      assert.equal((await b.manifest('gc')).aliases.g1.target, names[4]);
    });
  });
}

/** An HTTP proxy in front of moto that can fail a request (500) or hold it unanswered, to make faults on cue. */
async function startProxy(target: string, rule: (req: http.IncomingMessage) => 'pass' | 'fail' | 'hold', onHold?: (release: () => void) => void) {
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body?: Buffer) => {
    const upstream = http.request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };
  const server = http.createServer((req, res) => {
    const action = rule(req);
    if (action === 'hold') {
      // Kept unanswered until the test releases it (then sent on as it came), or forever.
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      return void req.once('end', () => onHold?.(() => forward(req, res, Buffer.concat(chunks))));
    }
    if (action === 'fail') {
      req.resume();
      req.once('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the test</Message></Error>');
      });
      return;
    }
    forward(req, res);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('releases through mme local', () => {
  const work = tempDir('mme-releases-local-');
  const prefix = `file://${path.join(work, 'fleet')}/`;
  let local: LocalProcess;
  const run = (args: string[]) => mme([...args, '--prefix', prefix, '--endpoint-url', local.url, '--endpoint-name', 'local-mme'], { cwd: work });
  const loaded = async () => ((await (await fetch(`${local.url}/models`)).json()) as any).models as { modelName: string; hits: number; state: string }[];
  before(async () => {
    local = await startLocal(['--prefix', prefix, '--cache-dir', path.join(work, 'cache')], work);
  });
  after(async () => {
    await local?.stop();
  });

  test('--warm: the alias moves only after the new version answered every warm-up call', async () => {
    const v1 = (await run(['release', 'm37', path.join(MERCHANTS, 'm37'), '--json'])).json.result.version;
    const ok = await run(['release', 'm37', path.join(MERCHANTS, 'm38'), '--warm', '2', '--warm-body-file', REQUEST, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const v2 = ok.json.result.version;
    assert.equal(ok.json.result.warm.calls, 2);
    assert.equal(ok.json.result.previous, v1);
    // The endpoint itself says the new version was loaded and called twice, before anyone called the alias.
    const served = (await loaded()).find((m) => m.modelName === v2);
    assert.equal(served?.hits, 2);
    assert.equal(JSON.parse(fs.readFileSync(path.join(work, 'fleet', '.mme', 'aliases.json'), 'utf8')).aliases.m37.target, v2);

    // A version that cannot answer: uploaded, but the alias stays where it was.
    const broken = fakeModel(path.join(work, 'broken'), 'not a real model');
    const bad = await run(['release', 'm37', broken, '--warm', '1', '--warm-body-file', REQUEST, '--json']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /warm-up call 1 of 1 .* failed, so the alias was not moved/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(work, 'fleet', '.mme', 'aliases.json'), 'utf8')).aliases.m37.target, v2);
    const promoteBad = await run([
      'promote',
      'm37',
      (await run(['versions', 'm37', '--json'])).json.result.unreferenced[0].name,
      '--warm',
      '1',
      '--warm-body-file',
      REQUEST,
    ]);
    assert.equal(promoteBad.code, 1, promoteBad.stderr);
    assert.equal((await run(['resolve', 'm37'])).stdout.trim(), v2);
  });

  test('invoke --target ALIAS calls the version it points at; --targets-file takes aliases', async () => {
    const target = (await run(['resolve', 'm37'])).stdout.trim();
    const viaAlias = await run(['invoke', '--target', 'm37', '--body-file', REQUEST, '--json']);
    assert.equal(viaAlias.code, 0, viaAlias.stderr);
    assert.equal(viaAlias.json.result.alias, 'm37');
    assert.equal(viaAlias.json.result.targetModel, target);
    const direct = await run(['invoke', '--target', target, '--body-file', REQUEST, '--json']);
    assert.equal(direct.json.result.body, viaAlias.json.result.body);
    assert.equal(direct.json.result.alias, null);

    fs.writeFileSync(path.join(work, 'targets.txt'), 'm37 2\n');
    const hits = (await loaded()).find((m) => m.modelName === target)!.hits;
    const load = await run(['invoke', '--targets-file', path.join(work, 'targets.txt'), '--body-file', REQUEST, '--repeat', '3', '--json']);
    assert.equal(load.code, 0, load.stderr);
    assert.deepEqual(load.json.result.aliases, { m37: target });
    assert.equal((await loaded()).find((m) => m.modelName === target)!.hits, hits + 3);
  });
});

let moto: Moto | undefined;
const s3 = s3Backend(() => moto!);
const files = fileBackend(tempDir('mme-releases-fs-'));

describe('releases', () => {
  before(async () => {
    if (skipWithoutMoto) return;
    moto = await startMoto();
    await new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }).send(
      new CreateBucketCommand({ Bucket: BUCKET }),
    );
  });
  after(async () => {
    await moto?.stop();
  });
  suite('moto S3', () => s3, skipWithoutMoto);

  test('a write that loses its race reads again; a rollback whose alias moved meanwhile stops with exit 5', { skip: skipWithoutMoto }, async () => {
    const on = (args: string[], url = moto!.url) => mme([...args, '--prefix', s3.prefix('moved'), '--endpoint-url', url], { cwd: ROOT });
    const work = tempDir('mme-releases-race-');
    await on(['release', 'a1', fakeModel(path.join(work, 'v1'), 'v1')]);
    const v2 = (await on(['release', 'a1', fakeModel(path.join(work, 'v2'), 'v2'), '--json'])).json.result.version;
    const v3 = (await on(['release', 'a1', fakeModel(path.join(work, 'v3'), 'v3'), '--no-promote', '--json'])).json.result.version;
    // The rollback's manifest write is held by the proxy while a promote moves the alias; then it goes on (and loses).
    let held = false;
    let release!: () => void;
    const holding = new Promise<void>((r) => (release = r as never));
    let releaseWrite!: () => void;
    const proxy = await startProxy(
      moto!.url,
      (req) => {
        if (held || req.method !== 'PUT' || !req.url!.includes('/moved/.mme/aliases.json')) return 'pass';
        held = true;
        return 'hold';
      },
      (go) => {
        releaseWrite = go;
        release();
      },
    );
    const rollback = on(['rollback', 'a1', '--json'], proxy.url);
    await holding;
    const promote = await on(['promote', 'a1', v3]);
    assert.equal(promote.code, 0, promote.stderr);
    releaseWrite();
    const r = await rollback;
    await proxy.close();
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /a1 moved from .* to .* while rolling back; nothing was changed/);
    assert.equal(r.json.error.exitCode, 5);
    const m = await s3.manifest('moved');
    assert.equal(m.aliases.a1.target, v3);
    assert.deepEqual(m.aliases.a1.history.map((h: any) => h.target).slice(0, 2), [v3, v2]);
  });

  test('a sync sends its uploads on kept-alive connections, without Expect: 100-continue', { skip: skipWithoutMoto }, async () => {
    // The SDK gives every request that carries Expect: 100-continue a connection of its own: on S3, a TCP and a TLS
    // handshake per artifact. moto closes each connection; this proxy keeps the client's open, as S3 does, and counts.
    let connections = 0;
    let expects = 0;
    const server = http.createServer((req, res) => {
      if (req.headers.expect) expects++;
      const upstream = http.request(new URL(req.url!, moto!.url), { method: req.method, headers: req.headers }, (up) => {
        const { connection: _, ...headers } = up.headers;
        res.writeHead(up.statusCode!, headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.on('connection', () => connections++);
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      // 24 artifacts of 2.5 MB: the SDK asks for 100-continue from 2 MB on
      const dir = tempDir('mme-releases-keepalive-');
      for (let i = 0; i < 24; i++) {
        const data = crypto.randomBytes(2.5 * 1024 * 1024);
        fs.writeFileSync(path.join(dir, `k${i}.tar.gz`), zlib.gzipSync(tar([{ path: 'xgboost-model', data }]), { level: 0 }));
      }
      const r = await mme(['sync', dir, '--prefix', s3.prefix('keepalive'), '--endpoint-url', `http://127.0.0.1:${port}`, '--json'], { cwd: ROOT });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.result.uploads, 24);
      assert.equal(expects, 0);
      // at most one per upload in flight (10), and the requests before them
      assert.ok(connections <= 12, `${connections} connections for 24 uploads`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test("the README's Python and TypeScript resolvers read an alias on S3 as mme resolve does", { skip: skipWithoutMoto }, async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Releasing models'));
    const block = (lang: string) => [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].find((m) => m[1] === lang)![2];
    const released = await mme(['release', 'm37', path.join(MERCHANTS, 'm37'), '--prefix', 's3://fleet/readme/', '--endpoint-url', moto!.url, '--json']);
    assert.equal(released.code, 0, released.stderr);
    const expected = released.json.result.version;
    const env = baseEnv({ AWS_ENDPOINT_URL: moto!.url });

    if (spawnSync('python3', ['-c', 'import boto3']).status === 0) {
      const py = spawnSync('python3', ['-c', `${block('python')}\nprint(resolve("fleet", "readme/", "m37"))`], { env, encoding: 'utf8' });
      assert.equal(py.status, 0, py.stderr);
      assert.equal(py.stdout.trim(), expected);
    }
    // The one change: a local S3 needs path-style addressing, which the SDK takes from code, not the environment.
    const ts = block('ts').replace('new S3Client({})', 'new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true })');
    assert.ok(
      block('ts')
        .split('\n')
        .filter((l) => l.trim()).length <= 10,
    );
    const file = path.join(ROOT, 'test', `.readme-snippet-${process.pid}.ts`);
    fs.writeFileSync(file, `${ts}\nconsole.log(await resolveAlias('fleet', 'readme/', 'm37'));\n`);
    try {
      const node = spawnSync(process.execPath, ['--import', 'tsx', file], { env, encoding: 'utf8', cwd: ROOT });
      assert.equal(node.status, 0, node.stderr);
      assert.equal(node.stdout.trim(), expected);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
  suite('file://', () => files, false);
});
