/**
 * `mme stats` end to end: check every input, resolve fleets to endpoint variants, ask CloudWatch in as few
 * GetMetricData requests as possible, build the summary (and series), diagnose, check --fail-if, print.
 */
import { clientSettings } from '../aws/clients.js';
import type { Context } from '../commands/command.js';
import { requireSetting, type ResolvedConfig } from '../config/load.js';
import { describeOrigin } from '../config/validate.js';
import { ExitCode, usageError } from '../output/errors.js';
import { successDocument } from '../output/output.js';
import { diagnose } from './diagnose.js';
import { evaluate, parseCondition } from './expr.js';
import { fetchMetrics } from './fetch.js';
import { buildStats } from './model.js';
import { groupRequests, planQueries, type Target } from './plan.js';
import { displayName, formatValue, renderCsv, renderProm, renderSeriesTable, renderSummaryTable, toJson, type Report } from './render.js';
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

export async function runStats(ctx: Context, o: StatsOptions): Promise<number> {
  // Every input is checked before the first request.
  if (o.series && o.format === 'prom') {
    throw usageError('--output prom cannot carry --series.', "Prometheus' textfile collector takes one value per metric without timestamps: drop --series, or use --output csv or json.");
  }
  const conditions = o.failIf.map(parseCondition);
  const window = resolveWindow({ since: o.since, start: o.start, end: o.end, period: o.period, series: o.series });
  const { targets, skipped } = resolveTargets(ctx, o.allFleets);
  for (const s of skipped) ctx.out.warn(`fleet ${s.fleet} skipped: ${s.reason}`);

  const queries = planQueries(targets, window, o.series);
  const progress = await ctx.out.progress(`reading ${queries.length} CloudWatch statistics for ${targets.length} endpoint(s)`);
  const fetched = await fetchMetrics(groupRequests(queries, targets), targets, window, ctx.signal).finally(() => progress.stop());
  for (const w of fetched.warnings) ctx.out.warn(w);

  const fleets = buildStats(targets, queries, fetched, window, o.series);
  const report: Report = {
    window,
    series: o.series,
    fleets,
    diagnosis: fleets.map((f) => diagnose(f.summary)),
    checks: evaluate(conditions, fleets),
    skipped,
    warnings: fetched.warnings,
    requests: fetched.requests,
    queries: fetched.queries,
  };

  const aside = (line: string) => ctx.out.info(line);
  switch (o.format) {
    case 'json':
      // `--output json` prints the same envelope as the global --json.
      if (ctx.out.json) ctx.out.result(toJson(report));
      else ctx.out.raw(successDocument(toJson(report)));
      break;
    case 'csv':
      ctx.out.raw(renderCsv(report));
      break;
    case 'prom':
      ctx.out.raw(renderProm(report));
      break;
    default: {
      const tty = ctx.out.stdoutIsTTY;
      const text = o.series ? renderSeriesTable(report, tty, aside) : renderSummaryTable(report, tty, aside);
      ctx.out.raw(text.endsWith('\n') ? text : text + '\n');
    }
  }

  let breached = false;
  for (const c of report.checks) {
    const who = `${displayName(c.fleet)} (${c.fleet.target.endpoint}/${c.fleet.target.variant})`;
    if (c.status === 'no-data') {
      ctx.out.warn(`${who}: ${c.condition.spec.name} has no data in the window, so --fail-if '${c.condition.text}' was not checked.`);
    } else if (c.status === 'breach') {
      breached = true;
      process.stderr.write(`${ctx.out.paint('breach:', 31)} ${who}: ${c.condition.spec.name} is ${formatValue(c.condition.spec, c.value)} (--fail-if '${c.condition.text}')\n`);
    }
  }
  return breached ? ExitCode.threshold : ExitCode.ok;
}

/**
 * The selected fleet (global --fleet, MME_FLEET, the default fleet, or flags alone), or with --all-fleets every
 * fleet of the config file by name. Under --all-fleets a fleet without an endpoint (a prefix-only fleet) is skipped
 * with a warning; an endpoint or variant set by flag or environment would apply to every fleet, so it is refused.
 */
function resolveTargets(ctx: Context, allFleets: boolean): { targets: Target[]; skipped: { fleet: string; reason: string }[] } {
  const toTarget = (cfg: ResolvedConfig, endpoint: string): Target => ({
    fleet: cfg.fleet,
    endpoint,
    variant: cfg.settings.variant.value ?? 'AllTraffic',
    region: cfg.settings.region.value,
    client: clientSettings(cfg),
  });
  if (!allFleets) {
    const cfg = ctx.config();
    return { targets: [toTarget(cfg, requireSetting(cfg, 'endpointName'))], skipped: [] };
  }
  if (ctx.flags.fleet !== undefined) throw usageError('--all-fleets and --fleet both choose fleets.', 'Use one of them.');
  const loaded = ctx.configFile();
  const names = Object.keys(loaded.file.fleets).sort();
  if (!names.length) {
    throw usageError(
      loaded.path ? `--all-fleets: ${loaded.path} has no fleets.` : '--all-fleets: no mme.config.json found (looked in this folder, its parents and ~/.config/mme/config.json).',
      'Add fleets, e.g. {"fleets":{"tail":{"endpointName":"fraud-tail-mme"}}}, or pass --config FILE.',
    );
  }
  const targets: Target[] = [];
  const skipped: { fleet: string; reason: string }[] = [];
  for (const name of names) {
    const cfg = ctx.fleetConfig(name);
    for (const key of ['endpointName', 'variant'] as const) {
      const origin = cfg.settings[key].origin;
      if (origin.kind === 'flag' || origin.kind === 'env') {
        throw usageError(`--all-fleets: ${describeOrigin(origin, key)} would set the ${key} of every fleet.`, `Drop it, or read one fleet with --fleet ${name}.`);
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
