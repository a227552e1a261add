// `mme local` against a bomb corpus generated here: each budget holds, measured with the process's own numbers
// (peak resident memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat, the cache folder's blocks), never
// with wall-clock time.
// Run: npm run build && node --import tsx --test test/local-budgets.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, describe, test } from 'node:test';
import { tempDir } from './helpers/cli.js';
import { invokeRaw, startLocal, type LocalProcess } from './helpers/local.js';
import { skipWithoutMoto, startMoto } from './helpers/moto.js';
import { DENSE_CSV, fixture, gzipBomb, tar, tarHeader } from './helpers/models.js';

const work = tempDir('mme-budgets-');
after(() => fs.rmSync(work, { recursive: true, force: true }));
const ROW = DENSE_CSV.split('\n')[2];
const MODEL = fixture('binary_logistic', 'binary');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let prefixes = 0;
/** A file:// prefix holding the given artifacts. */
function prefix(artifacts: Record<string, Buffer>): string {
  const dir = path.join(work, `prefix-${++prefixes}`);
  fs.mkdirSync(dir);
  for (const [name, bytes] of Object.entries(artifacts)) fs.writeFileSync(path.join(dir, name), bytes);
  return `file://${dir}/`;
}

async function serve(artifacts: Record<string, Buffer>, flags: string[]): Promise<{ local: LocalProcess; cache: string }> {
  const cache = path.join(work, `cache-${prefixes + 1}`);
  const local = await startLocal(['--prefix', prefix(artifacts), '--cache-dir', cache, ...flags], work);
  return { local, cache };
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Bytes the folder takes on disk (blocks), as du counts them. */
function diskUsage(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;
}

function originalMessage(text: string): { status: number; message: string } {
  const doc = JSON.parse(text);
  return { status: doc.OriginalStatusCode, message: doc.OriginalMessage ?? doc.Message };
}

describe('mme local budgets against bombs', () => {
  test('a 1 MB tarball inflating to a 1 GiB model file fails fast under --memory 8MiB; peak RSS stays far below it', async () => {
    const bomb = gzipBomb(tarHeader('xgboost-model', GiB), GiB, Buffer.alloc(1024));
    assert.ok(bomb.length < 2 * MiB);
    const { local } = await serve({ 'bomb.tar.gz': bomb, 'ok.tar.gz': zlib.gzipSync(tar([{ path: 'xgboost-model', data: MODEL }])) }, ['--memory', '8MiB']);
    try {
      const r = await invokeRaw(local.url, 'bomb.tar.gz', ROW);
      assert.equal(r.status, 424, r.text);
      const { status, message } = originalMessage(r.text);
      assert.equal(status, 507);
      assert.match(message, /model file xgboost-model needs 1073741824 bytes, more than the whole memory budget/);
      const peak = local.peakRss();
      assert.ok(peak < 400 * MiB, `peak RSS ${peak} bytes`);
      // The endpoint goes on serving.
      assert.equal((await invokeRaw(local.url, 'ok.tar.gz', ROW)).status, 200);
    } finally {
      await local.stop();
    }
  });

  test('2 GiB of zeros after the tar end marker are not inflated: the model loads, the process burns under 2 CPU-seconds', async () => {
    const archive = tar([{ path: 'xgboost-model', data: MODEL }]);
    const bomb = gzipBomb(archive, 2 * GiB);
    const { local } = await serve({ 'trailing.tar.gz': bomb }, []);
    try {
      const before = cpuSeconds(local.child.pid!);
      const r = await invokeRaw(local.url, 'trailing.tar.gz', ROW);
      assert.equal(r.status, 200, r.text);
      const used = cpuSeconds(local.child.pid!) - before;
      assert.ok(used < 2, `the load used ${used} CPU-seconds`);
    } finally {
      await local.stop();
    }
  });

  test('a 20 MB artifact under --disk 16MiB: from s3:// refused before it is downloaded; from file:// read in place, refused from its header', async () => {
    const noise = crypto.randomBytes(20 * MiB);
    const big = zlib.gzipSync(
      tar([
        { path: 'xgboost-model', data: MODEL },
        { path: 'noise.bin', data: noise },
      ]),
      { level: 1 },
    );
    // A folder prefix is unpacked in place: no copy to count; the entry's declared size is refused before it is read.
    const { local, cache } = await serve({ 'big.tar.gz': big }, ['--disk', '16MiB']);
    try {
      const r = await invokeRaw(local.url, 'big.tar.gz', ROW);
      assert.equal(r.status, 424, r.text);
      assert.match(originalMessage(r.text).message, /entry "noise\.bin" declares \d+ bytes; the artifact would exceed the \d+-byte extraction limit/);
      assert.ok(diskUsage(cache) < MiB, 'nothing was written');
    } finally {
      await local.stop();
    }
    if (skipWithoutMoto) return;
    // An S3 prefix is downloaded first: the download is reserved from the object's size, before a byte is written.
    const moto = await startMoto();
    try {
      const env = { AWS_ENDPOINT_URL: moto.url };
      assert.equal((await fetch(`${moto.url}/budget-bucket`, { method: 'PUT' })).status, 200);
      assert.equal((await fetch(`${moto.url}/budget-bucket/models/big.tar.gz`, { method: 'PUT', body: big })).status, 200);
      const s3cache = path.join(work, 'cache-s3');
      const s3 = await startLocal(['--prefix', 's3://budget-bucket/models/', '--cache-dir', s3cache, '--disk', '16MiB'], work, env);
      try {
        const r = await invokeRaw(s3.url, 'big.tar.gz', ROW);
        assert.equal(r.status, 424, r.text);
        const { status, message } = originalMessage(r.text);
        assert.equal(status, 507);
        assert.match(message, /the download of big\.tar\.gz needs \d+ bytes, more than the whole disk budget/);
        assert.ok(diskUsage(s3cache) < MiB, 'nothing was downloaded');
      } finally {
        await s3.stop();
      }
    } finally {
      await moto.stop();
    }
  });

  test('blocks and entries count, not declared sizes: 5,000 empty files exceed --disk 16MiB; nested paths count their folders', async () => {
    const empties = zlib.gzipSync(tar([{ path: 'xgboost-model', data: MODEL }, ...Array.from({ length: 5000 }, (_, i) => ({ path: `e/${i}` }))]));
    const deep = '/d'.repeat(200).slice(1);
    const nested = zlib.gzipSync(tar([{ path: 'xgboost-model', data: MODEL }, ...Array.from({ length: 60 }, (_, i) => ({ path: `n${i}/${deep}/f` }))]));
    const { local, cache } = await serve({ 'empties.tar.gz': empties, 'nested.tar.gz': nested }, ['--disk', '16MiB']);
    try {
      const a = await invokeRaw(local.url, 'empties.tar.gz', ROW);
      assert.equal(a.status, 424, a.text);
      assert.equal(originalMessage(a.text).status, 507);
      assert.match(originalMessage(a.text).message, /disk budget/);
      const b = await invokeRaw(local.url, 'nested.tar.gz', ROW);
      assert.equal(b.status, 424, b.text);
      // 12,000 folders: over the entry limit, and over the disk budget at one block each (whichever is met first)
      assert.match(originalMessage(b.text).message, /more than 10000 entries \(files and folders\)|disk budget/);
      assert.ok(diskUsage(cache) < 16 * MiB);
    } finally {
      await local.stop();
    }
  });

  test('a model whose files cannot be written to the disk cache answers from memory; its folder goes, one line says why', async () => {
    // RLIMIT_FSIZE makes every write past 8 KiB fail (EFBIG), as a full disk would. The 13.7 KB model file is written
    // after the model is compiled and answers: before, the extraction failed and so did the request (500).
    const cache = path.join(work, 'cache-fsize');
    const local = await startLocal(
      ['--prefix', prefix({ 'm.tar.gz': zlib.gzipSync(tar([{ path: 'xgboost-model', data: MODEL }])) }), '--cache-dir', cache],
      work,
      {},
      ['prlimit', '--fsize=8192'],
    );
    try {
      const first = await invokeRaw(local.url, 'm.tar.gz', ROW);
      assert.equal(first.status, 200, first.text);
      await local.waitForStderr(/could not write m\.tar\.gz to the disk cache \(it stays in memory\): .+\n/);
      await local.waitForStderr(/deleted m\.tar\.gz from the disk cache/);
      const info = (await (await fetch(`${local.url}/models/m.tar.gz`)).json()) as { state: string; diskBytes: number; writingToDisk: boolean };
      assert.deepEqual([info.state, info.diskBytes, info.writingToDisk], ['loaded', 0, false]);
      assert.deepEqual(fs.readdirSync(path.join(cache, 'models')), []);
      assert.equal((await invokeRaw(local.url, 'm.tar.gz', ROW)).text, first.text);
      // Unloaded, it has no disk copy to come back from: it is fetched from the prefix again.
      assert.equal((await fetch(`${local.url}/models/m.tar.gz`, { method: 'DELETE' })).status, 200);
      assert.equal((await invokeRaw(local.url, 'm.tar.gz', ROW)).text, first.text);
    } finally {
      await local.stop();
    }
  });

  test('concurrent extractions share one disk budget: four 12 MiB artifacts at once under --disk 32MiB', async () => {
    const artifact = (i: number) =>
      gzipBomb(
        Buffer.concat([tar([{ path: 'xgboost-model', data: MODEL }]).subarray(0, -1024), tarHeader(`data/pad${i}.dat`, 12 * MiB)]),
        12 * MiB,
        Buffer.alloc(1024),
      );
    const names = [0, 1, 2, 3].map((i) => `pad${i}.tar.gz`);
    const { local, cache } = await serve(Object.fromEntries(names.map((n, i) => [n, artifact(i)])), ['--disk', '32MiB']);
    try {
      const answers = await Promise.all(names.map((n) => invokeRaw(local.url, n, ROW)));
      for (const a of answers) {
        if (a.status === 200) continue;
        assert.equal(a.status, 424, a.text);
        assert.equal(originalMessage(a.text).status, 507, a.text);

        assert.match(originalMessage(a.text).message, /disk budget/);
      }
      assert.ok(answers.some((a) => a.status === 200));
      const state = (await (await fetch(`${local.url}/models`)).json()) as { disk: { usedBytes: number; budgetBytes: number } };
      assert.ok(state.disk.usedBytes <= state.disk.budgetBytes);
      assert.ok(diskUsage(cache) <= 32 * MiB, `cache holds ${diskUsage(cache)} bytes`);
    } finally {
      await local.stop();
    }
  });
});
