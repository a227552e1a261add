// `mme predict` end to end: the built binary (node bin/mme.js) scores the xgboost fixtures from a model file, an
// extracted folder and a .tar.gz artifact; answers are checked against xgboost's predictions in the manifest.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { create as createTar } from 'tar';
import { mme, ROOT, tempDir } from './helpers/cli.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'xgboost');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'));
const caseOf = (name: string) => manifest.cases.find((c: { name: string }) => c.name === name);
const fixture = (relative: string) => path.join(FIXTURES, relative);
const denseCsv = fixture('data/dense.csv');
const denseLines = fs.readFileSync(denseCsv, 'utf8').trimEnd().split('\n');

const scratch = tempDir('mme-predict-test-');
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** An artifact as `mme package` lays it out: model files at the root of a gzip-compressed tar. */
async function artifact(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(scratch, `${name}-src`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [inside, source] of Object.entries(files)) fs.copyFileSync(source, path.join(dir, inside));
  const file = path.join(scratch, `${name}.tar.gz`);
  await createTar({ gzip: true, file, cwd: dir, portable: true }, Object.keys(files));
  return file;
}

/** Numbers of a response body, to compare with xgboost's within 1e-6. */
function assertCloseText(actual: string, expected: string): void {
  const numbers = (s: string) => (s.match(/-?\d+\.?\d*(e[+-]\d+)?/g) ?? []).map(Number);
  const a = numbers(actual);
  const e = numbers(expected);
  assert.equal(a.length, e.length, `${actual.slice(0, 80)} vs ${expected.slice(0, 80)}`);
  a.forEach((v, i) => {
    assert.ok(Math.abs(v - e[i]) / Math.max(1, Math.abs(e[i])) <= 1e-6, `[${i}] ${v} vs ${e[i]}`);
  });
  assert.equal(actual.replace(/-?\d+\.?\d*(e[+-]\d+)?/g, '#'), expected.replace(/-?\d+\.?\d*(e[+-]\d+)?/g, '#'));
}

describe('mme predict', () => {
  test('a model file: prints exactly what the container answers (text/csv)', async () => {
    const c = caseOf('binary_logistic');
    const r = await mme(['predict', fixture(c.files.binary), '--body-file', denseCsv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, c.csv_response);
    assert.match(r.stderr, /30 row\(s\) scored by binary:logistic gbtree \(15 trees, 8 features/);
  });

  test('a .tar.gz artifact with --body and --accept application/json (multi-class rows nested)', async () => {
    const c = caseOf('multi_softprob');
    const file = await artifact('softprob', { 'xgboost-model': fixture(c.files.binary) });
    const r = await mme(['predict', file, '--body', denseLines.slice(0, 2).join('\n'), '--accept', 'application/json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assert.equal(rows.length, 2);
    assert.equal(rows[0].length, 4);
    assertCloseText(r.stdout, JSON.stringify(c.expected.slice(0, 2)).replace(/,/g, ', '));
  });

  test('a k-fold artifact averages its models like the container', async () => {
    const files = Object.fromEntries([0, 1, 2].map((k) => [`xgboost-model-${k}`, fixture(`kfold/xgboost-model-${k}`)]));
    const file = await artifact('kfold', files);
    const r = await mme(['predict', file, '--body-file', denseCsv]);
    assert.equal(r.code, 0, r.stderr);
    assertCloseText(r.stdout, manifest.kfold.csv_response);
    assert.match(r.stderr, /3 files averaged/);
  });

  test('an extracted folder, libsvm on stdin', async () => {
    const c = caseOf('categorical');
    const dir = path.join(scratch, 'folder');
    fs.mkdirSync(dir);
    fs.copyFileSync(fixture(c.files.json), path.join(dir, 'xgboost-model.json'));
    fs.writeFileSync(path.join(dir, 'README.md'), 'not a model');
    const input = fs.readFileSync(fixture('data/categorical.libsvm'));
    const r = await mme(['predict', dir, '--content-type', 'text/libsvm'], { input });
    assert.equal(r.code, 0, r.stderr);
    assertCloseText(r.stdout, c.csv_response);
  });

  test('--json adds the model description', async () => {
    const c = caseOf('dart');
    const r = await mme(['predict', fixture(c.files.ubj), '--body', denseLines[4], '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { model, request, response, timings } = r.json.result;
    assert.equal(model.format, 'ubj');
    assert.equal(model.booster, 'dart');
    assert.equal(model.objective, 'binary:logistic');
    assert.equal(model.trees, 20);
    assert.equal(model.features, 8);
    assert.equal(model.classes, 0);
    assert.ok(model.footprintBytes > 0);
    assert.deepEqual(model.files, ['xgboost-model.ubj']);
    assert.equal(request.contentType, 'text/csv');
    assert.equal(response.contentType, 'text/csv');
    assert.equal(response.rows, 1);
    assertCloseText(response.body, String(c.expected[4]));
    assert.ok(timings.loadMs >= 0 && timings.predictMs >= 0);
  });

  test('a pickled booster: a clear error, exit code 2', async () => {
    const r = await mme(['predict', fixture('errors/pickled/xgboost-model'), '--body', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pickled Python booster.*save_model\('xgboost-model\.json'\)/);
  });

  test('a pickle inside an artifact names the file inside', async () => {
    const file = await artifact('pickled', { 'xgboost-model': fixture('errors/pickled/xgboost-model') });
    const r = await mme(['predict', file, '--body', '1', '--json']);
    assert.equal(r.code, 2);
    assert.match(r.json.error.message, /pickled\.tar\.gz: xgboost-model: this is a pickled Python booster/);
  });

  test('bad rows and unsupported types say what the endpoint would answer', async () => {
    const model = fixture(caseOf('reg_squarederror').files.json);
    const bad = await mme(['predict', model, '--body', '1,2,3,4,5,6,x,8']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /HTTP 400: row 1, column 7: 'x' is not a number/);
    const short = await mme(['predict', model, '--body', '1,2']);
    assert.match(short.stderr, /HTTP 400: row 1 has 2 values; the model expects 8 features/);
    const accept = await mme(['predict', model, '--body', denseLines[1], '--accept', 'application/xml']);
    assert.equal(accept.code, 2);
    assert.match(accept.stderr, /HTTP 415: Accept 'application\/xml' is not supported/);
    const type = await mme(['predict', model, '--body', denseLines[1], '--content-type', 'application/json']);
    assert.match(type.stderr, /HTTP 415: Content-Type 'application\/json' is not supported/);
  });

  test('missing model, truncated model, model nested in a folder of the artifact', async () => {
    const missing = await mme(['predict', path.join(scratch, 'nope.tar.gz'), '--body', '1']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no such file or folder/);
    const truncated = await mme(['predict', fixture('errors/truncated-binary'), '--body', '1']);
    assert.equal(truncated.code, 2);
    assert.match(truncated.stderr, /truncated-binary: legacy binary model: truncated/);
    const nestedSrc = path.join(scratch, 'nested-src', 'model');
    fs.mkdirSync(nestedSrc, { recursive: true });
    fs.copyFileSync(fixture(caseOf('reg_squarederror').files.binary), path.join(nestedSrc, 'xgboost-model'));
    const nested = path.join(scratch, 'nested.tar.gz');
    await createTar({ gzip: true, file: nested, cwd: path.dirname(nestedSrc) }, ['model']);
    const r = await mme(['predict', nested, '--body', denseLines[1]]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no model file found at the top.*model\/, but model files must be at the top/);
  });
});
