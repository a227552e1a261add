// The cold path of `mme local` piece by piece: unpacking that keeps the model bytes (no read-back), compiling a legacy
// binary model while it is unpacked (exactly the whole-file result), and the loading thread that does both and hands
// back SharedArrayBuffer-backed arrays. The endpoint itself is tested end to end in local.test.ts.
// Run: npm run build && node --import tsx --test test/local-load.test.ts
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, describe, test } from 'node:test';
import { extractArtifact } from '../src/local/extract.js';
import { LoadingPool } from '../src/local/pool.js';
import { loadModelBytes, loadModelDir, type CompiledModel, type XGBoostModel } from '../src/local/runtimes/xgboost/index.js';
import { EarlyCompile } from '../src/local/runtimes/xgboost/stream.js';
import { ROOT, tempDir } from './helpers/cli.js';
import { tarGz, tarHeader } from './helpers/models.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'xgboost');
const MODELS = path.join(FIXTURES, 'models');
const denseRows = fs.readFileSync(path.join(FIXTURES, 'data', 'dense.csv'), 'utf8').trimEnd();
const work = tempDir('mme-local-load-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

function writeArtifact(name: string, entries: { path: string; data: Buffer }[]): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, tarGz(entries));
  return file;
}

/** Feeds a file to an EarlyCompile the way unpacking does: a buffer of full size, filled in pieces of varying size. */
function compileInPieces(bytes: Uint8Array, name: string, shared = false, seed = 7): CompiledModel | undefined {
  const buffer = new Uint8Array(bytes.length);
  const early = new EarlyCompile(buffer, name, { shared });
  let at = 0;
  let s = seed;
  while (at < bytes.length) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = Math.min(bytes.length - at, 1 + (s % 700));
    buffer.set(bytes.subarray(at, at + n), at);
    at += n;
    early.advance(at);
  }
  return early.result() as CompiledModel | undefined;
}

/** Same model: same scalars, and every array equal (over its used length). */
function assertSameModel(actual: CompiledModel, expected: CompiledModel) {
  const plain = (m: CompiledModel) =>
    JSON.stringify(m, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isNaN(x) ? 'NaN' : x)) : v));
  const { footprintBytes: fa, ...a } = actual;
  const { footprintBytes: fe, ...e } = expected;
  assert.equal(plain(a as CompiledModel), plain(e as CompiledModel));
  assert.ok(fa >= fe && fa <= fe * 1.07, `footprint ${fa} vs ${fe}`);
}

describe('compiling a legacy binary model while it is unpacked', () => {
  const binaries = fs.readdirSync(MODELS).filter((d) => fs.existsSync(path.join(MODELS, d, 'xgboost-model')));

  test('gives exactly the whole-file compile for every gbtree fixture, in pieces of any size', () => {
    let streamed = 0;
    for (const dir of binaries) {
      const bytes = fs.readFileSync(path.join(MODELS, dir, 'xgboost-model'));
      const whole = loadModelBytes(bytes, 'xgboost-model');
      const early = compileInPieces(bytes, 'xgboost-model', false, dir.length);
      if (whole.booster !== 'gbtree') {
        assert.equal(early, undefined, `${dir}: only gbtree models are compiled early`);
        continue;
      }
      assert.ok(early, `${dir}: compiled early`);
      assertSameModel(early, whole);
      streamed++;
    }
    assert.ok(streamed >= 10, `${streamed} gbtree fixtures`);
  });

  test('shared: every array of the result lives in a SharedArrayBuffer', () => {
    const bytes = fs.readFileSync(path.join(MODELS, 'multi_softprob', 'xgboost-model'));
    const early = compileInPieces(bytes, 'xgboost-model', true)!;
    const views = [
      early.baseMargin,
      early.trees!.words,
      early.trees!.values,
      early.trees!.roots,
      early.trees!.groups,
      early.trees!.depths,
      early.trees!.negatedFeatures,
      early.trees!.catBits,
    ];
    for (const v of views) assert.ok(v.buffer instanceof SharedArrayBuffer);
    assertSameModel(early, loadModelBytes(bytes, 'xgboost-model'));
  });

  test('JSON and UBJSON files, and broken binaries, are left to the whole-file compile (which names the problem)', () => {
    for (const name of ['xgboost-model.json', 'xgboost-model.ubj']) {
      assert.equal(compileInPieces(fs.readFileSync(path.join(MODELS, 'reg_squarederror', name)), name), undefined);
    }
    const good = fs.readFileSync(path.join(MODELS, 'reg_squarederror', 'xgboost-model'));
    for (const broken of [good.subarray(0, Math.floor(good.length / 2)), Buffer.concat([good.subarray(0, 300), Buffer.alloc(good.length - 300, 0xff)])]) {
      assert.equal(compileInPieces(broken, 'xgboost-model'), undefined);
      assert.throws(() => loadModelBytes(broken, 'xgboost-model'), /xgboost-model: .*legacy binary/);
    }
  });
});

describe('unpacking that keeps the model bytes', () => {
  test('the kept bytes are the file written to disk; other files are written as usual; data arrives in order', async () => {
    const model = fs.readFileSync(path.join(MODELS, 'many_trees', 'xgboost-model'));
    const code = Buffer.from('print("hi")\n');
    const file = writeArtifact('kept.tar.gz', [
      { path: 'xgboost-model', data: model },
      { path: 'code/inference.py', data: code },
    ]);
    const dest = path.join(work, 'kept');
    const seen: number[] = [];
    let unpacked: string[] = [];
    const out = await extractArtifact(file, dest, { maxBytes: 1e9, maxEntries: 100 }, undefined, {
      keep: (rel) => !rel.includes('/'),
      onKeptData: (rel, bytes, available) => {
        assert.equal(rel, 'xgboost-model');
        assert.equal(bytes.length, model.length);
        seen.push(available);
      },
      onUnpacked: (contents) => (unpacked = [...contents.kept.keys()]),
      chunkBytes: 16 * 1024,
    });
    assert.deepEqual(unpacked, ['xgboost-model']);
    assert.deepEqual(out.topFiles, ['xgboost-model']);
    assert.deepEqual(out.topFolders, ['code']);
    assert.equal(out.files, 2);
    assert.ok(seen.length > 1 && seen.every((n, i) => i === 0 || n > seen[i - 1]) && seen.at(-1) === model.length, `arrivals ${seen.length}`);
    assert.ok(Buffer.from(out.kept.get('xgboost-model')!).equals(model));
    assert.ok(fs.readFileSync(path.join(dest, 'xgboost-model')).equals(model));
    assert.ok(fs.readFileSync(path.join(dest, 'code', 'inference.py')).equals(code));
    assert.equal(fs.statSync(path.join(dest, 'xgboost-model')).mode & 0o777, 0o644);
  });

  test('cancelled midway (on the start event, in the same thread) it stops and removes the folder', async () => {
    const file = writeArtifact('midway.tar.gz', [
      { path: 'xgboost-model', data: Buffer.alloc(8 * 1024 * 1024, 3) },
      { path: 'other.bin', data: Buffer.alloc(1024) },
    ]);
    const dest = path.join(work, 'midway');
    const abort = new AbortController();
    let arrivals = 0;
    const extracting = extractArtifact(file, dest, { maxBytes: 1e9, maxEntries: 100 }, abort.signal, {
      keep: () => true,
      onStart: () => abort.abort(),
      onKeptData: () => arrivals++,
      chunkBytes: 64 * 1024,
    });
    await assert.rejects(extracting, /extraction was cancelled/);
    assert.equal(arrivals, 0, 'no data handled after the cancel');
    assert.equal(fs.existsSync(dest), false);
  });

  test('a kept file that appears twice fails the extraction and leaves nothing', async () => {
    const data = Buffer.alloc(5000, 1);
    const file = writeArtifact('twice.tar.gz', [
      { path: 'xgboost-model', data },
      { path: './xgboost-model', data },
    ]);
    const dest = path.join(work, 'twice');
    await assert.rejects(extractArtifact(file, dest, { maxBytes: 1e9, maxEntries: 100 }, undefined, { keep: () => true }), /appears twice/);
    assert.equal(fs.existsSync(dest), false);
  });
});

describe('the loading thread', () => {
  // The bundled worker (a worker thread cannot run the .ts source): build first, as for the end-to-end tests.
  const pool = new LoadingPool(1, new URL('../dist/load.worker.js', import.meta.url));
  after(() => pool.close());

  test('unpacks and loads an artifact: same predictions as an in-process load, arrays shared with this thread', async () => {
    const file = writeArtifact(
      'kfold.tar.gz',
      fs.readdirSync(path.join(FIXTURES, 'kfold')).map((f) => ({ path: f, data: fs.readFileSync(path.join(FIXTURES, 'kfold', f)) })),
    );
    const dir = path.join(work, 'kfold');
    const unpacked = await pool.unpackAndLoad(file, dir, { maxBytes: 1e9, maxEntries: 100 });
    assert.ok(unpacked.bytes > 0 && unpacked.files >= 2 && unpacked.unpackMs >= 0);
    const model = (await unpacked.model) as XGBoostModel;
    assert.equal(model.compiled?.shared, true);
    assert.ok(model.models.every((m) => m.trees!.words.buffer instanceof SharedArrayBuffer));
    // The model answers before its files are on disk: the folder is read once they are.
    await unpacked.written;
    const local = await loadModelDir(dir);
    assert.deepEqual(
      Buffer.from(model.invoke(Buffer.from(denseRows), 'text/csv', undefined).body).toString(),
      Buffer.from(local.invoke(Buffer.from(denseRows), 'text/csv', undefined).body).toString(),
    );
    assert.equal(model.footprintBytes > 0, true);

    const again = await pool.loadDir(dir);
    assert.deepEqual(again.describe(), model.describe());
  });

  test('a bad artifact rejects with the reason and removes the folder; a bad model resolves unpacked with the load error', async () => {
    const notTar = path.join(work, 'not-a-tar.tar.gz');
    fs.writeFileSync(notTar, zlib.gzipSync(Buffer.alloc(3000, 7)));
    const dir1 = path.join(work, 'bad1');
    await assert.rejects(
      pool.unpackAndLoad(notTar, dir1, { maxBytes: 1e9, maxEntries: 100 }),
      (err: Error) => err.name === 'ArtifactError' && /archive/.test(err.message),
    );
    assert.equal(fs.existsSync(dir1), false);

    const file = writeArtifact('garbage-model.tar.gz', [{ path: 'xgboost-model', data: Buffer.from('this is not a model') }]);
    const dir2 = path.join(work, 'bad2');
    const unpacked = await pool.unpackAndLoad(file, dir2, { maxBytes: 1e9, maxEntries: 100 });
    await assert.rejects(unpacked.model, (err: Error) => err.name === 'ModelLoadError' && /^xgboost-model: /.test(err.message));
    await unpacked.written;
    assert.ok(fs.existsSync(path.join(dir2, 'xgboost-model')));
  });

  test('cancelling stops the unpacking and removes the folder', async () => {
    // 256 MiB of zeros (256 KiB compressed, as gzip members of 1 MiB each): the thread is still unpacking long after it
    // says it has started, and the cancel is sent on that event, not after a delay.
    const MiB = 1024 * 1024;
    const header = tarHeader('padding.bin', 256 * MiB);
    const zeros = zlib.gzipSync(Buffer.alloc(MiB));
    const big = path.join(work, 'big.tar.gz');
    fs.writeFileSync(big, Buffer.concat([zlib.gzipSync(header), ...new Array(256).fill(zeros), zlib.gzipSync(Buffer.alloc(1024))]));
    const dir = path.join(work, 'cancelled');
    const abort = new AbortController();
    let started = 0;
    const loading = pool.unpackAndLoad(big, dir, { maxBytes: 1e9, maxEntries: 100 }, abort.signal, () => {
      started++;
      assert.ok(fs.existsSync(dir), 'the folder exists once unpacking has started');
      abort.abort();
    });
    await assert.rejects(loading, /cancelled/);
    assert.equal(started, 1);
    assert.equal(fs.existsSync(dir), false);
  });

  test('a request cancelled as it is sent unpacks nothing', async () => {
    const dir = path.join(work, 'cancelled-early');
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(pool.unpackAndLoad(path.join(work, 'big.tar.gz'), dir, { maxBytes: 1e9, maxEntries: 100 }, abort.signal), /cancelled/);
    assert.equal(fs.existsSync(dir), false);
  });
});
