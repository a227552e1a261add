// `mme local` serving any MME container: the answers of the built-in XGBoost runtime as the real MME container gives
// them, the multi-model container contract (--container-cmd / --container-url), the Python handler runner (--handler)
// and the contract check (--check). Every answer is read through an independent client: boto3, the aws CLI or fetch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mme, ROOT, tempDir } from './helpers/cli.js';
import { boto3Invoke, hasBoto3, startLocal, stopAll, type Local } from './helpers/local.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'xgboost', 'manifest.json'), 'utf8'));
const denseRows = fs.readFileSync(path.join(FIXTURES, 'xgboost', 'data', 'dense.csv'), 'utf8').trimEnd().split('\n');
const expected = manifest.cases.find((c: { name: string }) => c.name === 'reg_squarederror').expected as number[];
const ENDPOINT = 'local-mme';
const noBoto3 = hasBoto3 ? false : 'boto3 is not installed (python3 -c "import boto3" fails)';

let work: string;
let prefixDir: string;

async function run(args: string[]) {
  const r = await mme(args, { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** `mme package` a folder or file, then `mme push` it under `as`. */
async function publish(source: string, as: string): Promise<void> {
  const out = path.join(work, 'built', as.replace(/\//g, '_'));
  await run(['package', source, '-o', out]);
  await run(['push', out, '--as', as, '--prefix', `file://${prefixDir}/`]);
}

function closeTo(actual: number, wanted: number): void {
  assert.ok(Math.abs(actual - wanted) <= 1e-6 * Math.max(1, Math.abs(wanted)), `${actual} vs ${wanted}`);
}

before(async () => {
  work = tempDir('mme-containers-');
  prefixDir = path.join(work, 'models');
  fs.mkdirSync(path.join(work, 'built'));
  const sklearnDir = path.join(work, 'sk');
  fs.mkdirSync(sklearnDir);
  fs.writeFileSync(path.join(sklearnDir, 'model.joblib'), Buffer.from([0x80, 0x04, 0x95, 0x00]));
  const brokenDir = path.join(work, 'broken');
  fs.mkdirSync(brokenDir);
  fs.writeFileSync(path.join(brokenDir, 'xgboost-model.json'), '{"learner": ');
  await Promise.all([
    publish(path.join(FIXTURES, 'xgboost', 'models', 'reg_squarederror', 'xgboost-model.json'), 'reg.tar.gz'),
    publish(sklearnDir, 'sk.tar.gz'),
    publish(brokenDir, 'broken.tar.gz'),
  ]);
});

after(stopAll);

describe('built-in runtime: answers as the XGBoost MME container gives them (through boto3)', { skip: noBoto3 }, () => {
  let local: Local;
  before(async () => {
    local = await startLocal(['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-xgb')], work);
  });
  after(() => local?.stop());

  test("no Accept, or */*, answers application/json: AWS's own sample json.loads(body)[0] works", () => {
    for (const accept of [undefined, '*/*']) {
      const r = boto3Invoke(local.url, ENDPOINT, { target: 'reg.tar.gz', body: denseRows[0], contentType: 'text/csv', accept });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.contentType, 'application/json');
      closeTo(JSON.parse(r.body)[0], expected[0]);
    }
    const csv = boto3Invoke(local.url, ENDPOINT, { target: 'reg.tar.gz', body: denseRows[1], contentType: 'text/csv', accept: 'text/csv' });
    assert.equal(csv.contentType, 'text/csv');
    closeTo(Number(csv.body), expected[1]);
  });

  test('custom attributes are not echoed back (the XGBoost container never sets them)', () => {
    const r = boto3Invoke(local.url, ENDPOINT, { target: 'reg.tar.gz', body: denseRows[2], contentType: 'text/csv', customAttributes: 'trace=abc' });
    assert.equal(r.ok, true);
    assert.equal(r.customAttributes, null);
  });

  test("the container's own status codes travel inside ModelError: 204, 415, 400, 500", () => {
    const cases: [Parameters<typeof boto3Invoke>[2], number, RegExp][] = [
      [{ target: 'reg.tar.gz', body: '', contentType: 'text/csv' }, 204, /empty/],
      [{ target: 'reg.tar.gz', body: denseRows[0], contentType: 'text/csv', accept: 'image/png' }, 415, /Accept 'image\/png' is not supported/],
      [{ target: 'reg.tar.gz', body: '1,2,x', contentType: 'text/csv' }, 400, /not a number|features/],
      [{ target: 'broken.tar.gz', body: denseRows[0], contentType: 'text/csv' }, 500, /xgboost-model\.json/],
    ];
    for (const [args, status, message] of cases) {
      const r = boto3Invoke(local.url, ENDPOINT, args);
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, 'ModelError');
      assert.equal(r.status, 424);
      assert.equal(r.originalStatusCode, status, JSON.stringify(r));
      assert.match(r.originalMessage, message);
    }
  });

  test('a scikit-learn artifact is named for what it is, by mme local, mme predict and mme package', async () => {
    const wanted = 'scikit-learn model model.joblib: the built-in runtime serves XGBoost; serve it with --handler or --container-url';
    const r = boto3Invoke(local.url, ENDPOINT, { target: 'sk.tar.gz', body: '1,2', contentType: 'text/csv' });
    assert.equal(r.originalStatusCode, 500);
    assert.ok(r.originalMessage.includes(wanted), r.originalMessage);
    const predict = await mme(['predict', path.join(work, 'built', 'sk.tar.gz'), '--body', '1,2'], { cwd: work });
    assert.equal(predict.code, 2);
    assert.ok(predict.stderr.includes(wanted), predict.stderr);
    const pkg = await mme(['package', path.join(work, 'sk'), '-o', path.join(work, 'sk2.tar.gz'), '--json'], { cwd: work });
    assert.equal(pkg.code, 0);
    assert.equal(pkg.json.result.framework, 'scikit-learn');
    assert.ok(pkg.json.result.warnings.some((w: string) => w.includes(wanted)), pkg.stdout);
  });

  test('--default-accept text/csv mirrors SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT', async () => {
    const csvLocal = await startLocal(['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-csv'), '--default-accept', 'text/csv'], work);
    try {
      const r = boto3Invoke(csvLocal.url, ENDPOINT, { target: 'reg.tar.gz', body: denseRows[3], contentType: 'text/csv' });
      assert.equal(r.contentType, 'text/csv');
      closeTo(Number(r.body), expected[3]);
    } finally {
      await csvLocal.stop();
    }
    const bad = await mme(['local', '--prefix', `file://${prefixDir}/`, '--default-accept', 'nonsense'], { cwd: work });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^mme: --default-accept "nonsense" is not a media type/);
  });
});
