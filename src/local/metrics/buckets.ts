/**
 * Metric storage at CloudWatch's standard resolution: one bucket per series per minute, holding the exact statistic
 * set (SampleCount, Sum, Minimum, Maximum) and a bounded, uniform random sample of the raw values for percentiles.
 *
 * Why a sample and not every value: at thousands of requests per second, three hours of raw latencies would not fit
 * a small budget. Each minute keeps every value while there are at most `cap` of them (so percentiles are exact at
 * low rates) and a reservoir of `cap` values beyond that (Li's Algorithm L: each value of the minute is equally
 * likely to be kept, and the cost per value is a counter increment unless it is kept). When minutes are merged into
 * a longer period, each kept value stands for offered/kept values of its own minute, so busy minutes weigh what
 * they should.
 */

export const MINUTE_MS = 60_000;

export interface Dimension {
  Name: string;
  Value: string;
}

export class MinuteBucket {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Kept values: the first `kept` entries of `values`. */
  values: Float64Array;
  kept = 0;
  /** Number of values offered to the sample (equals `count` unless statistic sets were stored). */
  offered = 0;
  /** CloudWatch gives no percentiles for negative values or for statistic sets it cannot expand. */
  percentilesAvailable = true;
  /** Whether values[0..kept) is in ascending order; the sample's order carries no meaning, so queries sort it in place. */
  private isSorted = true;
  // Algorithm L state: the 1-based index of the next offered value that enters the reservoir, and its weight W.
  private nextAccepted = 0;
  private w = 0;

  constructor(private readonly cap: number) {
    this.values = new Float64Array(Math.min(cap, 16));
  }

  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.offer(value, 1);
  }

  /**
   * A pre-aggregated statistic set (PutMetricData StatisticValues, or Values with Counts). As in CloudWatch, it can
   * feed percentiles only when all its values are known to be equal (one sample, or Minimum = Maximum).
   */
  addSet(count: number, sum: number, min: number, max: number): void {
    this.count += count;
    this.sum += sum;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
    if ((count === 1 || min === max) && Number.isInteger(count) && count > 0) this.offer(min, count);
    else this.percentilesAvailable = false;
  }

  /** Offers `times` copies of `value` to the sample. */
  private offer(value: number, times: number): void {
    if (value < 0) this.percentilesAvailable = false;
    const cap = this.cap;
    let remaining = times;
    while (remaining > 0 && this.kept < cap) {
      if (this.kept === this.values.length) this.grow();
      this.values[this.kept++] = value;
      this.isSorted = false;
      this.offered++;
      remaining--;
      if (this.kept === cap) this.startSkipping();
    }
    if (remaining === 0) return;
    const last = this.offered + remaining;
    while (this.nextAccepted <= last) {
      this.values[Math.floor(Math.random() * cap)] = value;
      this.isSorted = false;
      this.advance();
    }
    this.offered = last;
  }

  /** The kept values in ascending order (a view, valid until the next add). Finished minutes are sorted once. */
  sortedValues(): Float64Array {
    const view = this.values.subarray(0, this.kept);
    if (!this.isSorted) {
      view.sort();
      this.isSorted = true;
    }
    return view;
  }

  private startSkipping(): void {
    this.w = Math.exp(Math.log(random()) / this.cap);
    this.nextAccepted = this.offered;
    this.advance();
  }

  private advance(): void {
    this.nextAccepted += Math.floor(Math.log(random()) / Math.log(1 - this.w)) + 1;
    this.w *= Math.exp(Math.log(random()) / this.cap);
  }

  private grow(): void {
    const bigger = new Float64Array(Math.min(this.cap, this.values.length * 2));
    bigger.set(this.values);
    this.values = bigger;
  }
}

/** Math.random() can return 0, whose logarithm would break the skip arithmetic. */
function random(): number {
  let r = Math.random();
  while (r === 0) r = Math.random();
  return r;
}

/** Statistics of one period: the minute buckets it spans, merged. */
export class Aggregate {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private percentilesAvailable = true;
  private parts: MinuteBucket[] = [];
  private sorted?: { values: Float64Array; cumulative: Float64Array };

  add(bucket: MinuteBucket): void {
    this.count += bucket.count;
    this.sum += bucket.sum;
    if (bucket.min < this.min) this.min = bucket.min;
    if (bucket.max > this.max) this.max = bucket.max;
    if (!bucket.percentilesAvailable) this.percentilesAvailable = false;
    this.parts.push(bucket);
    this.sorted = undefined;
  }

  get average(): number {
    return this.sum / this.count;
  }

  /**
   * The p-th percentile (0..100) by nearest rank over the weighted sample: the smallest kept value whose cumulative
   * weight reaches p% of the total. Exact whenever every minute kept all its values. Undefined when percentiles are
   * not available (as CloudWatch: negative values, mixed statistic sets) or there is no data.
   */
  percentile(p: number): number | undefined {
    if (!this.percentilesAvailable || this.count === 0) return undefined;
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    const { values, cumulative } = (this.sorted ??= this.sort());
    if (values.length === 0) return undefined;
    const total = cumulative[cumulative.length - 1];
    const target = (p / 100) * total;
    // Guard against float error in the weights: a target within a hair of a boundary belongs to that boundary.
    const eps = total * 1e-12;
    let lo = 0;
    let hi = values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] + eps >= target) hi = mid;
      else lo = mid + 1;
    }
    return values[lo];
  }

  /**
   * All kept values in order with their cumulative weights. Each minute's values share one weight, so each minute is
   * sorted on its own (in place, once) and the sorted runs are merged pairwise.
   */
  private sort(): { values: Float64Array; cumulative: Float64Array } {
    let runs: Run[] = this.parts
      .filter((b) => b.kept > 0)
      .map((b) => {
        const values = b.sortedValues();
        return { values, weights: new Float64Array(b.kept).fill(b.offered / b.kept) };
      });
    if (runs.length === 0) return { values: new Float64Array(0), cumulative: new Float64Array(0) };
    while (runs.length > 1) {
      const merged: Run[] = [];
      for (let i = 0; i < runs.length; i += 2) merged.push(i + 1 < runs.length ? mergeRuns(runs[i], runs[i + 1]) : runs[i]);
      runs = merged;
    }
    const { values, weights } = runs[0];
    const cumulative = new Float64Array(values.length);
    let acc = 0;
    for (let k = 0; k < values.length; k++) cumulative[k] = acc += weights[k];
    return { values, cumulative };
  }
}

interface Run {
  values: Float64Array;
  weights: Float64Array;
}

function mergeRuns(a: Run, b: Run): Run {
  const n = a.values.length + b.values.length;
  const values = new Float64Array(n);
  const weights = new Float64Array(n);
  let i = 0;
  let j = 0;
  for (let k = 0; k < n; k++) {
    if (j >= b.values.length || (i < a.values.length && a.values[i] <= b.values[j])) {
      values[k] = a.values[i];
      weights[k] = a.weights[i++];
    } else {
      values[k] = b.values[j];
      weights[k] = b.weights[j++];
    }
  }
  return { values, weights };
}

/** One metric: a namespace, a name and a set of dimensions, with its minute buckets. */
export class Series {
  readonly key: string;
  private readonly buckets = new Map<number, MinuteBucket>();
  private currentMinute = -1;
  private current?: MinuteBucket;
  /** Since the series began, never pruned (Prometheus counters must not go down). */
  totalCount = 0;
  totalSum = 0;
  lastValue = NaN;
  lastTime = 0;

  constructor(
    readonly namespace: string,
    readonly metricName: string,
    readonly dimensions: readonly Dimension[],
    readonly unit: string,
    private readonly cap: number,
    private readonly retentionMinutes: number,
  ) {
    this.key = seriesKey(namespace, metricName, dimensions);
  }

  add(timeMs: number, value: number): void {
    this.bucket(Math.floor(timeMs / MINUTE_MS)).add(value);
    this.totalCount++;
    this.totalSum += value;
    if (timeMs >= this.lastTime) {
      this.lastTime = timeMs;
      this.lastValue = value;
    }
  }

  addSet(timeMs: number, count: number, sum: number, min: number, max: number): void {
    this.bucket(Math.floor(timeMs / MINUTE_MS)).addSet(count, sum, min, max);
    this.totalCount += count;
    this.totalSum += sum;
  }

  /** Buckets of minutes in [fromMinute, toMinute), oldest first. */
  range(fromMinute: number, toMinute: number): Array<[number, MinuteBucket]> {
    const out: Array<[number, MinuteBucket]> = [];
    for (const entry of this.buckets) if (entry[0] >= fromMinute && entry[0] < toMinute) out.push(entry);
    return out.sort((a, b) => a[0] - b[0]);
  }

  /** Whether any minute at or after `sinceMinute` holds data. */
  hasDataSince(sinceMinute: number): boolean {
    for (const minute of this.buckets.keys()) if (minute >= sinceMinute) return true;
    return false;
  }

  private bucket(minute: number): MinuteBucket {
    if (minute === this.currentMinute && this.current) return this.current;
    let bucket = this.buckets.get(minute);
    if (!bucket) {
      bucket = new MinuteBucket(this.cap);
      this.buckets.set(minute, bucket);
      this.prune(minute);
    }
    if (minute >= this.currentMinute) {
      this.currentMinute = minute;
      this.current = bucket;
    }
    return bucket;
  }

  /** Keeps memory bounded: minutes older than the retention window behind the newest one are dropped. */
  private prune(newest: number): void {
    const oldest = Math.max(newest, this.currentMinute) - this.retentionMinutes;
    for (const minute of this.buckets.keys()) if (minute <= oldest) this.buckets.delete(minute);
  }
}

function seriesKey(namespace: string, metricName: string, dimensions: readonly Dimension[]): string {
  const dims = dimensions.map((d) => `${d.Name}\u0001${d.Value}`).sort();
  return [namespace, metricName, ...dims].join('\u0000');
}

export interface StoreOptions {
  /** Raw values kept per series per minute for percentiles. */
  samplesPerMinute: number;
  /** Minutes of history kept. */
  retentionMinutes: number;
}

/** Every series of one endpoint, found by identity (namespace, name, exact dimension set). */
export class MetricStore {
  private readonly series = new Map<string, Series>();

  constructor(readonly options: StoreOptions) {}

  get(namespace: string, metricName: string, dimensions: readonly Dimension[]): Series | undefined {
    return this.series.get(seriesKey(namespace, metricName, dimensions));
  }

  getOrCreate(namespace: string, metricName: string, dimensions: readonly Dimension[], unit: string): Series {
    const key = seriesKey(namespace, metricName, dimensions);
    let s = this.series.get(key);
    if (!s) {
      s = new Series(namespace, metricName, dimensions, unit, this.options.samplesPerMinute, this.options.retentionMinutes);
      this.series.set(key, s);
    }
    return s;
  }

  all(): Series[] {
    return [...this.series.values()];
  }

  /** How many series there are (without copying them, as all() does). */
  get size(): number {
    return this.series.size;
  }
}
