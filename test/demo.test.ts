// `npm run demo` end to end: scripts/demo.mjs runs the whole scenario against the built binary (package, push, mme
// local, the weighted replay through mme invoke, mme stats) with fewer calls than the default, and its numbers are
// checked against each other: the client's count per tier (from the invoke report) against the endpoint's own count
// read back through the CloudWatch API by mme stats, and the files it left in --keep's work folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { baseEnv, ROOT } from './helpers/cli.js';

const DEMO = path.join(ROOT, 'scripts', 'demo.mjs');

function demo(args: string[], timeoutMs = 600_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [DEMO, ...args], { cwd: ROOT, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const num = (text: string) => Number(text.replace(/,/g, ''));

describe('npm run demo', () => {
  test('runs the scenario and prints the commands, mme stats and the per-tier latency', async (t) => {
    const r = await demo(['--calls', '1000', '--keep']);
    const work = /work folder (\/\S+);/.exec(r.stdout)?.[1];
    try {
      assert.equal(r.code, 0, r.stderr + r.stdout);
      // How long it takes is a benchmark's business (the README's "under a minute"), not a test's.
      t.diagnostic(`took ${r.ms} ms`);

      // Each step shows the command that a user can run again by hand.
      assert.match(r.stdout, /^ {2}\$ mme package examples\/merchants\/m\*\/ --out-dir \/\S+\/artifacts$/m);
      assert.match(r.stdout, /^ {2}\$ mme push \/\S+\/artifacts\/\*\.tar\.gz --prefix file:\/\/\/\S+\/fleet\/$/m);
      assert.match(
        r.stdout,
        /^ {2}\$ mme local --port 0 --prefix file:\/\/\/\S+\/fleet\/ --endpoint-name merchants-demo --memory 175KiB --cache-dir \S+ --json$/m,
      );
      assert.match(
        r.stdout,
        /^ {2}\$ mme invoke --endpoint-url http:\/\/127\.0\.0\.1:\d+ --endpoint-name merchants-demo --targets-file \S+\/targets\.txt --body-file examples\/merchants\/request\.csv --repeat 1000 --concurrency 8 --json$/m,
      );
      assert.match(
        r.stdout,
        /^ {2}\$ mme stats --endpoint-url http:\/\/127\.0\.0\.1:\d+ --endpoint-name merchants-demo --start \d{4}-\d\d-\d\dT\d\d:\d\dZ --end \d{4}-\d\d-\d\dT\d\d:\d\dZ$/m,
      );
      assert.match(r.stdout, /packaged 70 models \(70 xgboost\)/);
      assert.match(r.stdout, /1,000 calls, 0 errors/);

      // mme stats, as it prints in a pipe: tab-separated rows; the endpoint counted every call of the run, the
      // current, unfinished minute included.
      const stat = (name: string) => new RegExp(`^${name}\\t(.+)$`, 'm').exec(r.stdout)?.[1];
      assert.equal(stat('requests'), '1,000');
      assert.equal(stat('invocations'), '1,000');
      assert.equal(stat('errors-4xx'), '0');
      const hit = Number(stat('cache-hit')!.replace('%', ''));
      assert.ok(hit > 50 && hit < 95, `cache-hit ${hit}%: a 175 KiB budget holds only part of the fleet`);
      assert.ok(num(stat('unloads')!) > 10, `unloads ${stat('unloads')}`);
      // The gauges are read when stats asks, so even a run shorter than their 1 s tick shows models in memory.
      const loadedMax = Number(stat('loaded-models-max'));
      assert.ok(loadedMax > 0 && loadedMax < 70, `loaded-models-max ${stat('loaded-models-max')}`);
      assert.ok(Number(stat('memory-max')!.replace('%', '')) > 10, `memory-max ${stat('memory-max')} of the 175 KiB budget`);
      assert.match(r.stderr, /diagnosis: working set does not fit \(thrashing\)/);

      // Per tier, from the client's side: every call is in exactly one tier, in about the scenario's shares.
      const tiers = Object.fromEntries(
        [...r.stdout.matchAll(/^ {2}(top 5|middle 50|tail 15) +(m\d\d-m\d\d) +([\d,]+) +([\d.]+)% +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+)$/gm)].map((m) => [
          m[1],
          { merchants: m[2], calls: num(m[3]), share: Number(m[4]), mean: Number(m[5]), p50: Number(m[6]), p99: Number(m[7]), max: Number(m[8]) },
        ]),
      );
      assert.deepEqual(Object.keys(tiers), ['top 5', 'middle 50', 'tail 15'], r.stdout);
      assert.deepEqual([tiers['top 5'].merchants, tiers['middle 50'].merchants, tiers['tail 15'].merchants], ['m01-m05', 'm06-m55', 'm56-m70']);
      assert.equal(tiers['top 5'].calls + tiers['middle 50'].calls + tiers['tail 15'].calls, 1000);
      // 70 first calls (one per model) come before the weighted ones, so the shares sit near 80/19/1, not on them.
      assert.ok(Math.abs(tiers['top 5'].share - 80) < 8, String(tiers['top 5'].share));
      assert.ok(Math.abs(tiers['middle 50'].share - 19) < 8, String(tiers['middle 50'].share));
      assert.ok(tiers['tail 15'].calls >= 15, 'each tail model was called at least once');
      for (const t of Object.values(tiers)) assert.ok(t.p50 <= t.p99 && t.p99 <= t.max + 1e-9, JSON.stringify(t));

      assert.match(r.stdout, /summary: 70 models packaged, pushed and served; 1,000 calls at concurrency 8/);
      assert.match(r.stdout, /endpoint \(mme stats\): [\d.]+% cache hits, [\d,]+ unloads, load wait p99 [\d.]+ ms, at most \d+ of 70 models in memory/);
      // The plan's prediction for the same budget and traffic, beside the measured ratio (accuracy: test/plan.test.ts).
      assert.match(r.stdout, /^ {2}plan \(mme plan, same budget and traffic\): [\d.]+% cache hits predicted, [\d,]+ unloads; measured [\d.]+%$/m);

      // --keep left the work folder: the artifacts, the prefix, the targets file, and the log of an endpoint that
      // stopped cleanly.
      assert.ok(work && fs.existsSync(work), `work folder ${work}`);
      assert.equal(fs.readdirSync(path.join(work, 'artifacts')).filter((f) => f.endsWith('.tar.gz')).length, 70);
      assert.equal(fs.readdirSync(path.join(work, 'fleet')).filter((f) => f.endsWith('.tar.gz')).length, 70);
      const targets = fs
        .readFileSync(path.join(work, 'targets.txt'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
      assert.equal(targets.length, 70);
      assert.deepEqual([targets[0], targets[5], targets[69]], ['m01.tar.gz 2400', 'm06.tar.gz 57', 'm70.tar.gz 10']);
      const log = fs.readFileSync(path.join(work, 'local.log'), 'utf8');
      assert.match(log, /unloaded m\d\d\.tar\.gz \(least recently used; memory budget\)/);
      assert.match(log, /mme local stopped\.\s*$/);
    } finally {
      if (work?.includes('mme-demo-')) fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test("a step that fails stops the demo with its command's own message, exit 1", async () => {
    // A memory budget smaller than any one model: the endpoint refuses every load (507), so the replay fails.
    const r = await demo(['--calls', '100', '--memory', '1KiB']);
    const work = /work folder kept for a look: (\S+)/.exec(r.stderr)?.[1];
    try {
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^demo: step 4 \(replay the traffic\) mme invoke failed \(exit 1\):\n {2}mme: ModelError: .*HTTP 507.*memory budget is 1024 bytes/m,
      );
      assert.ok(work && fs.existsSync(path.join(work, 'local.log')));
      assert.match(fs.readFileSync(path.join(work, 'local.log'), 'utf8'), /mme local stopped\./);
    } finally {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test('bad flags: one line, exit 2, nothing started', async () => {
    for (const [args, message] of [
      [['--calls', 'lots'], /^demo: --calls "lots" is not a whole number from 100 to 1000000\. \(see node scripts\/demo\.mjs --help\)$/],
      [['--concurrency', '0'], /^demo: --concurrency "0" is not a whole number from 1 to 50\./],
      [['--memory', 'big'], /^demo: --memory "big" is not a size/],
      [['--bogus'], /^demo: Unknown option '--bogus'/],
    ] as const) {
      const r = await demo([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });
});
