/**
 * `mme stats` end to end, less the printing: check every input, resolve fleets to endpoint variants, ask CloudWatch
 * in as few GetMetricData requests as possible, build the summary (and series), diagnose, check --fail-if.
 */
import { clientSettings } from '../aws/clients.js';
import { requireSetting, type FleetSource, type ResolvedConfig } from '../config/load.js';
import { describeOrigin } from '../config/validate.js';
import { usageError } from '../output/errors.js';
import { diagnose } from './diagnose.js';
import { evaluate, parseCondition } from './expr.js';
import { fetchMetrics } from './fetch.js';
import { buildStats } from './model.js';
import { groupRequests, planQueries, type Target } from './plan.js';
import type { Report } from './render.js';
import { resolveWindow } from './window.js';

export type Format = 'table' | 'json' | 'csv' | 'prom';

export interface StatsOptions {
  since?: string;
  start?: string;
  end?: string;
  period?: string;
  series: boolean;
  allFleets: boolean;
  format: Format;
  failIf: string[];
}

export interface StatsHooks {
  signal: AbortSignal;
  warn(message: string): void;
  /** Called with what is about to be read; the returned function is called when reading ends. */
  reading(queries: number, endpoints: number): Promise<() => void>;
}

export async function readStats(fleets: FleetSource, o: StatsOptions, hooks: StatsHooks): Promise<Report> {
  // Every input is checked before the first request.
  if (o.series && o.format === 'prom') {
    throw usageError(
      '--output prom cannot carry --series.',
      "Prometheus' textfile collector takes one value per metric without timestamps: drop --series, or use --output csv or json.",
    );
  }
  const conditions = o.failIf.map(parseCondition);
  const window = resolveWindow({ since: o.since, start: o.start, end: o.end, period: o.period, series: o.series });
  const { targets, skipped } = resolveTargets(fleets, o.allFleets);
  for (const s of skipped) hooks.warn(`fleet ${s.fleet} skipped: ${s.reason}`);

  const queries = planQueries(targets, window, o.series);
  const done = await hooks.reading(queries.length, targets.length);
  const fetched = await fetchMetrics(groupRequests(queries, targets), targets, window, hooks.signal).finally(done);
  for (const w of fetched.warnings) hooks.warn(w);

  const stats = buildStats(targets, queries, fetched, window, o.series);
  return {
    window,
    series: o.series,
    fleets: stats,
    diagnosis: stats.map((f) => diagnose(f.summary)),
    checks: evaluate(conditions, stats),
    skipped,
    warnings: fetched.warnings,
    requests: fetched.requests,
    queries: fetched.queries,
  };
}

/**
 * The selected fleet (global --fleet, MME_FLEET, the default fleet, or flags alone), or with --all-fleets every
 * fleet of the config file by name. Under --all-fleets a fleet without an endpoint (a prefix-only fleet) is skipped
 * with a warning; an endpoint or variant set by flag or environment would apply to every fleet, so it is refused.
 */
function resolveTargets(fleets: FleetSource, allFleets: boolean): { targets: Target[]; skipped: { fleet: string; reason: string }[] } {
  const toTarget = (cfg: ResolvedConfig, endpoint: string): Target => ({
    fleet: cfg.fleet,
    endpoint,
    variant: cfg.settings.variant.value ?? 'AllTraffic',
    region: cfg.settings.region.value,
    client: clientSettings(cfg),
  });
  if (!allFleets) {
    const cfg = fleets.config();
    return { targets: [toTarget(cfg, requireSetting(cfg, 'endpointName'))], skipped: [] };
  }
  if (fleets.flags.fleet !== undefined) throw usageError('--all-fleets and --fleet both choose fleets.', 'Use one of them.');
  const loaded = fleets.configFile();
  const names = Object.keys(loaded.file.fleets).sort();
  if (!names.length) {
    throw usageError(
      loaded.path
        ? `--all-fleets: ${loaded.path} has no fleets.`
        : '--all-fleets: no mme.config.json found (looked in this folder, its parents and ~/.config/mme/config.json).',
      'Add fleets, e.g. {"fleets":{"tail":{"endpointName":"fraud-tail-mme"}}}, or pass --config FILE.',
    );
  }
  const targets: Target[] = [];
  const skipped: { fleet: string; reason: string }[] = [];
  for (const name of names) {
    const cfg = fleets.fleetConfig(name);
    for (const key of ['endpointName', 'variant'] as const) {
      const origin = cfg.settings[key].origin;
      if (origin.kind === 'flag' || origin.kind === 'env') {
        throw usageError(
          `--all-fleets: ${describeOrigin(origin, key)} would set the ${key} of every fleet.`,
          `Drop it, or read one fleet with --fleet ${name}.`,
        );
      }
    }
    const endpoint = cfg.settings.endpointName.value;
    if (endpoint === undefined) skipped.push({ fleet: name, reason: `no endpointName in ${loaded.path}.` });
    else targets.push(toTarget(cfg, endpoint));
  }
  if (!targets.length) {
    throw usageError(`--all-fleets: no fleet in ${loaded.path} has an endpointName.`, `Add one, e.g. fleets.${names[0]}.endpointName = "fraud-mme".`);
  }
  return { targets, skipped };
}
