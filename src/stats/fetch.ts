/**
 * Runs a query plan: one GetMetricData request per batch (following NextToken), all batches concurrently.
 * Returns the raw datapoints per query id, in CloudWatch units.
 */
import { GetMetricDataCommand, type GetMetricDataCommandOutput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { cloudWatchClient } from '../aws/clients.js';
import { explainAwsError } from '../aws/errors.js';
import { mapLimit } from '../util/map-limit.js';
import type { PlannedQuery, RequestGroup, Target } from './plan.js';
import type { Window } from './window.js';

export interface Datapoints {
  /** Epoch milliseconds, ascending. */
  timestamps: number[];
  values: number[];
}

export interface FetchResult {
  data: Map<string, Datapoints>;
  /** Query ids the server could not answer (shown as no data). */
  unavailable: Set<string>;
  warnings: string[];
  /** GetMetricData requests sent (pages included) and queries asked. */
  requests: number;
  queries: number;
}

const REQUESTS_IN_FLIGHT = 4;

export async function fetchMetrics(groups: RequestGroup[], targets: Target[], window: Window, signal: AbortSignal): Promise<FetchResult> {
  const result: FetchResult = { data: new Map(), unavailable: new Set(), warnings: [], requests: 0, queries: 0 };
  const jobs = groups.flatMap((g) => [
    ...g.batches.map((batch) => ({ group: g, batch, percentiles: false })),
    ...g.percentileBatches.map((batch) => ({ group: g, batch, percentiles: true })),
  ]);
  await mapLimit(jobs, REQUESTS_IN_FLIGHT, async ({ group, batch, percentiles }) => {
    result.queries += batch.length;
    try {
      await runBatch(group, batch, targets, window, signal, result, percentiles);
    } catch (err) {
      // The same queries without the percentile went through in their own request, so a server error or a
      // validation error (400) here means the server does not do percentiles: degrade to "no data", say so.
      const status = err instanceof PercentilesFailed ? err.status : (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (!percentiles || status === undefined || !(status >= 500 || status === 400)) throw explainAwsError(err, group.client);
      for (const q of batch) result.unavailable.add(q.id);
      const why = status === 400 ? `${(err as Error).name}: ${(err as Error).message}` : `HTTP ${status}`;
      result.warnings.push(
        `${group.client.endpointUrl} could not compute percentile statistics (GetMetricData failed: ${why}); ` +
          'p99 values are shown as no data. AWS CloudWatch supports them.',
      );
    }
  });
  return result;
}

async function runBatch(
  group: RequestGroup,
  batch: PlannedQuery[],
  targets: Target[],
  window: Window,
  signal: AbortSignal,
  result: FetchResult,
  percentiles: boolean,
): Promise<void> {
  const client = await cloudWatchClient(group.client);
  const queries: MetricDataQuery[] = batch.map((q) => {
    const t = targets[q.target];
    return {
      Id: q.id,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: q.spec.namespace,
          MetricName: q.spec.metric,
          Dimensions: [
            { Name: 'EndpointName', Value: t.endpoint },
            { Name: 'VariantName', Value: t.variant },
          ],
        },
        Period: q.period,
        Stat: q.spec.stat,
      },
    };
  });
  let nextToken: string | undefined;
  do {
    const command = new GetMetricDataCommand({
      StartTime: window.start,
      EndTime: window.end,
      ScanBy: 'TimestampAscending',
      MetricDataQueries: queries,
      NextToken: nextToken,
    });
    if (percentiles) command.middlewareStack.add(noRetryOnServerError, { step: 'deserialize', priority: 'high', name: 'mmeNoRetryOnPercentileFailure' });
    result.requests++;
    const page: GetMetricDataCommandOutput = await client.send(command, { abortSignal: signal });
    for (const r of page.MetricDataResults ?? []) {
      if (!r.Id) continue;
      let d = result.data.get(r.Id);
      if (!d) result.data.set(r.Id, (d = { timestamps: [], values: [] }));
      const ts = r.Timestamps ?? [];
      const vs = r.Values ?? [];
      for (let i = 0; i < Math.min(ts.length, vs.length); i++) {
        if (typeof vs[i] !== 'number' || !Number.isFinite(vs[i])) continue;
        d.timestamps.push(new Date(ts[i]).getTime());
        d.values.push(vs[i]);
      }
      if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
        result.warnings.push(`CloudWatch answered ${r.StatusCode} for ${r.Id}${r.Messages?.length ? `: ${r.Messages.map((m) => m.Value).join('; ')}` : ''}.`);
      }
    }
    for (const m of page.Messages ?? []) if (m.Value) result.warnings.push(`CloudWatch: ${m.Code ? `${m.Code}: ` : ''}${m.Value}`);
    nextToken = page.NextToken;
  } while (nextToken);
  // Pages may split one query's datapoints; keep each series in time order whatever the server did.
  for (const q of batch) {
    const d = result.data.get(q.id);
    if (d?.timestamps.some((t, i) => i > 0 && t < d.timestamps[i - 1])) {
      const order = d.timestamps.map((_, i) => i).sort((a, b) => d.timestamps[a] - d.timestamps[b]);
      d.timestamps = order.map((i) => d.timestamps[i]);
      d.values = order.map((i) => d.values[i]);
    }
  }
}

/** A percentile request that a server fails with a 5xx: not retried, because the same question fails again. */
class PercentilesFailed extends Error {
  constructor(readonly status: number) {
    super(`percentile statistics failed with HTTP ${status}`);
    this.name = 'PercentilesFailed';
  }
}

// Sits outside the deserializer, so the error the retry middleware sees carries no HTTP status: the SDK does not
// retry it (3 attempts at a request that can only fail again would triple the server's work for nothing).
// biome-ignore-start lint/suspicious/noExplicitAny: the SDK's middleware signature, whatever the command
const noRetryOnServerError =
  (next: (args: any) => Promise<any>) =>
  async (args: any): Promise<any> => {
    try {
      return await next(args);
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== undefined && status >= 500) throw new PercentilesFailed(status);
      throw err;
    }
  };
// biome-ignore-end lint/suspicious/noExplicitAny: the SDK's middleware signature
