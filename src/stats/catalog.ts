/**
 * The numbers `mme stats` reports, in the fixed order every renderer uses. Each is one CloudWatch statistic of one
 * metric of the fleet's endpoint and variant (see shared/reference/sagemaker-mme.md for names, namespaces and units).
 * The `name` is what --fail-if, CSV headers and JSON keys use.
 */
import { SAGEMAKER_METRICS, type MetricName } from '../sagemaker/metrics.js';

/**
 * How a value is stored once read, and so which units --fail-if accepts:
 * - ratio: 0..1 (accepts a plain number or a percentage)
 * - count: a plain number
 * - duration: milliseconds, converted from CloudWatch's microseconds (a unit is required: ms, s, us)
 * - percent: 0..100 (CPU can exceed 100 on multi-core instances)
 * - models: models per instance
 */
export type Kind = 'ratio' | 'count' | 'duration' | 'percent' | 'models';

export type Stat = 'Average' | 'Maximum' | 'Sum' | 'SampleCount' | 'p99';

export interface MetricSpec {
  name: string;
  metric: MetricName;
  namespace: string;
  stat: Stat;
  kind: Kind;
  /** Words for the table and for Prometheus HELP. */
  help: string;
  /** Prometheus family name (durations in seconds, percentages as ratios, per Prometheus convention). */
  prom: string;
}

const m = (name: string, metric: MetricName, stat: Stat, kind: Kind, prom: string, help: string): MetricSpec => ({
  name,
  metric,
  namespace: SAGEMAKER_METRICS[metric].namespace,
  stat,
  kind,
  prom: `mme_${prom}`,
  help,
});

export const METRICS: readonly MetricSpec[] = [
  m('cache-hit', 'ModelCacheHit', 'Average', 'ratio', 'model_cache_hit_ratio', 'share of requests served by a model already in memory (ModelCacheHit Average)'),
  m('requests', 'ModelCacheHit', 'SampleCount', 'count', 'requests', 'requests counted by ModelCacheHit (its SampleCount)'),
  m(
    'load-wait-avg',
    'ModelLoadingWaitTime',
    'Average',
    'duration',
    'model_loading_wait_average_seconds',
    'mean time a request waited for its model to be downloaded and loaded (ModelLoadingWaitTime Average)',
  ),
  m(
    'load-wait-max',
    'ModelLoadingWaitTime',
    'Maximum',
    'duration',
    'model_loading_wait_max_seconds',
    'longest wait for a model load (ModelLoadingWaitTime Maximum)',
  ),
  m(
    'load-wait-p99',
    'ModelLoadingWaitTime',
    'p99',
    'duration',
    'model_loading_wait_p99_seconds',
    '99th percentile of the wait for a model load (ModelLoadingWaitTime p99)',
  ),
  m(
    'download-avg',
    'ModelDownloadingTime',
    'Average',
    'duration',
    'model_downloading_average_seconds',
    'mean time to download a model from S3 (ModelDownloadingTime Average)',
  ),
  m(
    'download-max',
    'ModelDownloadingTime',
    'Maximum',
    'duration',
    'model_downloading_max_seconds',
    'longest model download from S3 (ModelDownloadingTime Maximum)',
  ),
  m(
    'load-avg',
    'ModelLoadingTime',
    'Average',
    'duration',
    'model_loading_average_seconds',
    "mean time of the container's load call (ModelLoadingTime Average)",
  ),
  m('load-max', 'ModelLoadingTime', 'Maximum', 'duration', 'model_loading_max_seconds', 'longest load call of the container (ModelLoadingTime Maximum)'),
  m('unloads', 'ModelUnloadingTime', 'SampleCount', 'count', 'model_unloads', 'models unloaded from memory (ModelUnloadingTime SampleCount)'),
  m('unload-avg', 'ModelUnloadingTime', 'Average', 'duration', 'model_unloading_average_seconds', 'mean time to unload a model (ModelUnloadingTime Average)'),
  m('loaded-models', 'LoadedModelCount', 'Average', 'models', 'loaded_models_average', 'models loaded per instance, mean (LoadedModelCount Average)'),
  m('loaded-models-max', 'LoadedModelCount', 'Maximum', 'models', 'loaded_models_max', 'models loaded on one instance, most (LoadedModelCount Maximum)'),
  m('invocations', 'Invocations', 'Sum', 'count', 'invocations', 'requests sent to the endpoint (Invocations Sum)'),
  m('latency-avg', 'ModelLatency', 'Average', 'duration', 'model_latency_average_seconds', 'mean time the model took to answer (ModelLatency Average)'),
  m('latency-p99', 'ModelLatency', 'p99', 'duration', 'model_latency_p99_seconds', '99th percentile of the time the model took to answer (ModelLatency p99)'),
  m(
    'overhead-avg',
    'OverheadLatency',
    'Average',
    'duration',
    'overhead_latency_average_seconds',
    'mean time SageMaker added around the model (OverheadLatency Average)',
  ),
  m(
    'overhead-p99',
    'OverheadLatency',
    'p99',
    'duration',
    'overhead_latency_p99_seconds',
    '99th percentile of the time SageMaker added around the model (OverheadLatency p99)',
  ),
  m('errors-4xx', 'Invocation4XXErrors', 'Sum', 'count', 'invocation_4xx_errors', 'requests answered with a 4xx error (Invocation4XXErrors Sum)'),
  m('errors-5xx', 'Invocation5XXErrors', 'Sum', 'count', 'invocation_5xx_errors', 'requests answered with a 5xx error (Invocation5XXErrors Sum)'),
  m(
    'cpu',
    'CPUUtilization',
    'Average',
    'percent',
    'cpu_utilization_average_ratio',
    'CPU utilisation per instance, mean, 1.0 = one core (CPUUtilization Average)',
  ),
  m(
    'cpu-max',
    'CPUUtilization',
    'Maximum',
    'percent',
    'cpu_utilization_max_ratio',
    'CPU utilisation of the busiest instance-minute, 1.0 = one core (CPUUtilization Maximum)',
  ),
  m(
    'memory',
    'MemoryUtilization',
    'Average',
    'percent',
    'memory_utilization_average_ratio',
    'memory utilisation per instance, mean (MemoryUtilization Average)',
  ),
  m('memory-max', 'MemoryUtilization', 'Maximum', 'percent', 'memory_utilization_max_ratio', 'memory utilisation, highest (MemoryUtilization Maximum)'),
  m('disk', 'DiskUtilization', 'Average', 'percent', 'disk_utilization_average_ratio', 'disk utilisation per instance, mean (DiskUtilization Average)'),
  m('disk-max', 'DiskUtilization', 'Maximum', 'percent', 'disk_utilization_max_ratio', 'disk utilisation, highest (DiskUtilization Maximum)'),
];

export const METRIC_BY_NAME: ReadonlyMap<string, MetricSpec> = new Map(METRICS.map((s) => [s.name, s]));

/** Percentiles are CloudWatch "extended statistics": emulators often lack them, so they are handled apart. */
export const isPercentile = (stat: Stat): boolean => /^p\d/.test(stat);

/** The unit a value is stored in after reading (JSON `units`, docs). */
export const UNIT_OF_KIND: Record<Kind, string> = {
  ratio: 'ratio',
  count: 'count',
  duration: 'ms',
  percent: 'percent',
  models: 'models',
};

/** CloudWatch value → stored value: latency and load metrics arrive in microseconds. */
export function fromCloudWatch(spec: MetricSpec, value: number): number {
  return spec.kind === 'duration' ? value / 1000 : value;
}
