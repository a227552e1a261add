/**
 * The query plan: every statistic of every fleet as GetMetricData queries, batched into as few requests as
 * CloudWatch allows (500 queries each), grouped by the CloudWatch endpoint (region, profile, URL) they go to.
 *
 * Two kinds of query per statistic:
 * - summary: Period = the whole window, so CloudWatch aggregates over every sample of the window itself. That is
 *   the exact window statistic: Average is the mean of all samples (each minute weighted by its SampleCount), Maximum
 *   the max of maxima, Sum and SampleCount add up, and p99 is the window's 99th percentile (which no combination of
 *   per-minute p99s could give).
 * - series (only with --series): Period = --period, one value per row.
 */
import type { ClientSettings } from '../aws/clients.js';
import { METRICS, isPercentile, type MetricSpec } from './catalog.js';
import type { Window } from './window.js';

/** One endpoint variant to read, as resolved from a fleet. */
export interface Target {
  fleet: string | undefined;
  endpoint: string;
  variant: string;
  region: string | undefined;
  client: ClientSettings;
}

export type Scope = 'summary' | 'series';

export interface PlannedQuery {
  id: string;
  target: number;
  spec: MetricSpec;
  scope: Scope;
  period: number;
}

/** The queries for one CloudWatch endpoint, split into requests. */
export interface RequestGroup {
  client: ClientSettings;
  /** Each entry is one GetMetricData request (followed through NextToken). */
  batches: PlannedQuery[][];
  /** Batches that hold only percentile queries (sent apart to emulators; see splitPercentiles). */
  percentileBatches: PlannedQuery[][];
}

export const MAX_QUERIES_PER_REQUEST = 500;

export function planQueries(targets: Target[], window: Window, series: boolean): PlannedQuery[] {
  const queries: PlannedQuery[] = [];
  targets.forEach((_, t) => {
    METRICS.forEach((spec, s) => {
      queries.push({ id: `t${t}_m${s}_w`, target: t, spec, scope: 'summary', period: window.seconds });
      if (series) queries.push({ id: `t${t}_m${s}_p`, target: t, spec, scope: 'series', period: window.period });
    });
  });
  return queries;
}

/**
 * Groups queries by CloudWatch endpoint and cuts them into requests of at most 500.
 *
 * Against AWS everything shares those requests. Against a custom --endpoint-url (moto, LocalStack, `mme local`) the
 * percentile queries travel in requests of their own: emulators implement extended statistics unevenly, and moto 5.2
 * fails the whole GetMetricData request with HTTP 500 when asked a percentile of a metric that has data. Kept apart,
 * such a failure costs the p99 columns only.
 */
export function groupRequests(queries: PlannedQuery[], targets: Target[]): RequestGroup[] {
  const groups = new Map<string, { client: ClientSettings; plain: PlannedQuery[]; percentiles: PlannedQuery[] }>();
  for (const q of queries) {
    const client = targets[q.target].client;
    const key = JSON.stringify([client.region, client.profile, client.endpointUrl]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { client, plain: [], percentiles: [] }));
    (client.endpointUrl !== undefined && isPercentile(q.spec.stat) ? g.percentiles : g.plain).push(q);
  }
  return [...groups.values()].map((g) => ({ client: g.client, batches: chunk(g.plain), percentileBatches: chunk(g.percentiles) }));
}

function chunk<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_QUERIES_PER_REQUEST) out.push(items.slice(i, i + MAX_QUERIES_PER_REQUEST));
  return out;
}
