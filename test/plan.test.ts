// `mme plan` end to end: the built binary on the committed example fleet and on small hand-made inputs. The simulator
// is checked against a hand-computed LRU, and against reality: the same request sequence is sent to `mme local`
// (plain fetch, one request at a time) at three memory budgets, and the ModelCacheHit it measured (read back through
// its CloudWatch API by `mme stats`) must agree with the prediction within 3 percentage points.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mme, ROOT, tempDir, type RunResult } from './helpers/cli.js';
import { metricTotals, startLocal } from './helpers/local.js';
import { DEFAULT_TIMING } from '../src/plan/plan.js';
import { lruCurve, simulate } from '../src/plan/simulate.js';
import { poissonTrace } from '../src/plan/traffic.js';

const MERCHANTS = path.join(ROOT, 'examples', 'merchants');
const TIERS = ['--models', 'examples/merchants', '--measure', '--tiers', '5:80%,50:19%,15:1%', '--rate', '3000/min'];

let work: string;
before(() => {
  work = tempDir('mme-plan-');
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, text);
  return file;
}

/** One line on stderr, the exit code, and nothing on stdout (or, under --json, one error document). */
function assertBadInput(r: RunResult, pattern: RegExp, json = false) {
  assert.equal(r.code, 2, r.stderr + r.stdout);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^mme: /);
  assert.match(lines[0], pattern);
  if (json) assert.equal(r.json?.status, 'error', r.stdout);
  else assert.equal(r.stdout, '');
}

describe('mme plan: interface', () => {
  test('--json: candidates with the documented fields, a recommendation and the hybrid split', async () => {
    const r = await mme(['plan', ...TIERS, '--types', 'ml.c5.large,ml.m5.large,ml.r5.xlarge', '--counts', '1,2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json.result;
    assert.equal(res.models.count, 70);
    assert.equal(res.models.sizes, 'measured');
    assert.equal(res.candidates.length, 6);
    assert.deepEqual(
      res.candidates.map((c: any) => `${c.count}x${c.type}`),
      ['1xml.c5.large', '2xml.c5.large', '1xml.m5.large', '2xml.m5.large', '1xml.r5.xlarge', '2xml.r5.xlarge'],
    );
    for (const c of res.candidates) {
      for (const k of ['type', 'count', 'hitRatio', 'coldLoads', 'unloads', 'waitP99Ms', 'monthlyCost']) assert.ok(k in c, `${k} in ${JSON.stringify(c)}`);
      assert.ok(c.hitRatio >= 0 && c.hitRatio <= 1);
      // Every one of the 70 models is called, so each is loaded at least once; the whole fleet fits: no unloads.
      assert.ok(c.coldLoads >= 70, String(c.coldLoads));
      assert.equal(c.unloads, 0);
    }
    // Monthly cost: count × hourly list price × 730 h.
    const m5 = res.candidates.find((c: any) => c.type === 'ml.m5.large' && c.count === 2);
    assert.ok(Math.abs(m5.monthlyCost - 2 * m5.pricePerHour * 730) < 0.005); // to the cent
    const rec = res.recommendation;
    assert.equal(rec.type, 'ml.c5.large');
    assert.equal(rec.count, 1);
    assert.equal(rec.met, true);
    assert.equal(rec.shapes.dedicated.models, 70);
    assert.equal(rec.shapes.dedicated.type, 'ml.m5.large');
    assert.ok(rec.shapes.dedicated.monthlyCost > rec.monthlyCost);
    assert.ok(rec.hybrid === null || (rec.hybrid.k >= 1 && rec.hybrid.dedicatedModels.length === rec.hybrid.k), JSON.stringify(rec.hybrid));
    // The top model of the hybrid search is a whale (m01-m05 take 80% of the calls).
    const k1 = res.hybridSearch.find((h: any) => h.k === 1);
    assert.ok(k1, JSON.stringify(res.hybridSearch));
    assert.ok(['best', 'mme', 'hybrid', 'dedicated'].includes(rec.best));
    // 3000/min for 1 h: about 180,000 requests.
    assert.ok(Math.abs(res.traffic.requests - 180_000) < 3_000, String(res.traffic.requests));
  });

  test('--p99-top N: the p99 target is checked on the N busiest models (the whales)', async () => {
    const r = await mme(['plan', ...TIERS, '--types', 'ml.c5.large', '--duration', '10m', '--p99-top', '5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json.result;
    assert.deepEqual([...res.targets.p99Models].sort(), ['m01.tar.gz', 'm02.tar.gz', 'm03.tar.gz', 'm04.tar.gz', 'm05.tar.gz']);
    assert.equal(typeof res.candidates[0].criticalWaitP99Ms, 'number');
    const without = await mme(['plan', ...TIERS, '--types', 'ml.c5.large', '--duration', '10m', '--json']);
    assert.equal(without.json.result.targets.p99Models, null);
    assert.equal(without.json.result.candidates[0].criticalWaitP99Ms, null);
  });

  test('--daily-profile: the rate is the mean over the day; an hour at 0 has no arrivals', async () => {
    // All of the day's traffic in the first hour: 10/min on average over 24 h is 240/min in that hour.
    const profile = ['24', ...Array(23).fill('0')].join(',');
    const r = await mme(['plan', ...TIERS, '--rate', '10/min', '--duration', '2h', '--daily-profile', profile, '--types', 'ml.c5.large', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const n = r.json.result.traffic.requests;
    assert.ok(Math.abs(n - 14_400) < 600, String(n));
  });

  test('the same seed gives the same output; another seed another trace', async () => {
    const args = ['plan', ...TIERS, '--types', 'ml.c5.large', '--duration', '10m', '--json'];
    const [a, b, c] = await Promise.all([mme([...args, '--seed', '7']), mme([...args, '--seed', '7']), mme([...args, '--seed', '8'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.json.result.traffic.requests, c.json.result.traffic.requests);
  });

  test('terminal report, CSV and SVG', async () => {
    const svg = path.join(work, 'chart.svg');
    const r = await mme(['plan', ...TIERS, '--types', 'ml.c5.large,ml.m5.large', '--svg', svg]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 × ml\.c5\.large +3\.00 GiB +99\.\d\d%/);
    assert.match(r.stdout, /hit ratio against memory per instance/);
    assert.match(r.stdout, /recommendation: 1 × ml\.c5\.large is the cheapest candidate/);
    assert.match(r.stdout, /all dedicated: 70 endpoints, 70 × ml\.m5\.large, \$5,877\/month/);
    const text = fs.readFileSync(svg, 'utf8');
    assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(text, /<polyline /);
    assert.match(r.stderr, /chart written to/);

    const csv = await mme(['plan', ...TIERS, '--types', 'ml.c5.large,ml.m5.large', '--counts', '1,3', '--output', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = csv.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[0].slice(0, 2), ['type', 'count']);
    assert.ok(rows[0].includes('hitRatio') && rows[0].includes('monthlyCost') && rows[0].includes('waitP99Ms'));
    assert.deepEqual(
      rows.slice(1).map((r) => `${r[0]}:${r[1]}`),
      ['ml.c5.large:1', 'ml.c5.large:3', 'ml.m5.large:1', 'ml.m5.large:3'],
    );
  });
});

describe('mme plan: the simulator', () => {
  test('one instance replaying a log is exact LRU on memory (hand-computed)', async () => {
    const models = write('abc.csv', 'name,bytes\na,100\nb,100\nc,100\nd,250\n');
    // Room for two of a, b, c; d (250) never fits.
    const catalog = write('tiny.json', JSON.stringify([{ type: 'tiny.two', memoryBytes: 200, vcpus: 1, pricePerHour: 0.01 }]));
    //            a     b     a     c          b          a          a    d       c          a
    // memory   [a]  [b a] [a b] [c a] -b   [b c] -a   [a b] -c   [a b]  fail  [c a] -b   [a c]
    //           miss miss  hit   miss       miss       miss       hit   miss   miss       hit
    const seq = ['a', 'b', 'a', 'c', 'b', 'a', 'a', 'd', 'c', 'a'];
    // Timing does not matter for one instance replaying a log: same answer for 1 ms and 10 s between requests.
    for (const gap of [1, 10_000]) {
      const log = write(
        `abc-${gap}.csv`,
        'timestamp,target\n' + seq.map((m, i) => `${new Date(Date.UTC(2026, 10, 22) + i * gap).toISOString()},${m}`).join('\n') + '\n',
      );
      const r = await mme(['plan', '--models', models, '--traffic', log, '--catalog', catalog, '--types', 'tiny.two', '--overhead', '0', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const [c] = r.json.result.candidates;
      assert.equal(c.hitRatio, 3 / 10);
      assert.equal(c.coldLoads, 6);
      assert.equal(c.downloads, 3);
      assert.equal(c.unloads, 4);
      assert.equal(c.failed, 1);
      assert.equal(c.maxLoadedModels, 2);
    }
    // JSONL, epoch seconds: the same log.
    const jsonl = write('abc.jsonl', seq.map((m, i) => JSON.stringify({ timestamp: 1_790_000_000 + i, target: m })).join('\n') + '\n');
    const j = await mme(['plan', '--models', models, '--traffic', jsonl, '--catalog', catalog, '--types', 'tiny.two', '--overhead', '0', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.json.result.candidates[0].hitRatio, 3 / 10);
  });

  test('more instances hold more models: a budget that thrashes on one instance fits on four', async () => {
    const models = write('ten.csv', Array.from({ length: 10 }, (_, i) => `m${i},100`).join('\n') + '\n');
    const weights = write('ten.txt', Array.from({ length: 10 }, (_, i) => `m${i} 1`).join('\n') + '\n');
    const catalog = write('three.json', JSON.stringify([{ type: 'small.three', memoryBytes: 300, vcpus: 2, pricePerHour: 0.1 }]));
    const r = await mme([
      'plan',
      '--models',
      models,
      '--traffic',
      weights,
      '--rate',
      '600/min',
      '--duration',
      '1h',
      '--catalog',
      catalog,
      '--types',
      'small.three',
      '--counts',
      '1,4',
      '--overhead',
      '0',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [one, four] = r.json.result.candidates;
    assert.ok(one.hitRatio > 0.25 && one.hitRatio < 0.4, String(one.hitRatio)); // 3 of 10 equally likely models
    assert.ok(one.unloads > 1000, String(one.unloads));
    assert.ok(four.hitRatio > one.hitRatio + 0.3, `${four.hitRatio} vs ${one.hitRatio}`);
  });
});

describe('mme plan: arrival order', () => {
  test("--order invoke follows mme invoke's load runs: two equal models alternate, so room for one never hits", async () => {
    const models = write('two.csv', 'a,100\nb,100\n');
    const weights = write('two.txt', 'a 1\nb 1\n');
    const catalog = write('one.json', JSON.stringify([{ type: 'room.one', memoryBytes: 100, vcpus: 1, pricePerHour: 0 }]));
    const args = [
      'plan',
      '--models',
      models,
      '--traffic',
      weights,
      '--rate',
      '60/min',
      '--duration',
      '1h',
      '--catalog',
      catalog,
      '--types',
      'room.one',
      '--overhead',
      '0',
      '--json',
    ];
    const [invoke, random] = await Promise.all([mme([...args, '--order', 'invoke']), mme(args)]);
    assert.equal(invoke.code, 0, invoke.stderr);
    assert.equal(invoke.json.result.candidates[0].hitRatio, 0);
    const r = random.json.result.candidates[0].hitRatio;
    assert.ok(r > 0.4 && r < 0.6, String(r));
  });
});

describe('mme plan: the memory curve (pure logic)', () => {
  test('the one-pass curve gives the same hits as simulating each budget', () => {
    const n = 200;
    const trace = poissonTrace(
      Array.from({ length: n }, (_, i) => 1 / (i + 1)),
      { ratePerMs: 1, durationMs: 50_000, seed: 3 },
    );
    const bytes = new Float64Array(n).map((_, i) => 1000 + ((i * 7919) % 5000));
    const budgets = [6000, 10_000, 30_000, 100_000, 300_000, 700_000];
    const curve = lruCurve(trace, bytes, budgets);
    budgets.forEach((memoryBytes, i) => {
      const r = simulate(trace, { ...DEFAULT_TIMING, orderOnly: true, instances: 1, vcpus: 1, memoryBytes, modelBytes: bytes });
      assert.equal(curve.hits[i], r.hits, `budget ${memoryBytes}`);
      assert.equal(curve.requests, r.requests);
    });
    assert.ok(curve.hits[0] < curve.hits[5]);
  });
});

describe('mme plan: bad input', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown instance type',
      ['--types', 'ml.m5.large,ml.x9.huge'],
      /--types: unknown instance type "ml\.x9\.huge" \(known: ml\.c5\.large, .*ml\.r5\.4xlarge\)/,
    ],
    ['zero rate', ['--rate', '0/min'], /--rate "0\/min" is not a rate above 0/],
    ['negative rate', ['--rate', '-3000/min'], /--rate "-3000\/min" is not a rate above 0/],
    ['tiers not adding up', ['--tiers', '5:80%,50:10%'], /the shares add up to 90%/],
    ['bad target', ['--target-hit', '1.5'], /--target-hit "1\.5" is not a ratio/],
    ['p99 without unit', ['--max-p99', '50'], /--max-p99 "50" is not a duration.*with a unit/],
    ['a daily profile of 23 hours', ['--daily-profile', Array(23).fill('1').join(',')], /--daily-profile: expected 24 numbers/],
  ];
  for (const [what, extra, pattern] of cases) {
    test(what, async () => {
      const svg = path.join(work, `never-${what.replace(/\W/g, '')}.svg`);
      const args = ['plan', ...TIERS];
      for (let i = 0; i < extra.length; i += 2) {
        const at = args.indexOf(extra[i]);
        if (at >= 0) args[at + 1] = extra[i + 1];
        else args.push(extra[i], extra[i + 1]);
      }
      assertBadInput(await mme([...args, '--svg', svg]), pattern);
      assert.equal(fs.existsSync(svg), false);
      assertBadInput(await mme([...args, '--json']), pattern, true);
    });
  }

  test('a price file with a bad schema', async () => {
    const bad = write('bad-catalog.json', JSON.stringify([{ type: 'ml.g4dn.xlarge', memoryBytes: '16GiB', vcpus: 4, pricePerHour: 0.7 }]));
    assertBadInput(await mme(['plan', ...TIERS, '--catalog', bad]), /--catalog \S+bad-catalog\.json: \[0\]\.memoryBytes: .*expected number/);
    const extra = write('extra-catalog.json', JSON.stringify([{ type: 'ml.g4dn.xlarge', memoryBytes: 1, vcpus: 4, pricePerHour: 0.7, gpu: 1 }]));
    assertBadInput(await mme(['plan', ...TIERS, '--catalog', extra]), /--catalog \S+: .*gpu/);
  });

  test('a trace out of time order', async () => {
    const log = write('ooo.csv', '2026-11-22T10:00:01Z,m01.tar.gz\n2026-11-22T10:00:02Z,m02.tar.gz\n2026-11-22T10:00:00Z,m03.tar.gz\n');
    assertBadInput(
      await mme(['plan', '--models', 'examples/merchants', '--traffic', log]),
      /ooo\.csv line 3: 2026-11-22T10:00:00Z is earlier than the line before/,
    );
  });

  test('traffic naming models the fleet lacks: a warning and a count, or exit 2 with --strict', async () => {
    const weights = write('unknown.txt', 'm01.tar.gz 5\nm02 3\nm99.tar.gz 2\nnope.tar.gz 1\n');
    const ok = await mme(['plan', '--models', 'examples/merchants', '--traffic', weights, '--rate', '100/min', '--types', 'ml.c5.large', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /warning: --traffic \S+ names 2 model\(s\) that the fleet \(examples\/merchants\) lacks: m99\.tar\.gz, nope\.tar\.gz/);
    assert.deepEqual(ok.json.result.traffic.unknownModels, ['m99.tar.gz', 'nope.tar.gz']);
    assertBadInput(
      await mme(['plan', '--models', 'examples/merchants', '--traffic', weights, '--rate', '100/min', '--strict']),
      /names 2 model\(s\) that the fleet .* lacks: m99\.tar\.gz, nope\.tar\.gz\./,
    );
  });
});

// ---- checked against mme local --------------------------------------------------------------------------------

const minuteIso = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16) + 'Z';

describe('mme plan: checked against mme local', () => {
  const NAMES = Array.from({ length: 12 }, (_, i) => `m${String(i + 6).padStart(2, '0')}`);
  const ENDPOINT = 'plan-replay';
  let modelsDir: string;
  let prefix: string;
  let logFile: string;
  let sequence: string[];

  before(async () => {
    // The models as a folder for `mme plan --measure`, and packaged and pushed for `mme local`.
    modelsDir = path.join(work, 'replay-models');
    for (const n of NAMES) fs.cpSync(path.join(MERCHANTS, n), path.join(modelsDir, n), { recursive: true });
    const artifacts = path.join(work, 'replay-artifacts');
    let r = await mme(['package', ...NAMES.map((n) => path.join(modelsDir, n) + '/'), '--out-dir', artifacts]);
    assert.equal(r.code, 0, r.stderr);
    prefix = `file://${path.join(work, 'replay-fleet')}/`;
    r = await mme(['push', ...NAMES.map((n) => path.join(artifacts, `${n}.tar.gz`)), '--prefix', prefix]);
    assert.equal(r.code, 0, r.stderr);
    // 300 requests, skewed (model i drawn with weight 1/(i+1)), from a fixed LCG: the same sequence on every run.
    let s = 12345;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const weights = NAMES.map((_, i) => 1 / (i + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    sequence = Array.from({ length: 300 }, () => {
      let u = rand() * total;
      let i = 0;
      while (u > weights[i] && i < NAMES.length - 1) u -= weights[i++];
      return `${NAMES[i]}.tar.gz`;
    });
    logFile = write(
      'replay.csv',
      'timestamp,target\n' + sequence.map((m, i) => `${new Date(Date.UTC(2026, 10, 22) + i * 1000).toISOString()},${m}`).join('\n') + '\n',
    );
  });

  /** The plan's prediction for one instance whose whole memory (budget) holds models. */
  async function predict(budget: number): Promise<{ hitRatio: number; unloads: number }> {
    const catalog = write(`budget-${budget}.json`, JSON.stringify([{ type: 'local.budget', memoryBytes: budget, vcpus: 2, pricePerHour: 0 }]));
    const r = await mme([
      'plan',
      '--models',
      modelsDir,
      '--measure',
      '--traffic',
      logFile,
      '--catalog',
      catalog,
      '--types',
      'local.budget',
      '--overhead',
      '0',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    return r.json.result.candidates[0];
  }

  /** The same sequence through mme local, one request at a time; ModelCacheHit as `mme stats` reads it. */
  async function measure(budget: number): Promise<{ hitRatio: number; unloads: number }> {
    const local = await startLocal(
      ['--prefix', prefix, '--endpoint-name', ENDPOINT, '--memory', String(budget), '--cache-dir', path.join(work, `cache-${budget}`)],
      work,
    );
    try {
      const body = fs.readFileSync(path.join(MERCHANTS, 'request.csv'));
      const started = Date.now();
      for (const target of sequence) {
        const res = await fetch(`${local.url}/endpoints/${ENDPOINT}/invocations`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/csv', 'X-Amzn-SageMaker-Target-Model': target },
          body,
        });
        assert.equal(res.status, 200, await res.text());
        await res.arrayBuffer().catch(() => undefined);
      }
      const r = await mme([
        'stats',
        '--endpoint-url',
        local.url,
        '--endpoint-name',
        ENDPOINT,
        '--start',
        minuteIso(started),
        '--end',
        minuteIso(Date.now() + 60_000),
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const summary = r.json.result.fleets[0].summary;
      assert.equal(summary.requests, sequence.length);
      return { hitRatio: summary['cache-hit'], unloads: summary.unloads ?? 0 };
    } finally {
      await local.stop();
    }
  }

  test("without --models, the fleet's prefix as mme ls lists it: artifact sizes × --memory-factor", async () => {
    const r = await mme([
      'plan',
      '--prefix',
      prefix,
      '--tiers',
      '4:90%,8:10%',
      '--rate',
      '600/min',
      '--memory-factor',
      '3',
      '--types',
      'ml.c5.large',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const dir = new URL(prefix).pathname;
    const sizes = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.tar.gz'))
      .map((f) => fs.statSync(path.join(dir, f)).size);
    assert.equal(r.json.result.models.count, 12);
    assert.equal(r.json.result.models.sizes, 'estimated');
    assert.equal(r.json.result.models.totalBytes, sizes.reduce((a, b) => a + b, 0) * 3);
  });

  test("--calibrate sets the load-time model from the endpoint's CloudWatch averages", async () => {
    const local = await startLocal(['--prefix', prefix, '--endpoint-name', ENDPOINT, '--cache-dir', path.join(work, 'cache-calibrate')], work);
    try {
      for (const target of NAMES.slice(0, 4).map((n) => `${n}.tar.gz`)) {
        const res = await fetch(`${local.url}/endpoints/${ENDPOINT}/invocations`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/csv', 'X-Amzn-SageMaker-Target-Model': target },
          body: '1,2,3,4,5,6,7,8',
        });
        assert.equal(res.status, 200, await res.text());
      }
      const r = await mme([
        'plan',
        '--models',
        modelsDir,
        '--measure',
        '--traffic',
        logFile,
        '--types',
        'ml.c5.large',
        '--calibrate',
        '30m',
        '--endpoint-url',
        local.url,
        '--endpoint-name',
        ENDPOINT,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const { calibration, assumptions, models } = r.json.result;
      // The averages, read independently through the CloudWatch API the endpoint speaks (microseconds).
      const mean = async (name: string) => {
        const t = await metricTotals(local, name);
        assert.equal(t.count, 4, name);
        return t.sum / t.count / 1000;
      };
      const [download, load] = [await mean('ModelDownloadingTime'), await mean('ModelLoadingTime')];
      assert.ok(Math.abs(calibration.downloadMs - download) < 1e-3, `${calibration.downloadMs} vs ${download}`);
      assert.ok(Math.abs(calibration.loadMs - load) < 1e-3, `${calibration.loadMs} vs ${load}`);
      const meanBytes = models.totalBytes / models.count;
      assert.equal(assumptions.downloadFixedMs, 0);
      assert.ok(Math.abs(assumptions.downloadBytesPerMs - meanBytes / download) / assumptions.downloadBytesPerMs < 1e-6);
      assert.ok(Math.abs(assumptions.loadBytesPerMs - meanBytes / load) / assumptions.loadBytesPerMs < 1e-6);
    } finally {
      await local.stop();
    }
  });

  test('ModelCacheHit measured at three budgets (fits all, between, thrashes) agrees with the prediction within 3 points', async () => {
    // The fleet's total footprint, as the plan measured it.
    const sizes = await mme(['plan', '--models', modelsDir, '--measure', '--traffic', logFile, '--types', 'ml.c5.large', '--json']);
    assert.equal(sizes.code, 0, sizes.stderr);
    const total = sizes.json.result.models.totalBytes as number;
    const budgets = { fits: Math.ceil(total * 1.5), between: Math.floor(total * 0.55), thrashes: Math.floor(total * 0.2) };
    const seen: Record<string, { predicted: number; measured: number }> = {};
    for (const [name, budget] of Object.entries(budgets)) {
      const [p, m] = [await predict(budget), await measure(budget)];
      seen[name] = { predicted: p.hitRatio, measured: m.hitRatio };
      assert.ok(Math.abs(p.hitRatio - m.hitRatio) <= 0.03, `${name} (${budget} bytes): predicted ${p.hitRatio}, measured ${m.hitRatio}`);
    }
    // The three budgets are three different regimes.
    assert.equal(seen.fits.predicted, 1 - NAMES.length / sequence.length);
    assert.ok(seen.between.measured < seen.fits.measured - 0.03, JSON.stringify(seen));
    assert.ok(seen.thrashes.measured < seen.between.measured - 0.1, JSON.stringify(seen));
  });
});
