// `mme local` serving any MME container: the answers of the built-in XGBoost runtime as the real MME container gives
// them, the multi-model container contract (--container-cmd / --container-url), the Python handler runner (--handler)
// and the contract check (--check). Every answer is read through an independent client: boto3, the aws CLI or fetch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mme, ROOT, tempDir } from './helpers/cli.js';
import { awsCliInvoke, boto3Invoke, hasAwsCli, hasBoto3 } from './helpers/clients.js';
import { startLocal, stopAll, type LocalProcess as Local } from './helpers/local.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'xgboost', 'manifest.json'), 'utf8'));
const denseRows = fs
  .readFileSync(path.join(FIXTURES, 'xgboost', 'data', 'dense.csv'), 'utf8')
  .trimEnd()
  .split('\n');
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
    assert.ok(
      pkg.json.result.warnings.some((w: string) => w.includes(wanted)),
      pkg.stdout,
    );
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

// ---- containers ------------------------------------------------------------------------------------------------

const CONTAINER = path.join(FIXTURES, 'containers', 'contract_container.py');
const HANDLER = path.join(FIXTURES, 'handlers', 'linear_inference.py');

/** A model folder for the test container and the test handler: model.json. */
async function publishLinear(as: string, spec: Record<string, unknown>): Promise<void> {
  const dir = path.join(work, 'linear', as.replace(/\//g, '_'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ weights: [1, 2, 3], bias: 0.5, ...spec }));
  await publish(dir, as);
}

/** Resident memory of a process and its descendants, read from /proc by the test itself. */
function treeRss(root: number): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(f[1]));
      rss.set(Number(name), Number(f[21]) * 4096);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += bytes;
        break;
      }
    }
  }
  return total;
}

/** The container's port and pid from the announcement line. */
function containerOf(local: Local): { port: number; pid: number } {
  const m = /pid (\d+)\)? on port (\d+)/.exec(local.stderr());
  assert.ok(m, local.stderr());
  return { pid: Number(m[1]), port: Number(m[2]) };
}

const csvOf = (rows: number[][]) => rows.map((r) => r.join(',')).join('\n');
const linear = (row: number[]) => row[0] * 1 + row[1] * 2 + row[2] * 3 + 0.5;

describe('--container-cmd: a contract-faithful container started by mme local', { skip: noBoto3 }, () => {
  let local: Local;
  before(async () => {
    await Promise.all([
      publishLinear('c1.tar.gz', {}),
      publishLinear('c2.tar.gz', {}),
      publishLinear('c3.tar.gz', {}),
      publishLinear('attrs.tar.gz', { behaviour: 'attributes' }),
      publishLinear('die.tar.gz', { behaviour: 'die' }),
      publishLinear('noload.tar.gz', { behaviour: 'fail_load' }),
      publishLinear('late.tar.gz', { behaviour: 'fail_load_when', release: path.join(work, 'release-late') }),
    ]);
    local = await startLocal(
      [
        '--prefix',
        `file://${prefixDir}/`,
        '--cache-dir',
        path.join(work, 'cache-cmd'),
        '--wait-limit',
        '300ms',
        '--container-cmd',
        `python3 ${CONTAINER} --port {port} --slots 2`,
      ],
      work,
    );
  });
  after(() => local?.stop());

  test('says where the container output goes, and the container got the SageMaker environment', async () => {
    const m = /its output: (\S+container\.log)/.exec(local.stderr());
    assert.ok(m, local.stderr());
    assert.match(fs.readFileSync(m[1], 'utf8'), /contract container on port \d+ \(multi-model: true\)/);
  });

  test("boto3, the aws CLI and mme invoke get the container's answers; its custom attributes come back", async () => {
    const r = boto3Invoke(local.url, ENDPOINT, {
      target: 'c1.tar.gz',
      body: csvOf([
        [1, 1, 1],
        [2, 0, 0],
      ]),
      contentType: 'text/csv',
      customAttributes: 'trace=1',
    });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(JSON.parse(r.body), [linear([1, 1, 1]), linear([2, 0, 0])]);
    assert.equal(r.customAttributes, null);
    const attrs = boto3Invoke(local.url, ENDPOINT, { target: 'attrs.tar.gz', body: '1,0,0', contentType: 'text/csv' });
    assert.match(attrs.customAttributes, /^model=/);
    const inv = await mme(['invoke', '--endpoint-url', local.url, '--endpoint-name', ENDPOINT, '--target', 'c1.tar.gz', '--body', '0,1,0'], { cwd: work });
    assert.equal(inv.code, 0, inv.stderr);
    assert.deepEqual(JSON.parse(inv.stdout), [linear([0, 1, 0])]);
    if (hasAwsCli) {
      const outFile = path.join(work, 'aws-cmd.out');
      const aws = awsCliInvoke(local.url, ENDPOINT, { target: 'c1.tar.gz', body: '0,0,1' }, outFile);
      assert.equal(aws.status, 0, aws.stderr);
      assert.deepEqual(JSON.parse(fs.readFileSync(outFile, 'utf8')), [linear([0, 0, 1])]);
    }
  });

  test('a container 4xx is a ModelError with its status and body as OriginalStatusCode / OriginalMessage; a failed LOAD is a 500', () => {
    const bad = boto3Invoke(local.url, ENDPOINT, { target: 'c1.tar.gz', body: 'x,y', contentType: 'text/csv' });
    assert.equal(bad.code, 'ModelError');
    assert.equal(bad.status, 424);
    assert.equal(bad.originalStatusCode, 400);
    assert.equal(bad.originalMessage, "cannot parse the request: could not convert string to float: 'x'");
    const noload = boto3Invoke(local.url, ENDPOINT, { target: 'noload.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.equal(noload.code, 'ModelError');
    assert.equal(noload.originalStatusCode, 500);
    assert.match(noload.originalMessage, /cannot load model/);
  });

  test('507 on LOAD unloads the least recently used model and retries; the container holds at most its slots', async () => {
    for (const name of ['c1.tar.gz', 'c2.tar.gz', 'c3.tar.gz', 'c1.tar.gz']) {
      const r = boto3Invoke(local.url, ENDPOINT, { target: name, body: '1,1,1', contentType: 'text/csv' });
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    const { port } = containerOf(local);
    const listed = (await (await fetch(`http://127.0.0.1:${port}/models`)).json()) as { models: unknown[] };
    assert.equal(listed.models.length, 2);
    assert.match(local.stderr(), /answered 507 \(out of memory\) to LOAD/);
    const unloads = await (await fetch(`${local.url}/metrics`)).text();
    assert.match(unloads, /mme_local_model_unloading_seconds_count\{[^}]*\} [1-9]/);
    const loads = /mme_local_model_loading_seconds_count\{[^}]*\} (\d+)/.exec(unloads);
    assert.ok(loads && Number(loads[1]) >= 4, unloads);
  });

  test('a load that fails after the wait limit: the retry gets the ModelError, not a new 429', async () => {
    const first = boto3Invoke(local.url, ENDPOINT, { target: 'late.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.equal(first.code, 'ModelNotReadyException');
    assert.equal(first.status, 429);
    fs.writeFileSync(path.join(work, 'release-late'), '');
    await local.waitForStderr(/failed to load late\.tar\.gz/);
    const retry = boto3Invoke(local.url, ENDPOINT, { target: 'late.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.equal(retry.code, 'ModelError', JSON.stringify(retry));
    assert.equal(retry.originalStatusCode, 500);
  });

  test('a container that dies mid-request: that request gets ServiceUnavailable, the container restarts, models reload on demand', async () => {
    const died = boto3Invoke(local.url, ENDPOINT, { target: 'die.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.equal(died.ok, false);
    assert.equal(died.status, 503, JSON.stringify(died));
    assert.equal(died.code, 'ServiceUnavailable');
    await local.waitForStderr(/the container answers \/ping again/);
    const after = boto3Invoke(local.url, ENDPOINT, { target: 'c2.tar.gz', body: '2,2,2', contentType: 'text/csv' });
    assert.equal(after.ok, true, JSON.stringify(after));
    assert.deepEqual(JSON.parse(after.body), [linear([2, 2, 2])]);
  });
});

describe("--handler: a SageMaker-toolkit inference.py run by mme's Python server", { skip: noBoto3 }, () => {
  let local: Local;
  before(async () => {
    await Promise.all([
      publishLinear('h1.tar.gz', {}),
      publishLinear('h2.tar.gz', { weights: [0, 0, 1], bias: 0 }),
      publishLinear('raise.tar.gz', { behaviour: 'raise' }),
      publishLinear('crash.tar.gz', { behaviour: 'crash' }),
      publishLinear('hang.tar.gz', { behaviour: 'hang', release: path.join(work, 'release-hang') }),
      publishLinear('stuck.tar.gz', { behaviour: 'hang', release: path.join(work, 'release-never') }),
    ]);
    local = await startLocal(
      ['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-handler'), '--handler', HANDLER, '--python', 'python3'],
      work,
    );
  });
  after(() => local?.stop());

  test('text/csv and application/json {"instances": …} through boto3, the aws CLI and mme invoke', async () => {
    const csv = boto3Invoke(local.url, ENDPOINT, {
      target: 'h1.tar.gz',
      body: csvOf([
        [1, 1, 1],
        [0, 0, 2],
      ]),
      contentType: 'text/csv',
    });
    assert.equal(csv.ok, true, JSON.stringify(csv));
    assert.equal(csv.contentType, 'application/json');
    assert.deepEqual(JSON.parse(csv.body), [linear([1, 1, 1]), linear([0, 0, 2])]);
    const json = boto3Invoke(local.url, ENDPOINT, {
      target: 'h1.tar.gz',
      body: JSON.stringify({ instances: [[3, 0, 0]] }),
      contentType: 'application/json',
      accept: 'text/csv',
    });
    assert.equal(json.contentType, 'text/csv');
    assert.equal(Number(json.body), linear([3, 0, 0]));
    const inv = await mme(['invoke', '--endpoint-url', local.url, '--endpoint-name', ENDPOINT, '--target', 'h2.tar.gz', '--body', '1,2,3'], { cwd: work });
    assert.equal(inv.code, 0, inv.stderr);
    assert.deepEqual(JSON.parse(inv.stdout), [3]);
    if (hasAwsCli) {
      const outFile = path.join(work, 'aws-handler.out');
      const aws = awsCliInvoke(local.url, ENDPOINT, { target: 'h2.tar.gz', body: '0,0,5' }, outFile);
      assert.equal(aws.status, 0, aws.stderr);
      assert.deepEqual(JSON.parse(fs.readFileSync(outFile, 'utf8')), [5]);
    }
  });

  test('a predict_fn that raises is a ModelError 500 carrying its message and traceback, as the toolkit answers', () => {
    const r = boto3Invoke(local.url, ENDPOINT, { target: 'raise.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.equal(r.code, 'ModelError');
    assert.equal(r.originalStatusCode, 500);
    assert.match(r.originalMessage, /^this model always fails\nTraceback/);
    assert.match(r.originalMessage, /RuntimeError: this model always fails/);
  });

  test('a crashing predict_fn fails only its own requests; /ping and the other models keep answering', async () => {
    const r = boto3Invoke(local.url, ENDPOINT, { target: 'crash.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.equal(r.originalStatusCode, 500);
    assert.match(r.originalMessage, /the model's process exited \(code 3\) while handling the request/);
    const { port } = containerOf(local);
    assert.equal((await fetch(`http://127.0.0.1:${port}/ping`)).status, 200);
    const other = boto3Invoke(local.url, ENDPOINT, { target: 'h2.tar.gz', body: '0,0,7', contentType: 'text/csv' });
    assert.deepEqual(JSON.parse(other.body), [7]);
    // Its next request starts its process again (model_fn runs again), and crashes again.
    const again = boto3Invoke(local.url, ENDPOINT, { target: 'crash.tar.gz', body: '1,2,3', contentType: 'text/csv' });
    assert.match(again.originalMessage, /exited \(code 3\)/);
  });

  test('a predict_fn that hangs holds up neither /ping nor the other models', async () => {
    const hung = fetch(`${local.url}/endpoints/${ENDPOINT}/invocations`, {
      method: 'POST',
      headers: { 'x-amzn-sagemaker-target-model': 'hang.tar.gz', 'content-type': 'text/csv' },
      body: '1,1,1',
    });
    // Answered while the hung request is still pending (it waits for a file only this test writes, below).
    await local.waitForStderr(/loaded hang\.tar\.gz/);
    const { port } = containerOf(local);
    assert.equal((await fetch(`http://127.0.0.1:${port}/ping`)).status, 200);
    const other = boto3Invoke(local.url, ENDPOINT, { target: 'h1.tar.gz', body: '1,0,0', contentType: 'text/csv' });
    assert.deepEqual(JSON.parse(other.body), [linear([1, 0, 0])]);
    fs.writeFileSync(path.join(work, 'release-hang'), '');
    const res = await hung;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), [linear([1, 1, 1])]);
  });

  test("a container's extracted models count on the disk budget, as the built-in runtime's do", async () => {
    const before = ((await (await fetch(`${local.url}/models`)).json()) as any).models.find((m: any) => m.modelName === 'h1.tar.gz');
    assert.ok(before?.diskBytes >= 8192, JSON.stringify(before)); // a folder entry and model.json: blocks, not bytes
    const tight = await startLocal(
      ['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-disk'), '--handler', HANDLER, '--python', 'python3', '--disk', '4KiB'],
      work,
    );
    try {
      const r = boto3Invoke(tight.url, ENDPOINT, { target: 'h1.tar.gz', body: '1,2,3', contentType: 'text/csv' });
      assert.equal(r.code, 'ModelError', JSON.stringify(r));
      assert.equal(r.originalStatusCode, 507);
      assert.match(r.originalMessage, /disk/);
      assert.deepEqual(fs.readdirSync(path.join(work, 'cache-disk', 'models')), []);
    } finally {
      await tight.stop();
    }
  });

  test('an invocation the container does not answer within --invoke-limit is a ModelError with status 0, as SageMaker', async () => {
    // stuck.tar.gz's predict_fn never returns (its release file is never written): the limit always fires.
    const limited = await startLocal(
      ['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-limit'), '--handler', HANDLER, '--python', 'python3', '--invoke-limit', '2s'],
      work,
    );
    try {
      const r = boto3Invoke(limited.url, ENDPOINT, { target: 'stuck.tar.gz', body: '1,2,3', contentType: 'text/csv' });
      assert.equal(r.code, 'ModelError');
      assert.equal(r.status, 424);
      assert.equal(r.originalStatusCode, 0);
      assert.match(
        r.message,
        /^Received server error \(0\) from primary with message "Your invocation timed out while waiting for a response from container primary/,
      );
      const bad = await mme(['local', '--prefix', `file://${prefixDir}/`, '--handler', HANDLER, '--invoke-limit', 'soon'], { cwd: work });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^mme: --invoke-limit/);
      const ignored = await mme(['local', '--prefix', `file://${prefixDir}/`, '--invoke-limit', '0s'], { cwd: work });
      assert.equal(ignored.code, 2, 'refused without a container too');
      assert.match(ignored.stderr, /^mme: --invoke-limit "0s" is not a duration between 1ms and 1h\./);
    } finally {
      await limited.stop();
    }
  });
});

describe('--handler: a handler that leaks memory past the budget', { skip: noBoto3 }, () => {
  const BUDGET = 160 * 1024 ** 2;
  const LEAK_MB = 25;
  /** One model's process at most: Python with the handler (under 40 MiB here) plus what model_fn and one predict_fn keep. */
  const ONE_MODEL = 40 * 1024 ** 2 + 2 * LEAK_MB * 1024 ** 2;
  let local: Local;
  before(async () => {
    await Promise.all([1, 2, 3, 4, 5, 6].map((i) => publishLinear(`leak${i}.tar.gz`, { behaviour: 'leak', leak_mb: LEAK_MB })));
    local = await startLocal(
      ['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-leak'), '--handler', HANDLER, '--memory', `${BUDGET}`],
      work,
    );
  });
  after(() => local?.stop());

  test('models are unloaded, and the process tree never exceeds the budget by more than one model', async () => {
    const { pid } = containerOf(local);
    let peak = 0;
    for (const i of [1, 2, 3, 4, 5, 6, 1, 2]) {
      const r = boto3Invoke(local.url, ENDPOINT, { target: `leak${i}.tar.gz`, body: '1,2,3', contentType: 'text/csv' });
      assert.equal(r.ok, true, JSON.stringify(r));
      const rss = treeRss(pid);
      peak = Math.max(peak, rss);
      assert.ok(rss <= BUDGET + ONE_MODEL, `after leak${i}: ${rss} bytes > budget ${BUDGET} + one model ${ONE_MODEL}`);
    }
    // (boto3 runs synchronously: the endpoint's log is read once the loop is free again.)
    await local.waitForStderr(/unloaded leak\d\.tar\.gz \(least recently used; memory budget\)/);
    // Without the unloads, six models holding 50 MiB each would be far past the budget.
    assert.ok(peak > BUDGET / 2, `peak ${peak}`);
  });
});

describe('mme local --check: the contract, call by call', () => {
  test('the contract-faithful container passes every check (exit 0)', async () => {
    const r = await mme(
      [
        'local',
        '--check',
        '--prefix',
        `file://${prefixDir}/`,
        '--models-preload',
        'c1.tar.gz',
        '--check-body',
        '1,2,3',
        '--container-cmd',
        `python3 ${CONTAINER} --port {port}`,
        '--json',
      ],
      { cwd: work },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const checks = r.json.result.checks as { check: string; result: string }[];
    assert.equal(r.json.result.failed, 0);
    assert.ok(checks.length >= 14);
    assert.deepEqual(
      checks.filter((c) => c.result === 'skip').map((c) => c.check),
      ['507 (memory full) on LOAD: unloading one model makes room'],
    );
  });

  test('a container that reports memory: the 507 row passes', async () => {
    const r = await mme(
      [
        'local',
        '--check',
        '--prefix',
        `file://${prefixDir}/`,
        '--models-preload',
        'c1.tar.gz',
        '--container-cmd',
        `python3 ${CONTAINER} --port {port} --slots 1`,
        '--json',
      ],
      { cwd: work },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const row = r.json.result.checks.find((c: { check: string }) => c.check.startsWith('507'));
    assert.equal(row.result, 'pass');
  });

  test('a container that breaks the contract: the right rows fail, exit 4, a table on stdout', async () => {
    const r = await mme(
      [
        'local',
        '--check',
        '--prefix',
        `file://${prefixDir}/`,
        '--models-preload',
        'c1.tar.gz',
        '--container-cmd',
        `python3 ${CONTAINER} --port {port} --broken`,
      ],
      { cwd: work },
    );
    assert.equal(r.code, 4, r.stderr);
    const failed = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('FAIL'))
      .map((l) => l.split('\t')[1]);
    assert.deepEqual(failed, [
      'a second LOAD of a loaded model is 409',
      'LIST pages with limit and next_page_token',
      'GET of a model not loaded is 404',
      'GET after UNLOAD is 404',
      'UNLOAD of a model not loaded is 404',
    ]);
    assert.match(r.stderr, /5 of 15 contract checks failed/);
  });

  test('--check needs a container; a container that never answers /ping fails its first row', async () => {
    const none = await mme(['local', '--check', '--prefix', `file://${prefixDir}/`], { cwd: work });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^mme: --check tests a serving container/);
    const dead = await mme(['local', '--check', '--prefix', `file://${prefixDir}/`, '--models-preload', 'c1.tar.gz', '--container-cmd', 'exit 3'], {
      cwd: work,
    });
    assert.equal(dead.code, 4);
    assert.match(dead.stdout, /^FAIL\tanswers GET \/ping\tGET \/ping\tthe container exited \(code 3\) before answering GET \/ping/m);
  });

  test('bad container flags are one clear line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--container-url', 'http://127.0.0.1:1', '--container-cmd', 'x'], /--container-url and --container-cmd cannot be combined/],
      [['--python', 'python3'], /--python goes with --handler/],
      [['--handler', path.join(work, 'nope.py')], /--handler .*nope\.py: no such file/],
      [['--container-url', 'ftp://x'], /--container-url "ftp:\/\/x" is not an http:\/\/ URL/],
    ];
    for (const [args, pattern] of cases) {
      const r = await mme(['local', '--prefix', `file://${prefixDir}/`, ...args], { cwd: work });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });
});

describe('--container-url: a container that is already running', { skip: noBoto3 }, () => {
  test('models load into it and answer; once it is gone, requests get ServiceUnavailable', async () => {
    const { spawn } = await import('node:child_process');
    const { freePort } = await import('./helpers/moto.js');
    const port = await freePort();
    const container = spawn('python3', [CONTAINER, '--port', String(port), '--slots', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((r) => container.once('exit', r));
    try {
      // Listening once it says so on stderr (it prints after binding the port).
      await new Promise<void>((resolve) => container.stderr!.on('data', (c) => /contract container on port/.test(String(c)) && resolve()));
      const local = await startLocal(
        ['--prefix', `file://${prefixDir}/`, '--cache-dir', path.join(work, 'cache-url'), '--container-url', `http://127.0.0.1:${port}`],
        work,
      );
      try {
        assert.match(local.stderr(), new RegExp(`models served by the container at http://127.0.0.1:${port} \\(memory: its 507 answers\\)`));
        for (const name of ['c1.tar.gz', 'c2.tar.gz', 'c1.tar.gz']) {
          const r = boto3Invoke(local.url, ENDPOINT, { target: name, body: '1,1,1', contentType: 'text/csv' });
          assert.deepEqual(JSON.parse(r.body), [linear([1, 1, 1])], JSON.stringify(r));
        }
        container.kill('SIGKILL');
        await exited;
        const gone = boto3Invoke(local.url, ENDPOINT, { target: 'c1.tar.gz', body: '1,1,1', contentType: 'text/csv' });
        assert.equal(gone.status, 503, JSON.stringify(gone));
        assert.equal(gone.code, 'ServiceUnavailable');
      } finally {
        await local.stop();
      }
    } finally {
      if (container.exitCode === null && container.signalCode === null) container.kill('SIGKILL');
    }
  });
});

/** The Python with scikit-learn: python3, or MME_TEST_SKLEARN_PYTHON (e.g. a virtualenv's) when set. */
const SK_PYTHON = process.env.MME_TEST_SKLEARN_PYTHON || 'python3';
const hasSklearn = spawnSync(SK_PYTHON, ['-c', 'import sklearn, joblib, numpy']).status === 0;

describe("examples/sklearn/inference.py (the how-to's handler) runs unchanged under --handler", {
  skip: !hasSklearn
    ? `scikit-learn is not installed for ${SK_PYTHON} (${SK_PYTHON} -c "import sklearn" fails), so the example cannot load its model.joblib; set MME_TEST_SKLEARN_PYTHON to a Python that has it`
    : noBoto3,
}, () => {
  test('text/csv and application/json {"instances": …} answer the model\'s own predictions', async () => {
    const dir = path.join(work, 'sk-example');
    const train = spawnSync(SK_PYTHON, [path.join(ROOT, 'examples', 'sklearn', 'train.py'), dir], { encoding: 'utf8' });
    assert.equal(train.status, 0, train.stderr);
    await publish(dir, 'sk-example.tar.gz');
    const rows = [
      [1, 0, 0, 0, 0, 0, 0, 0],
      [0, 1, 2, 3, 4, 5, 6, 7],
    ];
    const want = JSON.parse(
      spawnSync(
        SK_PYTHON,
        [
          '-c',
          `import joblib, json; m = joblib.load(${JSON.stringify(path.join(dir, 'model.joblib'))}); print(json.dumps(m.predict(${JSON.stringify(rows)}).tolist()))`,
        ],
        { encoding: 'utf8' },
      ).stdout,
    );
    const local = await startLocal(
      [
        '--prefix',
        `file://${prefixDir}/`,
        '--cache-dir',
        path.join(work, 'cache-sk'),
        '--handler',
        path.join(ROOT, 'examples', 'sklearn', 'inference.py'),
        '--python',
        SK_PYTHON,
      ],
      work,
    );
    try {
      const csv = boto3Invoke(local.url, ENDPOINT, { target: 'sk-example.tar.gz', body: csvOf(rows), contentType: 'text/csv' });
      assert.equal(csv.ok, true, JSON.stringify(csv));
      JSON.parse(csv.body).predictions.forEach((p: number, i: number) => closeTo(p, want[i]));
      const json = boto3Invoke(local.url, ENDPOINT, {
        target: 'sk-example.tar.gz',
        body: JSON.stringify({ instances: rows }),
        contentType: 'application/json',
        accept: 'text/csv',
      });
      json.body
        .split('\n')
        .map(Number)
        .forEach((p: number, i: number) => closeTo(p, want[i]));
    } finally {
      await local.stop();
    }
  });
});

describe('one definition of a model file, for mme package, mme predict and mme local', () => {
  test('xgboost-model.ubj beside weights.bin is two XGBoost files to package and to predict, as to the container', async () => {
    const dir = path.join(work, 'two-files');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'xgboost', 'models', 'reg_squarederror', 'xgboost-model.ubj'), path.join(dir, 'xgboost-model.ubj'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    fs.writeFileSync(path.join(dir, 'README.md'), '# notes');
    const pkg = await mme(['package', dir, '-o', path.join(work, 'two.tar.gz'), '--json'], { cwd: work });
    assert.equal(pkg.code, 0, pkg.stderr);
    // weights.bin is no valid booster (package warns that it will fail to load), but the container would still try it.
    assert.deepEqual(
      pkg.json.result.modelFiles.map((m: { path: string; format: string }) => [m.path, m.format]),
      [
        ['weights.bin', 'invalid'],
        ['xgboost-model.ubj', 'ubj'],
      ],
    );
    assert.match(pkg.json.result.warnings.join('\n'), /2 XGBoost model files/);
    const predict = await mme(['predict', dir, '--body', denseRows[1]], { cwd: work });
    assert.equal(predict.code, 2);
    assert.match(predict.stderr, /weights\.bin: legacy binary model/);
  });

  test('a TensorFlow SavedModel in its version folder, an ONNX or a PyTorch file are named too', async () => {
    for (const [file, framework] of [
      ['1/saved_model.pb', 'tensorflow'],
      ['model.onnx', 'onnx'],
      ['model.pth', 'pytorch'],
    ]) {
      const dir = path.join(work, `fw-${framework}`);
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), 'x');
      const predict = await mme(['predict', dir, '--body', '1'], { cwd: work });
      assert.equal(predict.code, 2);
      assert.ok(
        predict.stderr.includes(`${framework} model ${file}: the built-in runtime serves XGBoost; serve it with --handler or --container-url`),
        predict.stderr,
      );
    }
  });
});

test('the handler server ships in the package (dist/mme_handler_server.py)', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path);
  assert.ok(files.includes('dist/mme_handler_server.py'), files.join(' '));
});
