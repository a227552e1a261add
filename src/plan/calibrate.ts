/**
 * Calibration of the load-time model from the fleet's own CloudWatch averages (ModelDownloadingTime and
 * ModelLoadingTime), read through the same code as `mme stats`. This is the plan's one use of the stats modules.
 */
import { clientSettings } from '../aws/clients.js';
import { requireSetting, type ResolvedConfig } from '../config/load.js';
import { fetchMetrics } from '../stats/fetch.js';
import { buildStats } from '../stats/model.js';
import { groupRequests, planQueries, type Target } from '../stats/plan.js';
import { resolveWindow } from '../stats/window.js';

export interface MeasuredLoadTimes {
  endpoint: string;
  since: string;
  /** Mean ms per download and per load over the window; null when CloudWatch has no data. */
  downloadMs: number | null;
  loadMs: number | null;
  warnings: string[];
}

export async function fleetLoadTimes(cfg: ResolvedConfig, since: string, signal: AbortSignal): Promise<MeasuredLoadTimes> {
  const endpoint = requireSetting(cfg, 'endpointName');
  const target: Target = {
    fleet: cfg.fleet,
    endpoint,
    variant: cfg.settings.variant.value ?? 'AllTraffic',
    region: cfg.settings.region.value,
    client: clientSettings(cfg),
  };
  // The window ends at the next minute, so that the minute under way counts (as after a run against mme local).
  const window = resolveWindow({ since, end: new Date(Date.now() + 60_000).toISOString() });
  const queries = planQueries([target], window, false);
  const fetched = await fetchMetrics(groupRequests(queries, [target]), [target], window, signal);
  const [stats] = buildStats([target], queries, fetched, window, false);
  return { endpoint, since, downloadMs: stats.summary['download-avg'], loadMs: stats.summary['load-avg'], warnings: fetched.warnings };
}
