// Artifacts of independent blocks (issue 10, cold start): `mme package` compresses a large artifact in blocks of 1 MiB,
// each on its own, and appends a block index (an empty gzip member carrying it), so that `mme local` inflates the
// blocks in parallel. The artifact stays a standard .tar.gz (checked with GNU tar, gzip and Python, its streaming
// tarfile mode included), its bytes reproducible, and every check of the extraction holds on this path too; other
// gzip files, and artifacts whose index does not add up, take the streaming path.
// Run: npm run build && node --import tsx --test test/artifact-blocks.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { BLOCK_BYTES, gzipParallel, indexMember, readBlockIndex, type BlockIndex } from '../src/artifacts/gzip.js';
import { extractArtifact } from '../src/local/extract.js';
import { mme, ROOT, tempDir } from './helpers/cli.js';
import { tar } from './helpers/models.js';
import { invokeRaw, startLocal } from './helpers/local.js';

const MODEL = path.join(ROOT, 'test', 'fixtures', 'xgboost', 'models', 'many_trees', 'xgboost-model');
const ROWS = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'xgboost', 'data', 'dense.csv'), 'utf8').trimEnd();
const work = tempDir('mme-blocks-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** gzip as `mme package` writes it. */
async function packed(bytes: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* one() {
    yield bytes;
  }
  for await (const piece of gzipParallel(one())) out.push(piece);
  return Buffer.concat(out);
}

/** The artifact's block index, as mme local reads it. */
function indexOf(gz: Buffer): Promise<BlockIndex | undefined> {
  return readBlockIndex(gz.subarray(0, 10), gz.length, async (n) => Buffer.from(gz.subarray(gz.length - n)));
}

/** An artifact made of these raw deflate blocks, with a trailer and an index that describe them as given. */
function assemble(blocks: Buffer[], outputs: Buffer[], blockBytes = BLOCK_BYTES): Buffer {
  const whole = Buffer.concat(outputs);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(whole) >>> 0, 0);
  trailer.writeUInt32LE(whole.length % 2 ** 32, 4);
  const index = indexMember(
    blocks.map((b, i) => ({ length: b.length, crc: zlib.crc32(outputs[i]) })),
    blockBytes,
  );
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), ...blocks, trailer, index]);
}

/** A model folder whose model file straddles the boundary between the third and fourth blocks. */
function bigFolder(): string {
  const dir = path.join(work, 'big');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'padding.csv'), crypto.randomBytes(3 * BLOCK_BYTES - 30_000));
  fs.copyFileSync(MODEL, path.join(dir, 'xgboost-model'));
  return dir;
}

describe('mme package writes a large artifact as independent blocks with an index', () => {
  let folder: string;
  let artifact: string;
  before(async () => {
    folder = bigFolder();
    artifact = path.join(work, 'big.tar.gz');
    const r = await mme(['package', folder, '-o', artifact]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('one block per MiB and an index member; a standard .tar.gz for gzip, GNU tar and Python (streaming tarfile too)', async () => {
    const gz = fs.readFileSync(artifact);
    const index = await indexOf(gz);
    assert.ok(index, 'an index mme local can read');
    assert.equal(index.blocks.length, 4);
    assert.equal(index.blockBytes, BLOCK_BYTES);
    execFileSync('gzip', ['-t', artifact]);
    const x = tempDir();
    execFileSync('tar', ['xzf', artifact, '-C', x]);
    assert.ok(fs.readFileSync(path.join(x, 'xgboost-model')).equals(fs.readFileSync(MODEL)));
    assert.ok(fs.readFileSync(path.join(x, 'padding.csv')).equals(fs.readFileSync(path.join(folder, 'padding.csv'))));
    fs.rmSync(x, { recursive: true, force: true });
    // Python: gzip, tarfile from a path, and tarfile's streaming mode (one member, no FEXTRA parsing) from a pipe.
    const py = execFileSync(
      'python3',
      [
        '-c',
        `
import gzip, hashlib, sys, tarfile
data = open(sys.argv[1], 'rb').read()
t = tarfile.open(sys.argv[1])
whole = hashlib.sha256(t.extractfile('xgboost-model').read()).hexdigest()
streamed = {}
with open(sys.argv[1], 'rb') as f, tarfile.open(fileobj=f, mode='r|gz') as s:
    for m in s:
        if m.isfile(): streamed[m.name.lstrip('./')] = hashlib.sha256(s.extractfile(m).read()).hexdigest()
print(whole, streamed['xgboost-model'], len(streamed), len(gzip.decompress(data)))
`,
        artifact,
      ],
      { encoding: 'utf8' },
    ).trim();
    const [sha, streamedSha, files, size] = py.split(' ');
    const expected = crypto.createHash('sha256').update(fs.readFileSync(MODEL)).digest('hex');
    assert.equal(sha, expected);
    assert.equal(streamedSha, expected);
    assert.equal(Number(files), 2);
    assert.equal(Number(size), zlib.gunzipSync(gz).length);
  });

  test('the same bytes whatever the thread pool size', async () => {
    const other = path.join(work, 'big-1thread.tar.gz');
    const r = await mme(['package', folder, '-o', other], { env: { UV_THREADPOOL_SIZE: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(other).equals(fs.readFileSync(artifact)));
  });

  test('a small artifact is one plain member (no index): its bytes are those of earlier versions', async () => {
    const gz = await packed(tar([{ path: 'xgboost-model', data: fs.readFileSync(MODEL) }]));
    assert.equal(gz[3], 0, 'FLG: no FEXTRA');
    assert.equal(await indexOf(gz), undefined);
    assert.ok(zlib.gunzipSync(gz).equals(tar([{ path: 'xgboost-model', data: fs.readFileSync(MODEL) }])));
  });

  test('mme local serves it from the folder in place (no copy in its cache), predicting as the plain .tar.gz does', async () => {
    const prefix = path.join(work, 'prefix');
    fs.mkdirSync(prefix);
    fs.copyFileSync(artifact, path.join(prefix, 'blocks.tar.gz'));
    // The same files as one plain gzip stream, by GNU tar: the streaming path.
    execFileSync('tar', ['czf', path.join(prefix, 'plain.tar.gz'), '-C', folder, 'padding.csv', 'xgboost-model']);
    const cache = path.join(work, 'cache');
    const local = await startLocal(['--prefix', `file://${prefix}/`, '--cache-dir', cache], work);
    try {
      const a = await invokeRaw(local.url, 'blocks.tar.gz', ROWS);
      const b = await invokeRaw(local.url, 'plain.tar.gz', ROWS);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.equal(a.text, b.text);
      assert.deepEqual(fs.readdirSync(path.join(cache, 'downloads')), []);
      const [dir] = fs.readdirSync(path.join(cache, 'models')).filter((d) => d.endsWith('blocks.tar.gz'));
      assert.ok(fs.readFileSync(path.join(cache, 'models', dir, 'xgboost-model')).equals(fs.readFileSync(MODEL)));
      assert.ok(fs.readFileSync(path.join(prefix, 'blocks.tar.gz')).equals(fs.readFileSync(artifact)), 'the prefix file is left as it was');
    } finally {
      await local.stop();
    }
  });
});

describe('unpacking indexed blocks', () => {
  const model = fs.readFileSync(MODEL);
  const padding = crypto.randomBytes(2 * BLOCK_BYTES + 1000);
  const entries = [
    { path: 'padding.csv', data: padding },
    { path: 'xgboost-model', data: model },
  ];
  let gz: Buffer;
  before(async () => {
    gz = await packed(tar(entries));
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
    assert.ok(((await indexOf(gz))?.blocks.length ?? 0) >= 3);
    const seen: number[] = [];
    const out = await extract(file, dest, { keep: (rel) => rel === 'xgboost-model', onKeptData: (_rel, _bytes, available) => seen.push(available) });
    assert.ok(Buffer.from(out.kept.get('xgboost-model')!).equals(model));
    assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]) && seen.at(-1) === model.length);
    assert.ok(fs.readFileSync(path.join(dest, 'padding.csv')).equals(padding));
    assert.ok(fs.readFileSync(path.join(dest, 'xgboost-model')).equals(model));
  });

  /** The raw blocks of `gz` and what each inflates to, as its index gives them. */
  const split = async () => {
    const index = (await indexOf(gz))!;
    const plain = zlib.gunzipSync(gz);
    return {
      blocks: index.blocks.map((b) => gz.subarray(b.at, b.at + b.length)),
      outputs: index.blocks.map((_b, i) => plain.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES)),
    };
  };
  const refusals: [string, () => Buffer | Promise<Buffer>, RegExp][] = [
    [
      'a corrupted byte in a block (its CRC, from the index, is checked)',
      async () => {
        const bad = Buffer.from(gz);
        bad[(await indexOf(gz))!.blocks[1].at + 5000] ^= 0xff;
        return bad;
      },
      /not a valid gzip stream \(the block at byte \d+/,
    ],
    [
      'block lengths that tile the file but do not match the blocks',
      async () => {
        const { blocks, outputs } = await split();
        const a = Buffer.concat(blocks.slice(0, 2));
        const wrong = [a.subarray(0, blocks[0].length + 7), a.subarray(blocks[0].length + 7), ...blocks.slice(2)];
        return assemble(wrong, outputs);
      },
      /not a valid gzip stream \(the block at byte \d+/,
    ],
    [
      'a block that inflates past the size its index gives (a bomb)',
      async () => {
        const { blocks, outputs } = await split();
        const bomb = zlib.deflateRawSync(Buffer.alloc(16 * BLOCK_BYTES), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        return assemble([bomb, ...blocks.slice(1)], outputs);
      },
      /the block at byte 10: more data than its 1048576 bytes \(a decompression bomb\?\)/,
    ],
    ['a truncated file (no index: read as a stream)', () => gz.subarray(0, gz.length - 5000), /not a valid gzip stream/],
    ['a .tar.gz of a .tar.gz', () => packed(Buffer.concat([gz, crypto.randomBytes(BLOCK_BYTES)])), /gzip-compressed twice/],
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
    await assert.rejects(extract(file, dest, {}, BLOCK_BYTES), /declares \d+ bytes; the artifact would exceed the \d+-byte extraction limit/);
    assert.equal(fs.existsSync(dest), false);
  });

  test('an index that does not add up is ignored: the artifact is read as a stream', async () => {
    const bad = Buffer.from(gz);
    const count = gz.readUInt32LE(gz.length - 14);
    const firstLength = gz.length - (26 + 8 + 8 * count) + 20;
    bad.writeUInt32LE(gz.readUInt32LE(firstLength) + 1, firstLength);
    assert.equal(await indexOf(bad), undefined);
    const { file, dest } = write(bad);
    const out = await extract(file, dest, { keep: () => true });
    assert.ok(Buffer.from(out.kept.get('xgboost-model')!).equals(model));
  });

  test('what follows the end-of-archive marker is not read', async () => {
    const { file, dest } = write(await packed(Buffer.concat([tar(entries), crypto.randomBytes(3 * BLOCK_BYTES)])));
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

  test('a multi-member gzip of another tool (no index) takes the streaming path', async () => {
    const plain = tar(entries);
    const cut = 1_500_000;
    const { file, dest } = write(Buffer.concat([zlib.gzipSync(plain.subarray(0, cut)), zlib.gzipSync(plain.subarray(cut))]));
    const out = await extract(file, dest, { keep: () => true });
    assert.ok(Buffer.from(out.kept.get('xgboost-model')!).equals(model));
  });
});
