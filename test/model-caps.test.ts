// Hostile model files through the built binary: declared sizes over the readers' caps (JSON, UBJSON, legacy binary)
// and models that would answer nan/inf or three columns for a binary objective are refused at load in one line;
// `mme package` does not label random or gzip bytes as an XGBoost binary model.
// Run: npm run build && node --import tsx --test test/model-caps.test.ts
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, describe, test } from 'node:test';
import { mme, tempDir } from './helpers/cli.js';
import { binaryHeaderOffset, DENSE_CSV, fixture, fixtureJson, toUbjson } from './helpers/models.js';

const work = tempDir('mme-caps-');
after(() => fs.rmSync(work, { recursive: true, force: true }));
const ROW = DENSE_CSV.split('\n')[2];

function write(name: string, bytes: Buffer | string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** `mme predict` refuses the file: exit 2, one line on stderr matching `pattern`. */
async function refused(file: string, pattern: RegExp) {
  const r = await mme(['predict', file, '--body', ROW], { timeoutMs: 20_000 });
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(r.code, 2, r.stderr);
  assert.equal(lines.filter((l) => l.startsWith('mme:')).length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return r;
}

describe('declared sizes over the caps are refused before anything is allocated', () => {
  const params = (doc: any) => doc.learner.learner_model_param;

  test('a 6.6 KB-class JSON model declaring num_feature "2000000000" is refused in one line (JSON and UBJSON)', async () => {
    const doc = fixtureJson('binary_logistic');
    params(doc).num_feature = '2000000000';
    await refused(write('features.json', JSON.stringify(doc)), /num_feature is 2000000000, more than mme reads/);
    await refused(write('features.ubj', toUbjson(doc)), /num_feature is 2000000000, more than mme reads/);
  });

  test('num_class, num_target and num_trees bombs are refused the same way', async () => {
    const classes = fixtureJson('multi_softprob');
    params(classes).num_class = '1000000000';
    await refused(write('classes.json', JSON.stringify(classes)), /num_class is 1000000000/);
    await refused(write('classes.ubj', toUbjson(classes)), /num_class is 1000000000/);
    const targets = fixtureJson('reg_squarederror');
    params(targets).num_target = '99999999';
    await refused(write('targets.json', JSON.stringify(targets)), /num_target is 99999999/);
    const trees = fixtureJson('reg_squarederror');
    trees.learner.gradient_booster.model.gbtree_model_param.num_trees = '2000000000';
    await refused(write('trees.json', JSON.stringify(trees)), /num_trees/);
  });

  test('the legacy binary reader applies the same caps (features, classes, trees, nodes)', async () => {
    const original = fixture('binary_logistic', 'binary');
    const at = binaryHeaderOffset(original);
    const features = Buffer.from(original);
    features.writeUInt32LE(2_000_000_000, at + 4);
    await refused(write('features-bin', features), /num_feature is 2000000000, more than mme reads/);
    const classes = Buffer.from(original);
    classes.writeInt32LE(1_000_000, at + 8);
    await refused(write('classes-bin', classes), /num_class is 1000000/);
  });
});

describe('models that would answer wrongly without a word are refused at load', () => {
  test('a NaN leaf (it would answer nan) and base_score 1e400 (inf) are refused in one line', async () => {
    const nan = fixture('reg_squarederror', 'json').toString('utf8');
    const doc = JSON.parse(nan);
    const tree = doc.learner.gradient_booster.model.trees[0];
    const leaf = tree.left_children.indexOf(-1);
    const marker = 424242.5;
    tree.split_conditions[leaf] = marker;
    // xgboost writes a non-finite number as a bare NaN token
    const text = JSON.stringify(doc).replace(String(marker), 'NaN');
    await refused(write('nan-leaf.json', text), /leaf \d+ has the value NaN/);
    await refused(write('nan-leaf.ubj', toUbjson(JSON.parse(JSON.stringify(doc).replace(String(marker), '"NaN"')))), /leaf \d+ has the value NaN/);

    const inf = fixtureJson('reg_squarederror');
    inf.learner.learner_model_param.base_score = '1E400';
    await refused(write('inf-base.json', JSON.stringify(inf)), /base_score Infinity gives the starting margin Infinity/);
  });

  test('binary:logistic with num_class 3 is refused as inconsistent (it would return three columns)', async () => {
    const doc = fixtureJson('multi_softprob');
    doc.learner.objective.name = 'binary:logistic';
    doc.learner.learner_model_param.num_class = '3';
    await refused(write('binary-3.json', JSON.stringify(doc)), /objective 'binary:logistic' gives one output per row but num_class is 3/);
  });
});

describe('mme package labels only real legacy binary models as such', () => {
  for (const [label, bytes] of [
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24))],
    ['gzip data', zlib.gzipSync(Buffer.alloc(10_000, 1))],
  ] as const) {
    test(`${label} named xgboost-model is not reported as an XGBoost binary model`, async () => {
      const dir = path.join(work, `pkg-${label.replace(' ', '-')}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'xgboost-model'), bytes);
      const r = await mme(['package', dir, '-o', path.join(work, `${label.replace(' ', '-')}.tar.gz`), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const text = JSON.stringify(r.json.result);
      assert.doesNotMatch(text, /"format":"binary"/, text);
      assert.match(r.stderr + text, /not an XGBoost model/i);
    });
  }

  test('a real legacy binary model is still labelled binary', async () => {
    const dir = path.join(work, 'pkg-real');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'xgboost-model'), fixture('binary_logistic', 'binary'));
    const r = await mme(['package', dir, '-o', path.join(work, 'real.tar.gz'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.stringify(r.json.result), /"format":"binary"/);
  });
});

test('mme package refuses a folder with more entries than mme local and mme predict accept (same limit)', async () => {
  const dir = path.join(work, 'many');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'xgboost-model'), fixture('binary_logistic', 'binary'));
  for (let i = 0; i < 10_000; i++) fs.writeFileSync(path.join(dir, `f${i}`), '');
  const out = path.join(work, 'many.tar.gz');
  const r = await mme(['package', dir, '-o', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^mme: .* holds 10001 files and folders; an artifact may hold at most 10000/);
  assert.equal(fs.existsSync(out), false);
});

test('a sparse libsvm request against a very wide (legal) model is refused before its dense rows are allocated', async () => {
  const doc = fixtureJson('reg_squarederror');
  doc.learner.learner_model_param.num_feature = '4000000';
  const file = write('wide.json', JSON.stringify(doc));
  // 100 rows of a label alone: 400 million values, 1.6 GB dense
  const body = Array(100).fill('0').join('\n');
  const r = await mme(['predict', file, '--content-type', 'text/libsvm', '--body', body], { timeoutMs: 20_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^mme: the endpoint would answer HTTP 400: 100 rows × 4000000 features is more than the 33554432 values scored in one request/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
});
