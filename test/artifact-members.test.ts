// Artifacts of several gzip members (issue 10, cold start): `mme package` writes a large artifact as independent gzip
// members whose headers record their lengths, so that `mme local` inflates them in parallel. The artifact stays a
// standard .tar.gz (checked with GNU tar, gzip and Python), its bytes reproducible, and every check of the extraction
// holds on this path too; other gzip files still take the streaming path.
// Run: npm run build && node --import tsx --test test/artifact-members.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { Header } from 'tar';
import { gzipParallel, MEMBER_BYTES, MEMBER_HEADER_BYTES, memberLength } from '../src/artifacts/gzip.js';
import { extractArtifact } from '../src/local/extract.js';
import { mme, ROOT, tempDir } from './helpers/cli.js';
import { invokeRaw, startLocal } from './helpers/local.js';

const MODEL = path.join(ROOT, 'test', 'fixtures', 'xgboost', 'models', 'many_trees', 'xgboost-model');
const ROWS = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'xgboost', 'data', 'dense.csv'), 'utf8').trimEnd();
const work = tempDir('mme-members-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** A plain tar of the given files (written by hand, paths as given). */
function tar(entries: { path: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const block = Buffer.alloc(512);
    new Header({ path: e.path, type: 'File', size: e.data.length, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }).encode(block, 0);
    parts.push(block, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** gzip as `mme package` writes it. */
async function members(bytes: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* one() {
    yield bytes;
  }
  for await (const piece of gzipParallel(one())) out.push(piece);
  return Buffer.concat(out);
}

/** The byte offsets of the members, walked through the lengths their headers record. */
function memberOffsets(gz: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < gz.length; ) {
    offsets.push(at);
    const length = memberLength(gz.subarray(at, at + MEMBER_HEADER_BYTES));
    assert.ok(length !== undefined, `a member header at ${at}`);
    at += length;
    assert.ok(at <= gz.length);
  }
  return offsets;
}

/** A model folder whose model file straddles the boundary between the third and fourth members. */
function bigFolder(): string {
  const dir = path.join(work, 'big');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'padding.csv'), crypto.randomBytes(3 * MEMBER_BYTES - 30_000));
  fs.copyFileSync(MODEL, path.join(dir, 'xgboost-model'));
  return dir;
}

describe('mme package writes a large artifact as gzip members', () => {
  let folder: string;
  let artifact: string;
  before(async () => {
    folder = bigFolder();
    artifact = path.join(work, 'big.tar.gz');
    const r = await mme(['package', folder, '-o', artifact]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('one member per MiB, each header recording its length; a standard .tar.gz for gzip, GNU tar and Python', () => {
    const gz = fs.readFileSync(artifact);
    const offsets = memberOffsets(gz);
    assert.equal(offsets.length, 4);
    execFileSync('gzip', ['-t', artifact]);
    const x = tempDir();
    execFileSync('tar', ['xzf', artifact, '-C', x]);
    assert.ok(fs.readFileSync(path.join(x, 'xgboost-model')).equals(fs.readFileSync(MODEL)));
    assert.ok(fs.readFileSync(path.join(x, 'padding.csv')).equals(fs.readFileSync(path.join(folder, 'padding.csv'))));
    fs.rmSync(x, { recursive: true, force: true });
    // Python's gzip and tarfile, and the member count and lengths read from the headers by Python.
    const py = execFileSync(
      'python3',
      [
        '-c',
        `
import gzip, hashlib, struct, sys, tarfile
data = open(sys.argv[1], 'rb').read()
at, n = 0, 0
while at < len(data):
    assert data[at:at+4] == b'\\x1f\\x8b\\x08\\x04' and data[at+12:at+14] == b'ME', at
    at += struct.unpack('<I', data[at+16:at+20])[0]
    n += 1
assert at == len(data)
t = tarfile.open(sys.argv[1])
print(n, hashlib.sha256(t.extractfile('xgboost-model').read()).hexdigest(), len(gzip.decompress(data)))
`,
        artifact,
      ],
      { encoding: 'utf8' },
    ).trim();
    const [n, sha, size] = py.split(' ');
    assert.equal(Number(n), 4);
    assert.equal(sha, crypto.createHash('sha256').update(fs.readFileSync(MODEL)).digest('hex'));
    assert.equal(Number(size), zlib.gunzipSync(gz).length);
  });

  test('the same bytes whatever the thread pool size', async () => {
    const other = path.join(work, 'big-1thread.tar.gz');
    const r = await mme(['package', folder, '-o', other], { env: { UV_THREADPOOL_SIZE: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(other).equals(fs.readFileSync(artifact)));
  });

  test('a small artifact is one plain member (no length field): its bytes are those of earlier versions', async () => {
    const gz = await members(tar([{ path: 'xgboost-model', data: fs.readFileSync(MODEL) }]));
    assert.equal(gz[3], 0, 'FLG: no FEXTRA');
    assert.equal(memberLength(gz), undefined);
    assert.ok(zlib.gunzipSync(gz).equals(tar([{ path: 'xgboost-model', data: fs.readFileSync(MODEL) }])));
  });

  test('mme local serves it from the folder in place (no copy in its cache), predicting as the plain .tar.gz does', async () => {
    const prefix = path.join(work, 'prefix');
    fs.mkdirSync(prefix);
    fs.copyFileSync(artifact, path.join(prefix, 'members.tar.gz'));
    // The same files as one plain gzip stream, by GNU tar: the streaming path.
    execFileSync('tar', ['czf', path.join(prefix, 'plain.tar.gz'), '-C', folder, 'padding.csv', 'xgboost-model']);
    const cache = path.join(work, 'cache');
    const local = await startLocal(['--prefix', `file://${prefix}/`, '--cache-dir', cache], work);
    try {
      const a = await invokeRaw(local.url, 'members.tar.gz', ROWS);
      const b = await invokeRaw(local.url, 'plain.tar.gz', ROWS);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.equal(a.text, b.text);
      assert.deepEqual(fs.readdirSync(path.join(cache, 'downloads')), []);
      const [dir] = fs.readdirSync(path.join(cache, 'models')).filter((d) => d.endsWith('members.tar.gz'));
      assert.ok(fs.readFileSync(path.join(cache, 'models', dir, 'xgboost-model')).equals(fs.readFileSync(MODEL)));
      assert.ok(fs.readFileSync(path.join(prefix, 'members.tar.gz')).equals(fs.readFileSync(artifact)), 'the prefix file is left as it was');
    } finally {
      await local.stop();
    }
  });
});

describe('unpacking gzip members', () => {
  const model = fs.readFileSync(MODEL);
  const padding = crypto.randomBytes(2 * MEMBER_BYTES + 1000);
  const entries = [
    { path: 'padding.csv', data: padding },
    { path: 'xgboost-model', data: model },
  ];
  let gz: Buffer;
  before(async () => {
    gz = await members(tar(entries));
  });
  let n = 0;
  const write = (bytes: Buffer) => {
    const file = path.join(work, `m${++n}.tar.gz`);
    fs.writeFileSync(file, bytes);
    return { file, dest: path.join(work, `m${n}`) };
  };
  const extract = (file: string, dest: string, options: Parameters<typeof extractArtifact>[4] = {}, maxBytes = 1e9) =>
    extractArtifact(file, dest, { maxBytes, maxEntries: 100 }, undefined, options);

  test('the kept bytes arrive in order and equal the file; every file is written', async () => {
    const { file, dest } = write(gz);
    assert.ok(memberOffsets(gz).length >= 3);
    const seen: number[] = [];
    const out = await extract(file, dest, { keep: (rel) => rel === 'xgboost-model', onKeptData: (_rel, _bytes, available) => seen.push(available) });
    assert.ok(Buffer.from(out.kept.get('xgboost-model')!).equals(model));
    assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]) && seen.at(-1) === model.length);
    assert.ok(fs.readFileSync(path.join(dest, 'padding.csv')).equals(padding));
    assert.ok(fs.readFileSync(path.join(dest, 'xgboost-model')).equals(model));
  });

  const refusals: [string, () => Buffer | Promise<Buffer>, RegExp][] = [
    [
      'a corrupted byte in a member',
      () => {
        const bad = Buffer.from(gz);
        bad[memberOffsets(gz)[1] + 5000] ^= 0xff;
        return bad;
      },
      /not a valid gzip stream/,
    ],
    ['a truncated member', () => gz.subarray(0, memberOffsets(gz)[2] - 100), /not a valid gzip stream \(the member at byte \d+ has .*truncated/],
    [
      'a recorded length that points inside the next member',
      () => {
        const bad = Buffer.from(gz);
        bad.writeUInt32LE(bad.readUInt32LE(16) + 7, 16);
        return bad;
      },
      /not a valid gzip stream/,
    ],
    [
      'a following member without the length field',
      () => {
        const at = memberOffsets(gz)[1];
        return Buffer.concat([gz.subarray(0, at), zlib.gzipSync(zlib.gunzipSync(gz.subarray(at)))]);
      },
      /the member at byte \d+ has no length in its header/,
    ],
    [
      'a member that inflates past the member limit (a bomb)',
      () => {
        const bomb = zlib.deflateRawSync(Buffer.alloc(16 * MEMBER_BYTES));
        const m = Buffer.alloc(MEMBER_HEADER_BYTES + bomb.length + 8);
        Buffer.from(gz.subarray(0, MEMBER_HEADER_BYTES)).copy(m);
        m.writeUInt32LE(m.length, 16);
        bomb.copy(m, MEMBER_HEADER_BYTES);
        return Buffer.concat([gz.subarray(0, memberOffsets(gz)[1]), m]);
      },
      /the member at byte \d+ has more than 4194304 bytes of data \(a decompression bomb\?\)/,
    ],
    ['a .tar.gz of a .tar.gz', () => members(Buffer.concat([gz, crypto.randomBytes(MEMBER_BYTES)])), /gzip-compressed twice/],
  ];
  for (const [what, make, expected] of refusals) {
    test(`refuses ${what} and leaves nothing`, async () => {
      const { file, dest } = write(await make());
      await assert.rejects(extract(file, dest, { keep: () => true }), expected);
      assert.equal(fs.existsSync(dest), false);
    });
  }

  test('the header checks and budgets hold: a file larger than the extraction limit is refused from its header', async () => {
    const { file, dest } = write(gz);
    await assert.rejects(extract(file, dest, {}, MEMBER_BYTES), /declares \d+ bytes; the artifact would exceed the \d+-byte extraction limit/);
    assert.equal(fs.existsSync(dest), false);
  });

  test('what follows the end-of-archive marker is not read', async () => {
    const { file, dest } = write(Buffer.concat([gz, Buffer.from('garbage after the last member')]));
    const out = await extract(file, dest);
    assert.equal(out.files, 2);
  });

  test('cancelled on the start event, it stops before any data and removes the folder', async () => {
    const { file, dest } = write(gz);
    const abort = new AbortController();
    let arrivals = 0;
    const extracting = extractArtifact(file, dest, { maxBytes: 1e9, maxEntries: 100 }, abort.signal, {
      keep: () => true,
      onStart: () => abort.abort(),
      onKeptData: () => arrivals++,
    });
    await assert.rejects(extracting, /extraction was cancelled/);
    assert.equal(arrivals, 0);
    assert.equal(fs.existsSync(dest), false);
  });

  test('a multi-member gzip of another tool (no length fields) takes the streaming path', async () => {
    const plain = tar(entries);
    const cut = 1_500_000;
    const { file, dest } = write(Buffer.concat([zlib.gzipSync(plain.subarray(0, cut)), zlib.gzipSync(plain.subarray(cut))]));
    const out = await extract(file, dest, { keep: () => true });
    assert.ok(Buffer.from(out.kept.get('xgboost-model')!).equals(model));
  });
});
