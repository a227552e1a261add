// Benchmarks of the CLI core (issue 2), each against the reference tool measured in the same run:
// start-up vs `aws --version`, ls of 10,000 models vs `aws s3 ls`, package of a 120 MB folder vs tar -czf / pigz,
// push of a 256 MB artifact vs `aws s3 cp`, all against one moto_server on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MME, baseEnv } from '../test/helpers/cli.js';
import { startMoto } from '../test/helpers/moto.js';
import { printTable, timeCommand, type Row } from './lib/measure.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const env = baseEnv();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-bench-'));
const rows: Row[] = [];
const mme = (args: string[], runs = 5) => timeCommand(process.execPath, [MME, ...args], runs, env);

// Start-up.
if (has('aws'))
  rows.push({
    name: 'start-up (--version)',
    ours: mme(['--version'], 9),
    reference: timeCommand('aws', ['--version'], 9, env),
    referenceName: 'aws --version',
    goal: 0.25,
  });

// package: a 72 MB JSON model (text compresses well) plus 48 MB of float32 weights (it barely does).
const folder = path.join(work, 'big-model');
fs.mkdirSync(folder);
{
  const parts: string[] = [];
  let size = 0;
  const rnd = crypto.randomBytes(4096);
  for (let i = 0; size < 72 * 1024 * 1024; i++) {
    const s = `{"nodeid":${i},"split":"f${rnd[i % 4096] % 50}","split_condition":${(rnd[(i * 7) % 4096] / 255).toFixed(8)},"yes":${2 * i + 1},"no":${2 * i + 2},"missing":${2 * i + 1}},`;
    parts.push(s);
    size += s.length;
  }
  fs.writeFileSync(path.join(folder, 'xgboost-model.json'), `[${parts.join('')}{}]`);
  const weights = new Float32Array(12 * 1024 * 1024);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.sin(i) * 0.1;
  fs.writeFileSync(path.join(folder, 'weights.bin'), Buffer.from(weights.buffer));
}
const out = path.join(work, 'big-model.tar.gz');
const ours = mme(['package', folder, '-o', out], 3);
const tarGz = timeCommand('tar', ['-czf', path.join(work, 'ref.tar.gz'), '-C', folder, '.'], 3);
rows.push({ name: 'package 120 MB folder', ours, reference: tarGz, referenceName: 'tar -czf', goal: 0.5 });
if (has('pigz')) {
  const pigz = timeCommand('tar', ['-I', 'pigz -6', '-cf', path.join(work, 'ref-pigz.tar.gz'), '-C', folder, '.'], 3);
  rows.push({ name: 'package 120 MB folder', ours, reference: pigz, referenceName: 'tar -I pigz', goal: 1.0 });
}
const sizes = `sizes: mme ${fs.statSync(out).size} B, tar -czf ${fs.statSync(path.join(work, 'ref.tar.gz')).size} B`;

// ls and push against moto.
const moto = await startMoto();
try {
  const s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'fleet' }));
  const names = Array.from({ length: 10_000 }, (_, i) => `models/m${i}.tar.gz`);
  for (let i = 0; i < names.length; i += 100) {
    await Promise.all(names.slice(i, i + 100).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'fleet', Key, Body: 'x' }))));
  }
  const s3flags = ['--endpoint-url', moto.url, '--prefix', 's3://fleet/models/'];
  rows.push({
    name: 'ls 10,000 models',
    ours: mme(['ls', ...s3flags], 3),
    reference: timeCommand('aws', ['--endpoint-url', moto.url, 's3', 'ls', 's3://fleet/models/'], 3, env),
    referenceName: 'aws s3 ls',
    goal: 0.75,
  });

  // Random bytes do not compress: the packaged artifact is about 256 MB.
  const bigFolder = path.join(work, 'm256');
  fs.mkdirSync(bigFolder);
  fs.writeFileSync(path.join(bigFolder, 'xgboost-model'), crypto.randomBytes(256 * 1024 * 1024));
  const artifact = path.join(work, 'm256.tar.gz');
  mme(['package', bigFolder, '-o', artifact], 1);
  const push = (i: number) => mme(['push', artifact, '--as', `p${i}.tar.gz`, '--force', ...s3flags], 1);
  const cp = (i: number) => timeCommand('aws', ['--endpoint-url', moto.url, 's3', 'cp', '--quiet', artifact, `s3://fleet/models/c${i}.tar.gz`], 1, env);
  const oursPush: number[] = [];
  const refPush: number[] = [];
  for (let i = 0; i < 3; i++) {
    oursPush.push(push(i));
    refPush.push(cp(i));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[1];
  rows.push({ name: 'push 256 MB artifact', ours: median(oursPush), reference: median(refPush), referenceName: 'aws s3 cp', goal: 0.8 });
  s3.destroy();
} finally {
  await moto.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
printTable(rows);
console.log(sizes);
