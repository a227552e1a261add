/**
 * The metrics SageMaker publishes for a multi-model endpoint: name, namespace and unit as CloudWatch has them (see
 * shared/reference/sagemaker-mme.md). One table for both sides: `mme stats` reads these, `mme local` records them.
 */

export const INVOCATION_NAMESPACE = 'AWS/SageMaker';
export const INSTANCE_NAMESPACE = '/aws/sagemaker/Endpoints';

export interface SageMakerMetric {
  namespace: typeof INVOCATION_NAMESPACE | typeof INSTANCE_NAMESPACE;
  /** Latency and load metrics are microseconds, not milliseconds: the unit trap of MME dashboards. */
  unit: 'None' | 'Microseconds' | 'Percent';
}

const invocation = (unit: SageMakerMetric['unit']): SageMakerMetric => ({ namespace: INVOCATION_NAMESPACE, unit });
const instance = (unit: SageMakerMetric['unit']): SageMakerMetric => ({ namespace: INSTANCE_NAMESPACE, unit });

export const SAGEMAKER_METRICS = {
  Invocations: invocation('None'),
  Invocation4XXErrors: invocation('None'),
  Invocation5XXErrors: invocation('None'),
  ModelCacheHit: invocation('None'),
  ModelLatency: invocation('Microseconds'),
  OverheadLatency: invocation('Microseconds'),
  ModelLoadingWaitTime: invocation('Microseconds'),
  ModelDownloadingTime: invocation('Microseconds'),
  ModelLoadingTime: invocation('Microseconds'),
  ModelUnloadingTime: invocation('Microseconds'),
  LoadedModelCount: instance('None'),
  CPUUtilization: instance('Percent'),
  MemoryUtilization: instance('Percent'),
  DiskUtilization: instance('Percent'),
} as const satisfies Record<string, SageMakerMetric>;

export type MetricName = keyof typeof SAGEMAKER_METRICS;
