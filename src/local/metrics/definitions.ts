/**
 * How `mme local` exposes each SageMaker metric (catalogued in src/sagemaker/metrics.ts) to Prometheus.
 */

import { SAGEMAKER_METRICS, type MetricName, type SageMakerMetric } from '../../sagemaker/metrics.js';

export type { MetricName } from '../../sagemaker/metrics.js';

export interface MetricDefinition {
  name: MetricName;
  namespace: SageMakerMetric['namespace'];
  unit: SageMakerMetric['unit'];
  /**
   * How Prometheus sees it: `counter` (running total of the values), `ratio` (1/0 per request: hits and lookups
   * counters), `duration` (a summary in seconds), `gauge` (the latest sample).
   */
  prometheus: { kind: 'counter' | 'ratio' | 'duration' | 'gauge'; name: string; help: string };
}

const d = (name: MetricName, kind: MetricDefinition['prometheus']['kind'], promName: string, help: string): MetricDefinition => ({
  name,
  ...SAGEMAKER_METRICS[name],
  prometheus: { kind, name: `mme_local_${promName}`, help },
});

export const METRICS: readonly MetricDefinition[] = [
  d('Invocations', 'counter', 'invocations_total', 'Requests sent to the endpoint (CloudWatch Invocations).'),
  d('Invocation4XXErrors', 'counter', 'invocation_4xx_errors_total', 'Requests answered with a 4xx error (CloudWatch Invocation4XXErrors).'),
  d('Invocation5XXErrors', 'counter', 'invocation_5xx_errors_total', 'Requests answered with a 5xx error (CloudWatch Invocation5XXErrors).'),
  d('ModelCacheHit', 'ratio', 'model_cache', 'Requests served by a model already in memory (CloudWatch ModelCacheHit).'),
  d('ModelLatency', 'duration', 'model_latency_seconds', 'Time the model took to answer (CloudWatch ModelLatency).'),
  d('OverheadLatency', 'duration', 'overhead_latency_seconds', 'Time added by the endpoint around the model (CloudWatch OverheadLatency).'),
  d(
    'ModelLoadingWaitTime',
    'duration',
    'model_loading_wait_seconds',
    'Time a request waited for its model to be downloaded and/or loaded (CloudWatch ModelLoadingWaitTime).',
  ),
  d('ModelDownloadingTime', 'duration', 'model_downloading_seconds', 'Time to download a model artifact (CloudWatch ModelDownloadingTime).'),
  d('ModelLoadingTime', 'duration', 'model_loading_seconds', 'Time to load a model into memory (CloudWatch ModelLoadingTime).'),
  d('ModelUnloadingTime', 'duration', 'model_unloading_seconds', 'Time to unload a model; the count is the number of unloads (CloudWatch ModelUnloadingTime).'),
  d('LoadedModelCount', 'gauge', 'loaded_models', 'Models loaded in memory (CloudWatch LoadedModelCount).'),
  d('CPUUtilization', 'gauge', 'cpu_utilization_percent', 'CPU used by the endpoint process, 0..100 per core (CloudWatch CPUUtilization).'),
  d('MemoryUtilization', 'gauge', 'memory_utilization_percent', 'Share of the memory budget held by loaded models (CloudWatch MemoryUtilization).'),
  d('DiskUtilization', 'gauge', 'disk_utilization_percent', 'Share of the disk budget held by the disk cache (CloudWatch DiskUtilization).'),
];

export const METRIC_BY_NAME: ReadonlyMap<string, MetricDefinition> = new Map(METRICS.map((m) => [m.name, m]));

/** Units CloudWatch knows (StandardUnit). */
export const STANDARD_UNITS: ReadonlySet<string> = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);
