/**
 * From `mme plan`'s flags to a result: every flag is checked before any model is loaded or any traffic generated,
 * so that a mistake costs nothing and nothing is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../output/errors.js';
import { writeAtomically } from '../store/atomic.js';
import { loadCatalog, pickTypes } from './catalog.js';
import { modelsFromListing, modelsFromPath } from './models.js';
import { DEFAULT_TIMING, runPlan, type PlanResult } from './plan.js';
import { parseProfile, readTrafficFile, tiersSource } from './traffic.js';
import * as units from './units.js';

/** `mme plan`'s options as commander hands them over (camel-cased, text or true); read by name below. */
export type PlanFlags = object;

export interface PlanDeps {
  /** The fleet's models as `mme ls` lists them, when --models is not given. */
  listing?: () => Promise<{ objects: { name: string; size: number }[]; prefix: string }>;
  /** The fleet's mean download and load times from CloudWatch (--calibrate). */
  calibrate?: (since: string) => Promise<import('./calibrate.js').MeasuredLoadTimes>;
  signal: AbortSignal;
  warn(message: string): void;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export async function planFromFlags(flags: PlanFlags, deps: PlanDeps): Promise<{ result: PlanResult; svg?: { file: string; text: string } }> {
  // Commander hands options over camel-cased (--target-hit → targetHit).
  const byName = flags as Record<string, unknown>;
  const f = (name: string) => str(byName[name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())]);
  if (f('traffic') === undefined && f('tiers') === undefined) {
    throw usageError('no traffic given.', "Pass --traffic FILE (weights or a request log) or --tiers '5:80%,50:19%,15:1%' with --rate 3000/min.");
  }
  if (f('traffic') !== undefined && f('tiers') !== undefined) throw usageError('--traffic and --tiers are two traffic sources; give one.');
  const catalog = loadCatalog(f('catalog'));
  const types = f('types') !== undefined ? pickTypes(catalog, list(f('types')!), '--types') : catalog;
  if (!types.length)
    throw usageError('--types names no instance type.', `Give e.g. --types ml.m5.large,ml.c5.xlarge (known: ${catalog.map((c) => c.type).join(', ')}).`);
  const counts = f('counts') !== undefined ? list(f('counts')!).map((c) => units.whole(c, '--counts', 1, 100)) : [1];
  if (!counts.length) throw usageError('--counts names no count.', 'Give e.g. --counts 1,2,4.');
  const [dedicatedType] = pickTypes(catalog, [f('dedicated-type') ?? 'ml.m5.large'], '--dedicated-type');
  const ratePerMs = f('rate') !== undefined ? units.ratePerMs(f('rate')!, '--rate') : undefined;
  const durationMs = units.durationMs(f('duration') ?? '1h', '--duration');
  const profile = f('daily-profile') !== undefined ? parseProfile(f('daily-profile')!) : undefined;
  const order = (f('order') ?? 'random') as 'random' | 'invoke';
  const speed = f('speed') !== undefined ? units.positive(f('speed')!, '--speed') : 1;
  const overhead = units.overhead(f('overhead') ?? '1GiB', '--overhead');
  const copies = f('copies') !== undefined ? units.whole(f('copies')!, '--copies', 1, 256) : 1;
  const seed = f('seed') !== undefined ? units.whole(f('seed')!, '--seed', 0, 2 ** 32 - 1) : 1;
  const targetHit = f('target-hit') !== undefined ? units.ratio(f('target-hit')!, '--target-hit') : 0.99;
  const maxP99Ms = units.latencyMs(f('max-p99') ?? '50ms', '--max-p99');
  const p99Top = f('p99-top') !== undefined ? units.whole(f('p99-top')!, '--p99-top', 1, 1_000_000) : undefined;
  const serviceMs = units.latencyMs(f('model-latency') ?? '2ms', '--model-latency');
  const factor = f('memory-factor') !== undefined ? units.positive(f('memory-factor')!, '--memory-factor') : 1;
  const dedicatedMinCount = f('dedicated-count') !== undefined ? units.whole(f('dedicated-count')!, '--dedicated-count', 1, 100) : 1;
  const hybridMax = f('hybrid-max') !== undefined ? units.whole(f('hybrid-max')!, '--hybrid-max', 0, 1000) : 10;
  const threads = f('threads') !== undefined ? units.whole(f('threads')!, '--threads', 1, 256) : undefined;
  const svgFile = f('svg');
  if (svgFile !== undefined) checkWritable(svgFile);
  if (byName.measure && f('models') === undefined)
    throw usageError('--measure loads the models of a --models folder.', 'Add --models DIR (e.g. --models examples/merchants).');

  // Traffic first (a log is checked line by line), models next (--measure loads every one).
  const traffic0 = f('traffic') !== undefined ? readTrafficFile(f('traffic')!) : undefined;
  if (traffic0?.kind === 'log' && ratePerMs !== undefined)
    throw usageError(
      `--rate applies to weights and tiers; --traffic ${f('traffic')} is a request log, replayed with its own timing.`,
      'Drop --rate (use --speed to replay it faster).',
    );
  const models =
    f('models') !== undefined
      ? await modelsFromPath(f('models')!, { measure: Boolean(byName.measure), factor, signal: deps.signal })
      : await (async () => {
          const l = await deps.listing!();
          return modelsFromListing(l.objects, l.prefix, factor);
        })();
  const timing = { ...DEFAULT_TIMING, serviceMs };
  let calibration: PlanResult['calibration'] = null;
  if (byName.calibrate !== undefined && byName.calibrate !== false) {
    const since = typeof byName.calibrate === 'string' ? byName.calibrate : '1d';
    units.durationMs(since, '--calibrate');
    const measured = await deps.calibrate!(since);
    for (const w of measured.warnings) deps.warn(w);
    // A model of the fleet's mean size takes the measured mean times: fixed parts 0, rates from the mean.
    const meanBytes = models.models.reduce((s, m) => s + m.bytes, 0) / models.models.length;
    if (measured.downloadMs !== null && measured.downloadMs > 0)
      Object.assign(timing, { downloadFixedMs: 0, downloadBytesPerMs: meanBytes / measured.downloadMs });
    if (measured.loadMs !== null && measured.loadMs > 0) Object.assign(timing, { loadFixedMs: 0, loadBytesPerMs: meanBytes / measured.loadMs });
    if (measured.downloadMs === null || measured.loadMs === null) {
      const missing = [measured.downloadMs === null && 'ModelDownloadingTime', measured.loadMs === null && 'ModelLoadingTime'].filter(Boolean).join(' or ');
      deps.warn(`--calibrate: ${measured.endpoint} has no ${missing} data in the last ${since}; the default load-time model is used for it.`);
    }
    calibration = { endpoint: measured.endpoint, since, downloadMs: measured.downloadMs, loadMs: measured.loadMs, meanModelBytes: meanBytes };
  }
  const traffic =
    traffic0 ??
    tiersSource(
      f('tiers')!,
      models.models.map((m) => m.name),
    );

  const result = await runPlan({
    models,
    traffic,
    ratePerMs,
    durationMs,
    profile,
    order,
    speed,
    types,
    counts,
    overhead,
    copies,
    seed,
    targetHit,
    maxP99Ms,
    p99Top,
    dedicatedType,
    dedicatedMinCount,
    hybridMax,
    refuseUnknown: Boolean(byName.strict),
    timing,
    threads,
    warn: deps.warn,
  });
  result.calibration = calibration;
  if (svgFile === undefined) return { result };
  const { renderSvg } = await import('./render.js');
  return { result, svg: { file: svgFile, text: renderSvg(result) } };
}

/** The --svg file's folder must exist, and the file must not be a folder: said before the work, not after. */
function checkWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw usageError(`--svg ${file}: the folder ${dir} does not exist.`, 'Create it first, or write the chart elsewhere.');
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw usageError(`--svg ${file} is a folder.`, 'Give a file name, e.g. --svg plan.svg.');
}

/** Written through a temp file and renamed: a failed write leaves nothing half-written. */
export async function writeSvg(file: string, text: string): Promise<void> {
  await writeAtomically(file, (tmp) => fs.promises.writeFile(tmp, text));
}
