// `mme invoke` (one call, a new process each time) vs `aws sagemaker-runtime invoke-endpoint`, against the same
// moto_server on 127.0.0.1 and the same canned answer. Goal (issue 3): mme at most 0.3 of aws's time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MME, baseEnv } from '../test/helpers/cli.js';
import { startMoto } from '../test/helpers/moto.js';
import { printTable, type Row } from './lib/measure.js';

const RUNS = 11;

/**
 * Median wall and CPU (user+sys) times of two commands, runs alternating after one warm-up each: other work on a
 * shared machine then weighs on both sides alike instead of on whichever ran second. CPU time comes from GNU time
 * when it is installed; it barely moves with the machine's load, so it is the steadier ratio.
 */
function interleaved(a: [string, string[]], b: [string, string[]], env: NodeJS.ProcessEnv) {
  const gnuTime = spawnSync('/usr/bin/time', ['-f', '%U %S', 'true'], { encoding: 'utf8' }).status === 0;
  const once = ([cmd, args]: [string, string[]]) => {
    const t = process.hrtime.bigint();
    const r = gnuTime
      ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', cmd, ...args], { env, encoding: 'utf8' })
      : spawnSync(cmd, args, { env, encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    const m = /cpu (\S+) (\S+)\s*$/.exec(r.stderr);
    return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
  };
  once(a);
  once(b);
  const runs = { a: [] as { wall: number; cpu: number }[], b: [] as { wall: number; cpu: number }[] };
  for (let i = 0; i < RUNS; i++) {
    runs.a.push(once(a));
    runs.b.push(once(b));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return {
    a: { wall: median(runs.a.map((r) => r.wall)), cpu: median(runs.a.map((r) => r.cpu)) },
    b: { wall: median(runs.b.map((r) => r.wall)), cpu: median(runs.b.map((r) => r.cpu)) },
  };
}
const ANSWER = '0.9731\n';
const moto = await startMoto();
try {
  // moto hands a queued answer to each new distinct request and repeats it for identical ones; two tools may
  // send slightly different headers, so queue one answer for each.
  const res = await fetch(`${moto.url}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ results: [0, 1].map(() => ({ Body: ANSWER, ContentType: 'text/csv', InvokedProductionVariant: 'AllTraffic' })) }),
  });
  if (res.status !== 201) throw new Error(`moto refused the canned answers: HTTP ${res.status}`);

  // aws CLI v1 reads AWS_DEFAULT_REGION, not AWS_REGION.
  const env = baseEnv({ AWS_DEFAULT_REGION: 'us-east-1' });
  const body = '0.5,1.2,3.4,7.7';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-bench-invoke-'));
  const awsOut = path.join(work, 'aws-out.csv');
  const mmeArgs = [MME, 'invoke', '--endpoint-url', moto.url, '--endpoint-name', 'fraud-mme', '--target', 'm37.tar.gz', '--body', body];
  const awsArgs = [
    '--endpoint-url',
    moto.url,
    'sagemaker-runtime',
    'invoke-endpoint',
    '--endpoint-name',
    'fraud-mme',
    '--target-model',
    'm37.tar.gz',
    '--content-type',
    'text/csv',
    '--body',
    body,
    awsOut,
  ];

  // Both tools must get the same answer before their times mean anything.
  const ours = spawnSync(process.execPath, mmeArgs, { env, encoding: 'utf8' });
  const theirs = spawnSync('aws', awsArgs, { env, encoding: 'utf8' });
  if (ours.stdout !== ANSWER) throw new Error(`mme answered ${JSON.stringify(ours.stdout)}: ${ours.stderr}`);
  if (theirs.status !== 0 || fs.readFileSync(awsOut, 'utf8') !== ANSWER) throw new Error(`aws failed: ${theirs.stderr}`);

  const t = interleaved([process.execPath, mmeArgs], ['aws', awsArgs], env);
  const referenceName = 'aws sagemaker-runtime invoke-endpoint';
  const rows: Row[] = [{ name: 'invoke, one call (wall)', ours: t.a.wall, reference: t.b.wall, referenceName, goal: 0.3 }];
  if (!Number.isNaN(t.a.cpu)) rows.push({ name: 'invoke, one call (CPU user+sys)', ours: t.a.cpu, reference: t.b.cpu, referenceName, goal: 0.3 });
  printTable(rows);
  console.log(
    `load average: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  fs.rmSync(work, { recursive: true, force: true });
} finally {
  await moto.stop();
}
