import { MetricStore, type Dimension, type Series } from './buckets.js';
import { METRIC_BY_NAME, type MetricName } from './definitions.js';

export type { MetricName } from './definitions.js';

export interface GaugeReading {
  loadedModels: number;
  memoryBytes: number;
  memoryBudget: number;
  diskBytes: number;
  diskBudget: number;
}

export interface MetricsRecorderOptions {
  endpointName: string;
  variantName: string;
  /** Clock in epoch milliseconds (tests pass a fake one). */
  now?: () => number;
  /** How often watch() samples the gauges; every second by default, so that a run of a few seconds shows in them. */
  gaugeIntervalMs?: number;
  /** Raw values kept per metric per minute for percentiles; 1024 by default. */
  samplesPerMinute?: number;
  /** Minutes of history kept; 180 (three hours) by default. */
  retentionMinutes?: number;
}

/**
 * What SageMaker records for a multi-model endpoint, recorded the same way for `mme local`: one sample per call to
 * record(), stored at one-minute resolution under the metric's CloudWatch namespace and unit, with the dimensions
 * EndpointName and VariantName. Read back through the CloudWatch API and /metrics (handleMetricsRequest).
 */
export class MetricsRecorder {
  readonly endpointName: string;
  readonly variantName: string;
  readonly dimensions: readonly Dimension[];
  readonly store: MetricStore;
  readonly now: () => number;
  private readonly gaugeIntervalMs: number;
  private readonly own = new Map<MetricName, Series>();
  private timer?: NodeJS.Timeout;
  private gauges?: () => GaugeReading;
  private cpuMark?: { wall: bigint; usage: NodeJS.CpuUsage };
  /** The latest gauge reading, for Prometheus (bytes as well as percentages). */
  lastReading?: GaugeReading;

  constructor(options: MetricsRecorderOptions) {
    this.endpointName = options.endpointName;
    this.variantName = options.variantName;
    this.now = options.now ?? Date.now;
    this.gaugeIntervalMs = options.gaugeIntervalMs ?? 1000;
    this.dimensions = [
      { Name: 'EndpointName', Value: options.endpointName },
      { Name: 'VariantName', Value: options.variantName },
    ];
    this.store = new MetricStore({
      samplesPerMinute: Math.max(1, Math.floor(options.samplesPerMinute ?? 1024)),
      retentionMinutes: Math.max(1, Math.floor(options.retentionMinutes ?? 180)),
    });
  }

  /** One sample, now. Times are in microseconds, as SageMaker reports them. */
  record(metric: MetricName, value: number): void {
    if (!Number.isFinite(value)) return;
    this.series(metric).add(this.now(), value);
  }

  /** The series of one of this endpoint's metrics, if it has recorded anything. */
  recorded(metric: MetricName): Series | undefined {
    return this.own.get(metric);
  }

  /** Sampled every second (timer unref'd) for the gauges: LoadedModelCount, CPU, Memory, Disk. */
  watch(gauges: () => GaugeReading): void {
    this.stop();
    this.gauges = gauges;
    this.cpuMark = { wall: process.hrtime.bigint(), usage: process.cpuUsage() };
    const tick = () => this.sample(gauges);
    tick();
    this.timer = setInterval(tick, this.gaugeIntervalMs);
    this.timer.unref();
  }

  /** Takes one gauge sample now (watch() calls this on its timer). */
  sample(gauges: () => GaugeReading): void {
    let reading: GaugeReading;
    try {
      reading = gauges();
    } catch {
      return; // a failing gauge must not take the endpoint down; the next tick tries again
    }
    this.lastReading = reading;
    this.record('LoadedModelCount', reading.loadedModels);
    this.record('MemoryUtilization', percent(reading.memoryBytes, reading.memoryBudget));
    this.record('DiskUtilization', percent(reading.diskBytes, reading.diskBudget));
    const cpu = this.cpuPercent();
    if (cpu !== undefined) this.record('CPUUtilization', cpu);
  }

  /** A gauge sample now, if watching: a read of the metrics then sees the endpoint as it is, not as of the last tick. */
  refresh(): void {
    if (this.gauges) this.sample(this.gauges);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** CPU time of this process since the last sample over wall time, in percent of one core (so up to 100 × cores). */
  private cpuPercent(): number | undefined {
    const wall = process.hrtime.bigint();
    const usage = process.cpuUsage();
    const mark = this.cpuMark;
    this.cpuMark = { wall, usage };
    if (!mark) return undefined;
    const elapsedUs = Number(wall - mark.wall) / 1000;
    if (elapsedUs <= 0) return undefined;
    const usedUs = usage.user - mark.usage.user + (usage.system - mark.usage.system);
    return Math.max(0, (usedUs / elapsedUs) * 100);
  }

  private series(metric: MetricName): Series {
    let s = this.own.get(metric);
    if (!s) {
      const def = METRIC_BY_NAME.get(metric);
      if (!def) throw new TypeError(`unknown metric ${JSON.stringify(metric)}`);
      s = this.store.getOrCreate(def.namespace, def.name, this.dimensions, def.unit);
      this.own.set(metric, s);
    }
    return s;
  }
}

function percent(part: number, whole: number): number {
  if (!(whole > 0) || !Number.isFinite(part)) return 0;
  return (Math.max(0, part) / whole) * 100;
}
