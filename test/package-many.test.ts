// `mme package` with several sources: each folder becomes <name>.tar.gz in --out-dir (or the current folder), checked
// through independent readers (GNU tar, sha256 of the bytes on disk) and against packaging the same folder alone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { mme, ROOT, tempDir } from './helpers/cli.js';

function modelFolder(dir: string, files: Record<string, string | Buffer> = { 'xgboost-model': Buffer.from([1, 2, 3]) }): string {
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const tarList = (file: string) => execFileSync('tar', ['tzf', file]).toString().trim().split('\n').sort();
/** Files in a folder, temp files included (a failed run must leave none behind). */
const listing = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

describe('mme package with several sources', () => {
  const work = tempDir('mme-package-many-');
  const src = path.join(work, 'src');
  const a = modelFolder(path.join(src, 'm1'), { 'xgboost-model': 'one', 'code/inference.py': 'print(1)\n' });
  const b = modelFolder(path.join(src, 'm2'), { 'xgboost-model.json': '{"learner":{}}' });
  const c = modelFolder(path.join(src, 'm3'), { 'model.onnx': 'onnx' });

  test('writes <name>.tar.gz per source into --out-dir, files at each archive root', async () => {
    const out = path.join(work, 'out', 'nested'); // created on demand
    const r = await mme(['package', a, b, c + '/', '--out-dir', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listing(out), ['m1.tar.gz', 'm2.tar.gz', 'm3.tar.gz']);
    assert.deepEqual(tarList(path.join(out, 'm1.tar.gz')), ['code/', 'code/inference.py', 'xgboost-model']);
    assert.deepEqual(tarList(path.join(out, 'm2.tar.gz')), ['xgboost-model.json']);
    assert.deepEqual(tarList(path.join(out, 'm3.tar.gz')), ['model.onnx']);

    const { artifacts, count, totalSize } = r.json.result;
    assert.equal(count, 3);
    assert.deepEqual(
      artifacts.map((x: any) => [x.source, path.basename(x.path), x.framework]),
      [
        [a, 'm1.tar.gz', 'xgboost'],
        [b, 'm2.tar.gz', 'xgboost'],
        [c + '/', 'm3.tar.gz', 'onnx'],
      ],
    );
    for (const x of artifacts) {
      assert.equal(x.sha256, sha256(x.path));
      assert.equal(x.size, fs.statSync(x.path).size);
    }
    assert.equal(
      totalSize,
      artifacts.reduce((n: number, x: any) => n + x.size, 0),
    );
    assert.match(r.stderr, /packaged 3 models \(2 xgboost, 1 onnx\) into .*nested, /);
  });

  test('each artifact has the bytes the one-source command writes', async () => {
    const out = path.join(work, 'same');
    assert.equal((await mme(['package', a, b, '--out-dir', out])).code, 0);
    const alone = path.join(work, 'alone.tar.gz');
    const one = await mme(['package', b, '-o', alone, '--json']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(sha256(path.join(out, 'm2.tar.gz')), sha256(alone));
    // One source keeps the one-artifact JSON shape.
    assert.equal(one.json.result.path, alone);
    assert.equal(one.json.result.artifacts, undefined);
  });

  test('without --out-dir the artifacts go to the current folder; human output is one line each', async () => {
    const cwd = tempDir('mme-package-cwd-');
    const r = await mme(['package', a, b], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listing(cwd), ['m1.tar.gz', 'm2.tar.gz']);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /m1\.tar\.gz\t[\d.]+ B\tsha256 [0-9a-f]{64}$/);
  });

  test('one source with --out-dir writes DIR/<name>.tar.gz', async () => {
    const out = path.join(work, 'single');
    const r = await mme(['package', a, '--out-dir', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.path, path.join(out, 'm1.tar.gz'));
    assert.ok(fs.existsSync(path.join(out, 'm1.tar.gz')));
  });

  const refusals: [string, () => string[], RegExp][] = [
    [
      '-o with several sources',
      () => [a, b, '-o', path.join(work, 'refused', 'x.tar.gz')],
      /-o names one artifact, but 2 sources were given\. Use --out-dir DIR/,
    ],
    [
      '-o together with --out-dir',
      () => [a, '-o', path.join(work, 'refused', 'x.tar.gz'), '--out-dir', path.join(work, 'refused')],
      /-o and --out-dir both say where to write/,
    ],
    [
      'two sources with one name',
      () => [a, modelFolder(path.join(work, 'other', 'm1')), '--out-dir', path.join(work, 'refused')],
      /would both be written to .*m1\.tar\.gz/,
    ],
    ['a missing source among several', () => [a, path.join(src, 'nope'), b, '--out-dir', path.join(work, 'refused')], /nope does not exist/],
    [
      'an --out-dir inside a source',
      () => [a, b, '--out-dir', path.join(a, 'dist')],
      /is inside the folder being packaged \(.*m1\)\. Give an --out-dir outside/,
    ],
  ];
  for (const [what, args, message] of refusals) {
    test(`refuses ${what} before writing anything (exit 2, one line)`, async () => {
      const r = await mme(['package', ...args()]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(listing(path.join(work, 'refused')), []);
      assert.ok(!fs.existsSync(path.join(a, 'dist')));
    });
  }

  test('a source that fails while packaging fails the command; the others are written whole', async () => {
    const bad = modelFolder(path.join(work, 'bad', 'm9'));
    fs.symlinkSync('/etc/hostname', path.join(bad, 'leak'));
    const out = path.join(work, 'partial');
    const r = await mme(['package', a, bad, b, '--out-dir', out, '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /1 of 3 sources failed to package; .*m9: .*symlink pointing outside.* The other 2 artifact\(s\) were written\./);
    // m1's "xgboost-model" is three bytes, not a model: a warning line of its own; the failure is one line.
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('mme:')).length,
      1,
      r.stderr,
    );
    assert.equal(r.json.status, 'error');
    assert.equal(r.json.error.exitCode, 2);
    assert.deepEqual(listing(out), ['m1.tar.gz', 'm2.tar.gz']);
    execFileSync('gzip', ['-t', path.join(out, 'm1.tar.gz'), path.join(out, 'm2.tar.gz')]);
  });

  test('packages the committed example fleet: 70 XGBoost artifacts, five of them JSON models', async () => {
    const fleet = path.join(ROOT, 'examples', 'merchants');
    const sources = fs
      .readdirSync(fleet)
      .filter((n) => /^m\d+$/.test(n))
      .sort()
      .map((n) => path.join(fleet, n) + '/');
    assert.equal(sources.length, 70);
    const out = path.join(work, 'fleet');
    const r = await mme(['package', ...sources, '--out-dir', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.result.count, 70);
    assert.equal(listing(out).length, 70);
    const formats = r.json.result.artifacts.map((x: any) => x.modelFiles.map((m: any) => m.format).join());
    assert.equal(formats.filter((f: string) => f === 'binary').length, 65);
    assert.equal(formats.filter((f: string) => f === 'json').length, 5);
    assert.ok(r.json.result.artifacts.every((x: any) => x.framework === 'xgboost' && x.warnings.length === 0));
  });
});
