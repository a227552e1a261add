// `mme local` with a model that takes long to load (an enormous but legal JSON model generated here): an unrelated
// cold model still loads and answers meanwhile (checked on the server's own state, GET /models, not on timings);
// SIGTERM stops the slow load at once (the request waiting for it gets 503), a request arriving afterwards on an open
// connection gets 503 ServiceUnavailable rather than a reset, a request in flight is finished, and the process exits.
// Run: npm run build && node --import tsx --test test/local-signals.test.ts
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, test } from 'node:test';
import { spawn } from 'node:child_process';
import { baseEnv, MME, tempDir } from './helpers/cli.js';
import { invokeRaw, modelStates, startLocal } from './helpers/local.js';
import { DENSE_CSV, fixture, fixtureJson, tar } from './helpers/models.js';

const work = tempDir('mme-signals-');
after(() => fs.rmSync(work, { recursive: true, force: true }));
const ROW = DENSE_CSV.split('\n')[2];

/**
 * A legal JSON model of `count` full trees of depth `depth` (a few tens of MB), slow to parse and compile: its training
 * statistics (base_weights, loss_changes, sum_hessian, which scoring does not use) are NaN, written as xgboost does,
 * as bare NaN tokens, which JSON.parse cannot take directly.
 */
function enormousModel(count: number, depth: number): Buffer {
  const doc = fixtureJson('reg_squarederror');
  const n = 2 ** (depth + 1) - 1;
  const tree: Record<string, unknown> = {
    left_children: [],
    right_children: [],
    split_indices: [],
    split_conditions: [],
    default_left: [],
    split_type: [],
    base_weights: [],
    loss_changes: [],
    sum_hessian: [],
    id: 0,
    tree_param: { num_deleted: '0', num_feature: '8', num_nodes: String(n), size_leaf_vector: '1' },
  };
  for (let i = 0; i < n; i++) {
    const leaf = 2 * i + 1 >= n;
    (tree.left_children as number[]).push(leaf ? -1 : 2 * i + 1);
    (tree.right_children as number[]).push(leaf ? -1 : 2 * i + 2);
    (tree.split_indices as number[]).push(i % 8);
    (tree.split_conditions as number[]).push(leaf ? 0.001 * (i % 97) : 0.5 * (i % 5));
    (tree.default_left as number[]).push(i % 2);
    (tree.split_type as number[]).push(0);
    for (const key of ['base_weights', 'loss_changes', 'sum_hessian']) (tree[key] as string[]).push('@NaN@');
  }
  const one = JSON.stringify(tree).replaceAll('"@NaN@"', 'NaN');
  const model = doc.learner.gradient_booster.model;
  model.gbtree_model_param.num_trees = String(count);
  model.tree_info = new Array(count).fill(0);
  delete model.iteration_indptr;
  model.trees = '@TREES@';
  const trees = Array.from({ length: count }, (_, t) => one.replace('"id":0', `"id":${t}`)).join(',');
  return Buffer.from(JSON.stringify(doc).replace('"@TREES@"', `[${trees}]`));
}

let cached: Buffer | undefined;
const enormous = () => (cached ??= enormousModel(1200, 9));

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One HTTP/1.1 exchange on a raw socket that stays open (keep-alive): the status line and headers of the answer. */
function exchange(socket: net.Socket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (text.length - end - 4 < length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(text);
    };
    const onClose = () => reject(new Error(`connection closed without an answer (got ${JSON.stringify(text)})`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(request);
  });
}

function connect(url: string): Promise<net.Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => resolve(s));
    s.once('error', reject);
  });
}

test('a slow load does not hold up another cold model; SIGTERM stops it at once and refuses late requests with 503', async () => {
  const prefix = path.join(work, 'prefix');
  fs.mkdirSync(prefix);
  const model = enormous();
  const files = ['xgboost-model.json'];
  fs.writeFileSync(path.join(prefix, 'enormous.tar.gz'), zlib.gzipSync(tar(files.map((f) => ({ path: f, data: model }))), { level: 1 }));
  fs.writeFileSync(path.join(prefix, 'small.tar.gz'), zlib.gzipSync(tar([{ path: 'xgboost-model', data: fixture('binary_logistic', 'binary') }])));
  // MME_TEST_PHASES: the server says `mme-test-phase: request` as each request arrives, so the test knows when the
  // request it holds open has reached the server (and counts as in flight) before it sends SIGTERM.
  // MME_TEST_HOLD_LOAD_BYTES: the enormous model's load never ends by itself (however fast this machine compiles it).
  const local = await startLocal(['--prefix', `file://${prefix}/`, '--cache-dir', path.join(work, 'cache')], work, {
    MME_TEST_PHASES: '1',
    MME_TEST_HOLD_LOAD_BYTES: String(model.length),
  });
  const arrived = () =>
    local
      .stderr()
      .split('\n')
      .filter((l) => l === 'mme-test-phase: request').length;
  const untilArrived = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (arrived() < n) return;
        local.child.stderr!.off('data', check);
        resolve();
      };
      local.child.stderr!.on('data', check);
      check();
    });
  try {
    const enormous = invokeRaw(local.url, 'enormous.tar.gz', ROW);
    // The endpoint's own state says when the load is under way (it then never finishes by itself: see above).
    while ((await modelStates(local.url))['enormous.tar.gz'] !== 'loading');

    // The unrelated cold model loads on another thread and answers while the enormous one is still loading.
    const small = await invokeRaw(local.url, 'small.tar.gz', ROW);
    assert.equal(small.status, 200, small.text);
    assert.deepEqual(await modelStates(local.url), { 'enormous.tar.gz': 'loading', 'small.tar.gz': 'loaded' });

    // A keep-alive connection, and a request in flight (its body not all sent yet) that holds the endpoint open.
    const idle = await connect(local.url);
    assert.match(await exchange(idle, 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 200/);
    const slow = await connect(local.url);
    const body = Buffer.from(ROW);
    const before = arrived();
    const slowAnswer = exchange(
      slow,
      `POST /endpoints/local-mme/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nX-Amzn-SageMaker-Target-Model: small.tar.gz\r\nContent-Length: ${body.length}\r\n\r\n${body.subarray(0, 3).toString()}`,
    );

    await untilArrived(before + 1);
    const stopping = new Promise<void>((resolve) => local.child.stderr!.on('data', () => /stopping/.test(local.stderr()) && resolve()));
    local.child.kill('SIGTERM');
    await stopping;

    // The enormous load is stopped, not waited for: its request is answered 503.
    const cut = await enormous;
    assert.equal(cut.status, 503, cut.text);
    assert.equal(cut.type, 'ServiceUnavailable');
    // A request arriving on the open connection is refused in SageMaker's shape, and the connection closes.
    const late = await exchange(
      idle,
      `POST /endpoints/local-mme/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nX-Amzn-SageMaker-Target-Model: small.tar.gz\r\nContent-Length: ${body.length}\r\n\r\n${ROW}`,
    );
    assert.match(late, /^HTTP\/1\.1 503/);
    assert.match(late, /x-amzn-ErrorType: ServiceUnavailable/i);
    assert.match(late, /Connection: close/i);
    // The request in flight is finished, then the process exits cleanly.
    slow.write(body.subarray(3));
    assert.match(await slowAnswer, /^HTTP\/1\.1 200/);
    const { code } = await local.exited;
    assert.equal(code, 0, local.stderr());
    idle.destroy();
    slow.destroy();
  } finally {
    await local.stop('SIGKILL');
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`mme predict honours ${signal} while it loads a model: exit 130 at once, nothing printed, no scratch folder left`, async () => {
    const file = path.join(work, 'enormous.json');
    if (!fs.existsSync(file)) fs.writeFileSync(file, enormous());
    const artifact = path.join(work, 'enormous.tar.gz');
    if (!fs.existsSync(artifact)) fs.writeFileSync(artifact, zlib.gzipSync(tar([{ path: 'xgboost-model.json', data: enormous() }]), { level: 1 }));
    const tmp = path.join(work, `tmp-${signal}`);
    fs.mkdirSync(tmp);
    for (const model of [file, artifact]) {
      const child = spawn(process.execPath, [MME, 'predict', model, '--body', ROW], { env: baseEnv({ TMPDIR: tmp }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (c) => (stdout += c));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Loading is under way once the process has used more CPU than starting takes (about 0.15 s).
      while (cpuSeconds(child.pid!) < 0.4) await fs.promises.readFile(`/proc/${child.pid}/stat`);
      child.kill(signal);
      assert.equal(await exited, 130);
      assert.equal(stdout, '', 'nothing scored, nothing printed');
      assert.deepEqual(fs.readdirSync(tmp), [], 'the scratch folder is gone');
    }
  });
}
