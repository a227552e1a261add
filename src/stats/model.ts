/**
 * The stats model: per fleet, a summary over the window and (with --series) one row per period, every value in its
 * stored unit (ms, ratio, percent, count) or null when CloudWatch has no datapoint. Null is "no data", never 0.
 */
import { METRICS, fromCloudWatch, type MetricSpec } from './catalog.js';
import type { Datapoints, FetchResult } from './fetch.js';
import type { PlannedQuery, Target } from './plan.js';
import type { Window } from './window.js';

export type Values = Record<string, number | null>;

export interface SeriesRow {
  timestamp: Date;
  values: Values;
}

export interface FleetStats {
  target: Target;
  summary: Values;
  series?: SeriesRow[];
}

export function buildStats(targets: Target[], queries: PlannedQuery[], fetched: FetchResult, window: Window, series: boolean): FleetStats[] {
  const byKey = new Map(queries.map((q) => [`${q.target}|${q.spec.name}|${q.scope}`, q]));
  const data = (t: number, spec: MetricSpec, scope: 'summary' | 'series'): Datapoints | undefined => {
    const q = byKey.get(`${t}|${spec.name}|${scope}`);
    return q && !fetched.unavailable.has(q.id) ? fetched.data.get(q.id) : undefined;
  };
  return targets.map((target, t) => {
    const summary: Values = {};
    for (const spec of METRICS) summary[spec.name] = windowValue(spec, data(t, spec, 'summary'));
    const stats: FleetStats = { target, summary };
    if (series) {
      const rows: SeriesRow[] = Array.from({ length: window.periods }, (_, i) => ({
        timestamp: new Date(window.start.getTime() + i * window.period * 1000),
        values: Object.fromEntries(METRICS.map((s) => [s.name, null])),
      }));
      for (const spec of METRICS) {
        const d = data(t, spec, 'series');
        if (!d) continue;
        d.timestamps.forEach((ts, i) => {
          const row = Math.floor((ts - window.start.getTime()) / (window.period * 1000));
          if (row >= 0 && row < rows.length) rows[row].values[spec.name] = round(fromCloudWatch(spec, d.values[i]));
        });
      }
      stats.series = rows;
    }
    return stats;
  });
}

/**
 * The summary query asks for one period covering the window, so one datapoint is expected. Should a server split it
 * anyway, additive statistics are added and maxima maximised; averages and percentiles cannot be combined without
 * weights, so the datapoint that starts the window is kept.
 */
function windowValue(spec: MetricSpec, d: Datapoints | undefined): number | null {
  if (!d || d.values.length === 0) return null;
  let v: number;
  if (spec.stat === 'Sum' || spec.stat === 'SampleCount') v = d.values.reduce((a, b) => a + b, 0);
  else if (spec.stat === 'Maximum') v = Math.max(...d.values);
  else v = d.values[0];
  return round(fromCloudWatch(spec, v));
}

/** Drops binary noise (12.500000000000002) without losing real precision. */
export const round = (v: number): number => Number(v.toPrecision(12));
