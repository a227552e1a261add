// Releases (issue 12) against one moto_server on 127.0.0.1, each against the reference measured in the same run:
// `mme sync` of 150 × 5 MB artifacts vs `aws s3 sync` of the same folder, unchanged (goal <= 0.3×) and changed
// (goal <= 0.8×); and the round trips an alias adds to `mme invoke` (goal: at most 1), counted by a proxy.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Header } from 'tar';
import { MME, baseEnv } from '../test/helpers/cli.js';
import { freePort, startMoto } from '../test/helpers/moto.js';
import { printTable, type Row } from './lib/measure.js';

const MODELS = 150;
const SIZE = 5 * 1024 * 1024;
const ROUNDS = 5; // the three uploaders take each place in the order at least once
const UNCHANGED_RUNS = 15;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-bench-releases-'));
// aws CLI v1 reads AWS_DEFAULT_REGION; its own cache of hashes does not exist, ours lives under HOME/XDG_CACHE_HOME.
const env = baseEnv({ AWS_DEFAULT_REGION: 'us-east-1', XDG_CACHE_HOME: path.join(work, 'cache') });
const dir = path.join(work, 'artifacts');
fs.mkdirSync(dir);

/** 150 artifacts of random (incompressible) bytes, stored uncompressed in gzip so that writing them is quick. */
function writeArtifacts(): void {
  for (let i = 0; i < MODELS; i++) {
    const data = crypto.randomBytes(SIZE);
    const header = Buffer.alloc(512);
    new Header({ path: 'xgboost-model', mode: 0o644, size: SIZE, mtime: new Date(0), type: 'File', uid: 0, gid: 0 }).encode(header, 0);
    const tar = Buffer.concat([header, data, Buffer.alloc((512 - (SIZE % 512)) % 512), Buffer.alloc(1024)]);
    fs.writeFileSync(path.join(dir, `m${String(i).padStart(3, '0')}.tar.gz`), zlib.gzipSync(tar, { level: 0 }));
  }
}

// CPU seconds from /proc: this process's reaped children (the tool just run) and moto's own, so that each run says
// how much of its time was the client's work and how much the server's (the same 2 cores serve both).
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const ticks = (pid: number | 'self', fields: number[]) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.reduce((n, i) => n + Number(f[i - 3]), 0) / TICK;
};
let motoPid: number | undefined;
const cpu = { self: () => ticks('self', [16, 17]), moto: () => (motoPid ? ticks(motoPid, [14, 15]) : NaN) };
interface Run {
  ms: number;
  cpu: number;
  moto: number;
}
const runs: Record<string, Run[]> = {};

function time(cmd: string, args: string[], label?: string): number {
  const [c0, m0] = [cpu.self(), cpu.moto()];
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (label) (runs[label] ??= []).push({ ms, cpu: cpu.self() - c0, moto: cpu.moto() - m0 });
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const moto = await startMoto();
const port = new URL(moto.url).port;
motoPid =
  Number(
    spawnSync('pgrep', ['-f', `moto_server -H 127.0.0.1 -p ${port}$`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0],
  ) || undefined;
const rows: Row[] = [];
try {
  const s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  let phase = '';
  const mmeSync = () => time(process.execPath, [MME, 'sync', dir, '--prefix', 's3://fleet/rel/', '--endpoint-url', moto.url, '-q'], `mme ${phase}`);
  const rawPut = () =>
    time(
      process.execPath,
      [path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'raw-put.mjs'), dir, moto.url, 'fleet/raw/', '10'],
      `floor ${phase}`,
    );
  const awsSync = () => time('aws', ['--endpoint-url', moto.url, 's3', 'sync', '--quiet', dir, 's3://fleet/ref/'], `aws ${phase}`);
  const changed = { ours: [] as number[], ref: [] as number[] };
  const unchanged = { ours: [] as number[], ref: [] as number[] };
  // Every timed run starts from an empty bucket with nothing left to write back. moto keeps each object of over 5 MB in
  // a temp file; with three runs' objects kept per round, the kernel wrote 150-230 MB of them back during some later
  // run (/proc/vmstat's nr_written), which added 1-1.5 s of system time to it, whichever tool it was.
  const fresh = async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: 'fleet' }));
    spawnSync('sync');
  };
  // A fresh moto_server's first uploads cost it more (its memory is new): one untimed run first, so that no tool pays it.
  writeArtifacts();
  await fresh();
  phase = 'warm-up';
  rawPut();
  for (let round = 0; round < ROUNDS; round++) {
    writeArtifacts(); // new content each round: what "changed" costs both tools
    // The order rotates, so that each of mme, aws and the do-nothing client (the server's share: the same PUTs with
    // no client work, see lib/raw-put.mjs) runs once first, second and third.
    phase = 'changed';
    const order = [() => changed.ours.push(mmeSync()), () => changed.ref.push(awsSync()), () => rawPut()];
    for (let k = 0; k < order.length; k++) {
      await fresh();
      order[(k + round) % order.length]();
    }
  }
  // Unchanged: both tools' copies of the last round's folder, then syncs that find nothing to do.
  await fresh();
  phase = 'populate';
  mmeSync();
  awsSync();
  phase = 'unchanged';
  for (let i = 0; i < UNCHANGED_RUNS; i++) {
    unchanged.ours.push(mmeSync());
    unchanged.ref.push(awsSync());
    time(process.execPath, [MME, '--version'], 'floor unchanged'); // mme's start-up alone
  }
  rows.push({
    name: `sync ${MODELS} unchanged 5 MB models`,
    ours: median(unchanged.ours),
    reference: median(unchanged.ref),
    referenceName: 'aws s3 sync',
    goal: 0.3,
  });
  rows.push({
    name: `sync ${MODELS} changed 5 MB models`,
    ours: median(changed.ours),
    reference: median(changed.ref),
    referenceName: 'aws s3 sync',
    goal: 0.8,
  });

  // Round trips: every request of `mme invoke` passes a counting proxy in front of moto (S3 and SageMaker Runtime).
  const res = await fetch(`${moto.url}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ results: [0, 1, 2, 3].map(() => ({ Body: '0.5\n', ContentType: 'text/csv' })) }),
  });
  if (res.status !== 201) throw new Error(`moto refused the canned answers: HTTP ${res.status}`);
  let requests = 0;
  const proxy = http.createServer((req, out) => {
    requests++;
    const up = http.request(new URL(req.url!, moto.url), { method: req.method, headers: req.headers }, (r) => {
      out.writeHead(r.statusCode!, r.headers);
      r.pipe(out);
    });
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
  const target = JSON.parse(
    spawnSync(process.execPath, [MME, 'resolve', 'm000', '--prefix', 's3://fleet/rel/', '--endpoint-url', moto.url, '--json'], { env, encoding: 'utf8' })
      .stdout,
  ).result.target;
  // Asynchronous spawn: the proxy lives in this process, so its event loop must keep running while mme does.
  const invoke = async (name: string) => {
    requests = 0;
    const args = [
      MME,
      'invoke',
      '--target',
      name,
      '--body',
      '1,2,3',
      '--prefix',
      's3://fleet/rel/',
      '--endpoint-url',
      `http://127.0.0.1:${port}`,
      '--endpoint-name',
      'fraud-mme',
    ];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`mme invoke failed: ${stderr}`);
    return requests;
  };
  const flat = await invoke(target);
  const viaAlias = await invoke('m000');
  proxy.close();
  rows.push({ name: 'invoke --target ALIAS: requests', ours: viaAlias, reference: flat, referenceName: 'invoke --target VERSION', unit: 'req' });
  rows.push({ name: 'round trips an alias adds', ours: viaAlias - flat, reference: NaN, referenceName: 'goal <= 1', unit: 'req', goal: 1.5, goalOn: 'value' });
  s3.destroy();
} finally {
  await moto.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
printTable(rows);
// Medians of wall, client CPU and moto CPU per tool and case: where each run's time went.
for (const [label, rs] of Object.entries(runs)) {
  const m = (f: (r: Run) => number) => median(rs.map(f));
  console.log(
    `${label.padEnd(15)} wall ${m((r) => r.ms).toFixed(0)} ms, client CPU ${(m((r) => r.cpu) * 1000).toFixed(0)} ms, moto CPU ${(m((r) => r.moto) * 1000).toFixed(0)} ms (median of ${rs.length}; walls ${rs.map((r) => r.ms.toFixed(0)).join(' ')})`,
  );
}
console.log(
  `load average: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on ${os.cpus().length} cores`,
);
