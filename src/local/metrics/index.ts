/**
 * Metrics of `mme local`: the recorder the endpoint feeds, and the readers (CloudWatch API in AWS JSON 1.0 and
 * Smithy RPC v2 CBOR, Prometheus text on GET /metrics) mounted with handleMetricsRequest.
 */
export { MetricsRecorder, type MetricName, type GaugeReading, type MetricsRecorderOptions } from './recorder.js';
export { handleMetricsRequest } from './wire.js';
export { METRICS } from './definitions.js';
