/**
 * `GET /metrics`: the recorder's data in the Prometheus text exposition format (version 0.0.4), so a Prometheus
 * server or any scraper can watch `mme local` without the CloudWatch API. Same data, Prometheus conventions:
 * counters for request totals, summaries in seconds for the microsecond timings (quantiles over the last five
 * minutes, _sum and _count since start), gauges for the latest instance reading; labels endpoint and variant.
 */
import { Aggregate, MINUTE_MS } from './buckets.js';
import { METRICS, type MetricDefinition } from './definitions.js';
import type { MetricsRecorder } from './recorder.js';
import { escapeHelp, escapeLabel, promNumber } from '../../util/prometheus-text.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const QUANTILES = [0.5, 0.9, 0.99];
const QUANTILE_WINDOW_MINUTES = 5;

export function prometheusText(recorder: MetricsRecorder): string {
  const labels = `endpoint="${escapeLabel(recorder.endpointName)}",variant="${escapeLabel(recorder.variantName)}"`;
  const nowMinute = Math.floor(recorder.now() / MINUTE_MS);
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => {
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  };

  for (const def of METRICS) {
    const series = recorder.recorded(def.name);
    const { name, help, kind } = def.prometheus;
    switch (kind) {
      case 'counter':
        family(name, 'counter', help);
        lines.push(`${name}{${labels}} ${promNumber(series?.totalSum ?? 0)}`);
        break;
      case 'ratio':
        family(`${name}_hits_total`, 'counter', help);
        lines.push(`${name}_hits_total{${labels}} ${promNumber(series?.totalSum ?? 0)}`);
        family(`${name}_lookups_total`, 'counter', `Requests that looked up a model in the cache (SampleCount of CloudWatch ${def.name}).`);
        lines.push(`${name}_lookups_total{${labels}} ${promNumber(series?.totalCount ?? 0)}`);
        break;
      case 'duration': {
        family(name, 'summary', help);
        const recent = new Aggregate();
        for (const [, bucket] of series?.range(nowMinute - QUANTILE_WINDOW_MINUTES + 1, nowMinute + 1) ?? []) recent.add(bucket);
        for (const q of QUANTILES) {
          const v = recent.percentile(q * 100);
          lines.push(`${name}{${labels},quantile="${q}"} ${promNumber(v === undefined ? NaN : toSeconds(def, v))}`);
        }
        lines.push(`${name}_sum{${labels}} ${promNumber(toSeconds(def, series?.totalSum ?? 0))}`);
        lines.push(`${name}_count{${labels}} ${promNumber(series?.totalCount ?? 0)}`);
        break;
      }
      case 'gauge':
        if (!series || Number.isNaN(series.lastValue)) break; // not sampled yet: no value rather than a made-up 0
        family(name, 'gauge', help);
        lines.push(`${name}{${labels}} ${promNumber(series.lastValue)}`);
        break;
    }
  }

  const reading = recorder.lastReading;
  if (reading) {
    const bytes: Array<[string, number, string]> = [
      ['mme_local_memory_bytes', reading.memoryBytes, 'Memory held by loaded models.'],
      ['mme_local_memory_budget_bytes', reading.memoryBudget, 'Memory budget for loaded models (--memory).'],
      ['mme_local_disk_bytes', reading.diskBytes, 'Disk held by the model cache.'],
      ['mme_local_disk_budget_bytes', reading.diskBudget, 'Disk budget for the model cache (--disk).'],
    ];
    for (const [name, value, help] of bytes) {
      family(name, 'gauge', help);
      lines.push(`${name}{${labels}} ${promNumber(value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function toSeconds(def: MetricDefinition, value: number): number {
  return def.unit === 'Microseconds' ? value / 1e6 : value;
}
