#!/usr/bin/env node
// `npm run demo`: the main job of mme, offline, in well under a minute.
//
//   node scripts/demo.mjs [--calls 4000] [--concurrency 8] [--memory 175KiB] [--keep]
//
// In a temporary folder it packages the 70 example merchant models (examples/merchants/, made by generate.py), pushes
// them to a file:// prefix, starts `mme local` with a memory budget that holds only part of the fleet, replays the
// seed scenario's traffic through `mme invoke`'s load mode (5 merchants take 80% of the calls, 50 take 19%, 15 take
// 1%), then prints `mme stats` for the run and the latency per tier. Each step is a real `mme` command, printed
// before it runs so it can be rerun by hand; `mme` there is `node bin/mme.js` (or `npm link` once).
// Needs the built CLI (`npm run build`; `npm run demo` builds first). Exit codes: 0 done, 1 a step failed (the
// work folder is kept to look into), 2 bad flags, 130 interrupted.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MME = path.join(ROOT, 'bin', 'mme.js');
const FLEET_DIR = 'examples/merchants';
const REQUEST = `${FLEET_DIR}/request.csv`;
const ENDPOINT = 'merchants-demo';

/** The seed scenario: a few merchants carry most of the traffic, a long tail is called rarely. */
const TIERS = [
  { name: 'top 5', count: 5, share: 0.8 },
  { name: 'middle 50', count: 50, share: 0.19 },
  { name: 'tail 15', count: 15, share: 0.01 },
];
/** Weights per model are share x SCALE / count: 2400, 57 and 10, whole numbers as --targets-file wants. */
const SCALE = 15_000;

const USAGE = `usage: node scripts/demo.mjs [--calls N] [--concurrency C] [--memory SIZE] [--keep]
  --calls N         InvokeEndpoint calls to replay (default 4000)
  --concurrency C   calls in flight at once, 1-50 (default 8)
  --memory SIZE     memory budget of the local endpoint (default 175KiB: about a third of the fleet;
                    the 70 models take about 480 KiB, so e.g. 600KiB holds them all)
  --keep            keep the work folder (artifacts, prefix, cache, targets file, endpoint log)`;

// ---- flags -------------------------------------------------------------------------------------------------------

function flags() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        calls: { type: 'string', default: '4000' },
        concurrency: { type: 'string', default: '8' },
        memory: { type: 'string', default: '175KiB' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const whole = (text, flag, min, max) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) usage(`${flag} "${text}" is not a whole number from ${min} to ${max}.`);
    return n;
  };
  const calls = whole(values.calls, '--calls', 100, 1_000_000);
  const concurrency = whole(values.concurrency, '--concurrency', 1, 50);
  if (!/^\d+(\.\d+)?\s*([kmgt]i?)?b?$/i.test(values.memory)) usage(`--memory "${values.memory}" is not a size (e.g. 175KiB, 2MiB).`);
  return { calls, concurrency, memory: values.memory, keep: values.keep };
}

function usage(message) {
  process.stderr.write(`demo: ${message} (see node scripts/demo.mjs --help)\n`);
  process.exit(2);
}

// ---- screen: step lines on stdout, a progress bar on stderr when it is a terminal --------------------------------

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s) => (color ? `\u001b[1m${s}\u001b[0m` : s);
const dim = (s) => (color ? `\u001b[2m${s}\u001b[0m` : s);

const bar = {
  enabled: Boolean(process.stderr.isTTY) && !process.env.CI,
  fraction: 0,
  label: '',
  shown: false,
  set(fraction, label) {
    this.fraction = Math.max(this.fraction, Math.min(1, fraction));
    if (label !== undefined) this.label = label;
    this.draw();
  },
  draw() {
    if (!this.enabled) return;
    const width = 30;
    const filled = Math.round(this.fraction * width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(this.fraction * 100)).padStart(3)}%  ${this.label}`;
    process.stderr.write(`\r\u001b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
    this.shown = true;
  },
  clear() {
    if (this.enabled && this.shown) process.stderr.write('\r\u001b[2K');
    this.shown = false;
  },
};

function say(text = '') {
  bar.clear();
  process.stdout.write(text + '\n');
  bar.draw();
}

/** A command line as a user would type it: arguments with shell characters quoted. */
function shell(args) {
  return ['mme', ...args].map((a) => (/^[\w@%+=:,./*-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

// ---- child processes ---------------------------------------------------------------------------------------------

/**
 * The environment of every mme the demo starts: the caller's, minus settings that would point the commands at another
 * fleet, endpoint or AWS profile (the demo passes everything it needs as flags, and is offline by design).
 */
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(MME_|AWS_PROFILE$|AWS_ENDPOINT_URL)/.test(k)) env[k] = v;
  return env;
}

const children = new Set();

/** Runs `mme args` to completion; stdout/stderr are captured, or shown as they come with `inherit`. */
function mme(args, { inherit = false, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MME, ...args], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
    });
    children.add(child);
    const out = [];
    const err = [];
    child.stdout?.on('data', (c) => out.push(c));
    child.stderr?.on('data', (c) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 'timed out' : signal), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

class StepFailed extends Error {}

/** Stops the demo with the command's own words (its last stderr lines). */
function failed(what, r) {
  const lines = r.stderr.trim().split('\n').filter(Boolean).slice(-3);
  return new StepFailed(`${what} failed (exit ${r.code})${lines.length ? ':\n  ' + lines.join('\n  ') : '.'}`);
}

/** Starts `mme local … --json` and resolves once its one JSON line says where it listens. */
function startLocal(args, logFile) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, 'w');
    const child = spawn(process.execPath, [MME, ...args], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    children.add(child);
    const exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        r(code ?? signal);
      }),
    );
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new StepFailed(`mme local did not say where it listens within 30 s; its log: ${logFile}`));
    }, 30_000);
    child.stdout.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        const info = JSON.parse(out.slice(0, nl)).result;
        resolve({ info, child, exited });
      } catch {
        reject(new StepFailed(`mme local printed something other than its JSON line: ${out.slice(0, 200)}`));
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      let tail = '';
      try {
        tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join('\n  ');
      } catch {
        // the work folder is gone: the demo is already over
      }
      reject(new StepFailed(`mme local exited (${code}) before it listened:\n  ${tail}`));
    });
  });
}

/** SIGTERM, then the in-flight requests finish and it exits 0 ("mme local stopped."). */
async function stopLocal(local) {
  if (local.child.exitCode !== null || local.child.signalCode !== null) return local.exited;
  local.child.kill('SIGTERM');
  const timer = setTimeout(() => local.child.kill('SIGKILL'), 15_000);
  const code = await local.exited;
  clearTimeout(timer);
  return code;
}

// ---- the scenario ------------------------------------------------------------------------------------------------

function merchants() {
  const dir = path.join(ROOT, FLEET_DIR);
  if (!fs.existsSync(dir)) throw new StepFailed(`${FLEET_DIR} is missing: the demo serves the committed example fleet.`);
  const names = fs
    .readdirSync(dir)
    .filter((n) => /^m\d+$/.test(n) && fs.statSync(path.join(dir, n)).isDirectory())
    .sort();
  const wanted = TIERS.reduce((n, t) => n + t.count, 0);
  if (names.length !== wanted)
    throw new StepFailed(`${FLEET_DIR} has ${names.length} merchant folders, not ${wanted}; regenerate them with /usr/bin/python3 ${FLEET_DIR}/generate.py.`);
  return names;
}

/** The targets file: one `name weight` line per model, tiers in order. */
function targets(names) {
  let at = 0;
  const tiers = TIERS.map((t) => {
    const models = names.slice(at, (at += t.count)).map((n) => `${n}.tar.gz`);
    return { ...t, models, weight: Math.round((t.share * SCALE) / t.count) };
  });
  const lines = [
    '# mme invoke --targets-file: model and weight; the weights give each tier its share of the calls',
    ...tiers.flatMap((t) => [`# ${t.name}: ${(t.share * 100).toFixed(0)}% of calls`, ...t.models.map((m) => `${m} ${t.weight}`)]),
  ];
  return { tiers, text: lines.join('\n') + '\n' };
}

/**
 * Latency per tier from the invoke report, which keeps min/p50/p90/p99/max per target and phase. Counts, means and
 * maxima are exact; p50 and p99 of a tier come from merging its targets' distributions (each drawn through its own
 * percentiles), so they are close estimates, exact when a target made at most a few calls.
 */
function tierLatency(report, tier) {
  const parts = [];
  for (const name of tier.models) {
    const t = report.byTarget[name];
    for (const p of t ? [t.cold, t.warm] : []) if (p.ok > 0 && p.latencyMs) parts.push({ n: p.ok, l: p.latencyMs });
  }
  const calls = tier.models.reduce((n, m) => n + (report.byTarget[m] ? report.byTarget[m].cold.requests + report.byTarget[m].warm.requests : 0), 0);
  const ok = parts.reduce((n, p) => n + p.n, 0);
  if (!ok) return { calls, ok, mean: null, p50: null, p99: null, max: null };
  const knots = (l) => [
    [0, l.min],
    [0.5, l.p50],
    [0.9, l.p90],
    [0.99, l.p99],
    [1, l.max],
  ];
  const cdf = (l, x) => {
    const k = knots(l);
    if (x < k[0][1]) return 0;
    let q = 0;
    for (let i = 0; i < k.length; i++) {
      const [qi, xi] = k[i];
      if (x >= xi) q = qi;
      else {
        const [qp, xp] = k[i - 1];
        return qp + ((qi - qp) * (x - xp)) / (xi - xp);
      }
    }
    return q;
  };
  const quantile = (p) => {
    let lo = Math.min(...parts.map((x) => x.l.min));
    let hi = Math.max(...parts.map((x) => x.l.max));
    for (let i = 0; i < 50; i++) {
      const mid = (lo + hi) / 2;
      const f = parts.reduce((s, x) => s + x.n * cdf(x.l, mid), 0) / ok;
      if (f >= p) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  return {
    calls,
    ok,
    mean: parts.reduce((s, x) => s + x.n * x.l.mean, 0) / ok,
    p50: quantile(0.5),
    p99: quantile(0.99),
    max: Math.max(...parts.map((x) => x.l.max)),
  };
}

const ms = (v) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const minuteIso = (ms) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16) + 'Z';
const seconds = (t0) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const span = (models) => `${models[0].replace('.tar.gz', '')}-${models[models.length - 1].replace('.tar.gz', '')}`;

function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].map((l) => '  ' + l).join('\n');
}

/**
 * What `mme plan` predicts for this run (the same models, budget and traffic: the targets file at the rate the replay
 * reached, over as long as it took) beside the cache-hit ratio the endpoint measured. Its absence is not a failure.
 */
async function planBeside(summary, report, info, work, command) {
  const catalog = path.join(work, 'plan-catalog.json');
  fs.writeFileSync(catalog, JSON.stringify([{ type: 'demo.local', memoryBytes: info.memoryBudget, vcpus: os.availableParallelism(), pricePerHour: 0 }]));
  const seconds = Math.max(1, Math.round(report.elapsedMs / 1000));
  const rate = Math.max(1, Math.round(report.requests / (report.elapsedMs / 1000)));
  // --order invoke: the targets in the order mme invoke sent them (each once, then weighted round-robin).
  const args = [
    'plan',
    '--models',
    FLEET_DIR,
    '--measure',
    '--traffic',
    path.join(work, 'targets.txt'),
    '--order',
    'invoke',
    '--rate',
    `${rate}/s`,
    '--duration',
    `${seconds}s`,
    '--catalog',
    catalog,
    '--types',
    'demo.local',
    '--overhead',
    '0',
    '--hybrid-max',
    '0',
    // Load times as this endpoint measured them (its CloudWatch averages), not SageMaker's defaults.
    '--calibrate',
    '15m',
    '--endpoint-url',
    info.url,
    '--endpoint-name',
    ENDPOINT,
    '--json',
  ];
  command(args);
  const r = await mme(args);
  if (r.code !== 0) return say(`  mme plan failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  const [c] = JSON.parse(r.stdout).result.candidates;
  const measured = summary['cache-hit'];
  say(
    `  plan (mme plan, same budget and traffic): ${(c.hitRatio * 100).toFixed(1)}% cache hits predicted, ${thousands(c.unloads)} unloads; ` +
      `measured ${measured === null || measured === undefined ? 'no data' : `${(measured * 100).toFixed(1)}%`}`,
  );
}

// ---- main ----------------------------------------------------------------------------------------------------------

async function main() {
  const opts = flags();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) {
    process.stderr.write('demo: the CLI is not built (dist/cli.js is missing). Run `npm run build`, or `npm run demo`, which builds first.\n');
    process.exit(1);
  }
  const started = performance.now();
  let names;
  try {
    names = merchants();
  } catch (err) {
    process.stderr.write(`demo: ${err.message}\n`);
    process.exit(1);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-demo-'));
  const artifacts = path.join(work, 'artifacts');
  const prefix = `file://${path.join(work, 'fleet')}/`;
  const targetsFile = path.join(work, 'targets.txt');
  const logFile = path.join(work, 'local.log');
  let local;
  let ok = false;
  let interrupted = false;

  // Weights of the steps in the progress bar: the replay is most of the run.
  const STEPS = [
    ['package the fleet', 0.04],
    ['push it to a file:// prefix', 0.04],
    ['start the local endpoint', 0.04],
    ['replay the traffic', 0.8],
    ['read the metrics', 0.08],
  ];
  let stepIndex = -1;
  const step = (detail = '') => {
    stepIndex++;
    const [title] = STEPS[stepIndex];
    say(`\n${bold(`[${stepIndex + 1}/${STEPS.length}] ${title}`)}${detail}`);
    bar.set(
      STEPS.slice(0, stepIndex).reduce((s, [, w]) => s + w, 0),
      `${title}…`,
    );
  };
  const within = (f, label) => bar.set(STEPS.slice(0, stepIndex).reduce((s, [, w]) => s + w, 0) + STEPS[stepIndex][1] * f, label);
  const command = (args) => say(`  ${dim('$')} ${shell(args)}`);

  const cleanup = async () => {
    bar.clear();
    if (local) {
      const code = await stopLocal(local);
      if (code !== 0) say(`warning: mme local exited with ${code} on SIGTERM; its log: ${logFile}`);
    }
    for (const child of children) child.kill('SIGKILL');
    if ((ok || interrupted) && !opts.keep) fs.rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    bar.clear();
    process.stderr.write(`\ndemo: interrupted; stopping the local endpoint${opts.keep ? ` (work folder kept: ${work})` : ''}.\n`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  say(`${bold('mme demo')}: ${names.length} XGBoost merchant models on one local multi-model endpoint, ${thousands(opts.calls)} calls`);
  say(dim(`  work folder ${work}; \`mme\` below is \`node bin/mme.js\` run from ${ROOT}`));

  try {
    // 1. package
    step();
    let t0 = performance.now();
    const packageArgs = ['package', `${FLEET_DIR}/m*/`, '--out-dir', artifacts];
    command(packageArgs);
    let r = await mme(['package', ...names.map((n) => `${FLEET_DIR}/${n}/`), '--out-dir', artifacts]);
    if (r.code !== 0) throw failed('mme package', r);
    say(`  ${r.stderr.trim().split('\n').pop()} (${seconds(t0)})`);

    // 2. push
    step();
    t0 = performance.now();
    const files = fs
      .readdirSync(artifacts)
      .filter((f) => f.endsWith('.tar.gz'))
      .sort();
    command(['push', `${artifacts}/*.tar.gz`, '--prefix', prefix]);
    r = await mme(['push', ...files.map((f) => path.join(artifacts, f)), '--prefix', prefix]);
    if (r.code !== 0) throw failed('mme push', r);
    const pushed = r.stdout.trim().split('\n');
    say(`  ${pushed[0]}`);
    say(`  … ${pushed.length - 1} more (${seconds(t0)})`);

    // 3. local endpoint
    step(` with a memory budget of ${opts.memory}`);
    t0 = performance.now();
    const localArgs = [
      'local',
      '--port',
      '0',
      '--prefix',
      prefix,
      '--endpoint-name',
      ENDPOINT,
      '--memory',
      opts.memory,
      '--cache-dir',
      path.join(work, 'cache'),
      '--json',
    ];
    command(localArgs);
    local = await startLocal(localArgs, logFile);
    const url = local.info.url;
    say(`  ${ENDPOINT} listening on ${url} (${seconds(t0)}); its log: ${logFile}`);

    // 4. traffic
    const { tiers, text } = targets(names);
    fs.writeFileSync(targetsFile, text);
    step(`: ${tiers.map((t) => `${t.count} merchants take ${(t.share * 100).toFixed(0)}%`).join(', ')}`);
    say(`  targets file ${targetsFile}: ${tiers.map((t) => `${span(t.models)} weight ${t.weight}`).join(', ')}`);
    t0 = performance.now();
    const runStart = Date.now();
    const invokeArgs = [
      'invoke',
      '--endpoint-url',
      url,
      '--endpoint-name',
      ENDPOINT,
      '--targets-file',
      targetsFile,
      '--body-file',
      REQUEST,
      '--repeat',
      String(opts.calls),
      '--concurrency',
      String(opts.concurrency),
      '--json',
    ];
    command(invokeArgs);
    // The endpoint's Prometheus counter says how far the replay is; the bar follows it.
    const poll = setInterval(async () => {
      try {
        const text = await (await fetch(`${url}/metrics`)).text();
        const done = Number(/^mme_local_invocations_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
        within(done / opts.calls, `replaying calls: ${thousands(done)} of ${thousands(opts.calls)}`);
      } catch {
        // a missed poll only delays the bar
      }
    }, 250);
    r = await mme(invokeArgs, { timeoutMs: 300_000 }).finally(() => clearInterval(poll));
    if (r.code !== 0) throw failed('mme invoke', r);
    within(1, 'replayed');
    const report = JSON.parse(r.stdout).result;
    say(
      `  ${thousands(report.requests)} calls, ${thousands(report.errors)} errors, in ${(report.elapsedMs / 1000).toFixed(1)} s` +
        (report.throughputPerSecond !== null ? ` (${report.throughputPerSecond.toFixed(0)} calls/s after the first call to each model)` : ''),
    );

    // 5. stats: CloudWatch keeps one datapoint per minute, and the last minute of the run is still going on. An --end
    // at the next minute boundary takes it in, so the numbers cover every call just made.
    step();
    const statsArgs = ['stats', '--endpoint-url', url, '--endpoint-name', ENDPOINT, '--start', minuteIso(runStart), '--end', minuteIso(Date.now() + 60_000)];
    command(statsArgs);
    bar.clear();
    r = await mme(statsArgs, { inherit: true });
    if (r.code !== 0) throw new StepFailed(`mme stats failed (exit ${r.code}); see its message above.`);
    within(0.5, 'read the metrics…');
    const statsJson = await mme([...statsArgs, '--json']);
    if (statsJson.code !== 0) throw failed('mme stats --json', statsJson);
    const stats = JSON.parse(statsJson.stdout).result.fleets[0];
    within(1, 'done');
    bar.clear();
    bar.enabled = false;

    // Per tier, from the invoke report (the endpoint's metrics have no per-model dimension, as on SageMaker).
    const perTier = tiers.map((t) => ({ t, l: tierLatency(report, t) }));
    say(`\n${bold('latency per tier')} (client side, from the mme invoke --json report; first calls included)`);
    say(
      table(
        ['tier', 'merchants', 'calls', 'share', 'mean ms', 'p50 ms', 'p99 ms', 'max ms'],
        perTier.map(({ t, l }) => [
          t.name,
          span(t.models),
          thousands(l.calls),
          `${((100 * l.calls) / Math.max(1, report.requests)).toFixed(1)}%`,
          ms(l.mean),
          ms(l.p50),
          ms(l.p99),
          ms(l.max),
        ]),
      ),
    );
    say(dim('  p50 and p99 merge the per-model percentiles of the report, so they are close estimates; counts, means and maxima are exact.'));

    // Closing summary.
    const s = stats.summary;
    const pct = (v) => (v === null || v === undefined ? 'no data' : `${(v * 100).toFixed(1)}%`);
    const sms = (v) => (v === null || v === undefined ? 'no data' : `${ms(v)} ms`);
    const [top, mid] = perTier;
    say(
      `\n${bold('summary')}: ${names.length} models packaged, pushed and served; ${thousands(report.requests)} calls at concurrency ${opts.concurrency} in ${seconds(started)} in all`,
    );
    say(
      `  endpoint (mme stats): ${pct(s['cache-hit'])} cache hits, ${thousands(s.unloads ?? 0)} unloads, load wait p99 ${sms(s['load-wait-p99'])}, ` +
        `at most ${s['loaded-models-max'] ?? '?'} of ${names.length} models in memory (budget ${opts.memory})`,
    );
    for (const f of stats.diagnosis) if (f.code !== 'ok') say(`  diagnosis: ${f.message}`);
    const thrashing = (s.unloads ?? 0) > 0;
    say(
      `  callers: the top 5 merchants answer in ${ms(top.l.p50)} ms at p50, the middle 50 in ${ms(mid.l.p50)} ms` +
        (thrashing ? ': their models keep being unloaded and loaded again' : ''),
    );
    await planBeside(s, report, local.info, work, command);
    if (thrashing) say('  try a budget that holds the whole fleet: npm run demo -- --memory 600KiB');
    ok = true;
  } catch (err) {
    bar.clear();
    if (interrupted) return;
    const message = err instanceof StepFailed ? err.message : (err?.stack ?? String(err));
    process.stderr.write(`\ndemo: step ${stepIndex + 1} (${STEPS[stepIndex]?.[0] ?? 'setup'}) ${err instanceof StepFailed ? '' : 'failed: '}${message}\n`);
    process.stderr.write(`demo: work folder kept for a look: ${work}\n`);
    await cleanup();
    process.exit(1);
  }
  await cleanup();
  say(opts.keep ? `\nwork folder kept: ${work}` : dim(`\nwork folder removed (keep it with --keep)`));
}

await main();
