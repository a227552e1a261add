/**
 * The CloudWatch operations `mme local` answers, on decoded input documents (the wire layer in wire.ts turns AWS
 * JSON 1.0 and Smithy RPC v2 CBOR into these and back). Behaviour follows CloudWatch where a client can tell:
 * exact dimension sets identify a metric (a partial set finds nothing), StartTime is rounded down to the minute and
 * periods are counted from there, EndTime is exclusive, a Unit that differs from the metric's finds nothing,
 * GetMetricData scans newest first unless told otherwise, and errors use CloudWatch's codes.
 *
 * Not done: metric math (Expression queries are refused with a clear error), periods under one minute (this store
 * keeps one-minute resolution), and the rarer statistics (tm, wm, IQM, PR, TC, TS).
 */
import { Aggregate, MINUTE_MS, type Dimension, type MetricStore, type Series } from './buckets.js';
import { STANDARD_UNITS } from './definitions.js';

const OPERATIONS = ['GetMetricData', 'GetMetricStatistics', 'ListMetrics', 'PutMetricData'] as const;
export type Operation = (typeof OPERATIONS)[number];

export function isOperation(name: string): name is Operation {
  return (OPERATIONS as readonly string[]).includes(name);
}

/** An error in CloudWatch's terms: the Smithy shape name, the awsQuery code SDKs map it back to, the HTTP status. */
export class CloudWatchError extends Error {
  constructor(
    readonly shape: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
    readonly fault: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const invalidValue = (message: string) => new CloudWatchError('InvalidParameterValueException', 'InvalidParameterValue', message);
const missing = (name: string) => new CloudWatchError('MissingRequiredParameterException', 'MissingParameter', `The parameter ${name} is required.`);
const combination = (message: string) => new CloudWatchError('InvalidParameterCombinationException', 'InvalidParameterCombination', message);
// GetMetricData reports bad queries as ValidationError (the awsQuery code of the ValidationException shape).
const validation = (message: string) => new CloudWatchError('ValidationException', 'ValidationError', message);
const invalidToken = () =>
  new CloudWatchError('InvalidNextToken', 'InvalidNextToken', 'The NextToken is invalid or belongs to a different request; start again without it.');

export interface Context {
  store: MetricStore;
  now: number;
}

export function runOperation(op: Operation, input: unknown, ctx: Context): Record<string, unknown> | undefined {
  const doc = input === undefined || input === null ? {} : input;
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new CloudWatchError('SerializationException', 'SerializationException', 'The request body must be an object.');
  const o = doc as Obj;
  switch (op) {
    case 'GetMetricStatistics':
      return getMetricStatistics(o, ctx);
    case 'GetMetricData':
      return getMetricData(o, ctx);
    case 'ListMetrics':
      return listMetrics(o, ctx);
    case 'PutMetricData':
      putMetricData(o, ctx);
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics

const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
type Statistic = (typeof STATISTICS)[number];

type Stat = { kind: 'basic'; name: Statistic } | { kind: 'percentile'; p: number };

function parseStat(text: string): Stat | undefined {
  if ((STATISTICS as readonly string[]).includes(text)) return { kind: 'basic', name: text as Statistic };
  const m = /^[pP](\d{1,3}(?:\.\d{1,10})?)$/.exec(text);
  if (m) {
    const p = Number(m[1]);
    if (p >= 0 && p <= 100) return { kind: 'percentile', p };
  }
  return undefined;
}

function statValue(agg: Aggregate, stat: Stat): number | undefined {
  if (stat.kind === 'percentile') return agg.percentile(stat.p);
  switch (stat.name) {
    case 'SampleCount':
      return agg.count;
    case 'Average':
      return agg.average;
    case 'Sum':
      return agg.sum;
    case 'Minimum':
      return agg.min;
    case 'Maximum':
      return agg.max;
  }
}

const STAT_HELP = 'use SampleCount, Average, Sum, Minimum, Maximum or a percentile such as p50, p99 or p99.9';

// ---------------------------------------------------------------------------------------------------------------
// Periods

interface Window {
  startMs: number;
  endMs: number;
  periodMs: number;
}

/** CloudWatch rounds a recent StartTime down to the minute; periods are counted from there. */
function window(startMs: number, endMs: number, periodSeconds: number): Window {
  return { startMs: Math.floor(startMs / MINUTE_MS) * MINUTE_MS, endMs, periodMs: periodSeconds * 1000 };
}

function periodCount(w: Window): number {
  return Math.max(0, Math.ceil((w.endMs - w.startMs) / w.periodMs));
}

/** The periods of the window that hold data, oldest first, each with its minutes merged. */
function periods(series: Series, w: Window): Array<{ startMs: number; agg: Aggregate }> {
  const fromMinute = w.startMs / MINUTE_MS;
  const toMinute = Math.ceil(w.endMs / MINUTE_MS); // a minute counts when it starts before EndTime
  const out: Array<{ startMs: number; agg: Aggregate }> = [];
  let current: { startMs: number; agg: Aggregate } | undefined;
  for (const [minute, bucket] of series.range(fromMinute, toMinute)) {
    if (bucket.count === 0) continue;
    const index = Math.floor((minute * MINUTE_MS - w.startMs) / w.periodMs);
    const startMs = w.startMs + index * w.periodMs;
    if (!current || current.startMs !== startMs) {
      current = { startMs, agg: new Aggregate() };
      out.push(current);
    }
    current.agg.add(bucket);
  }
  return out;
}

/** The oldest minute the store still keeps (the retention window ends with the current minute). */
function oldestKeptMinute(ctx: Context): number {
  return Math.floor(ctx.now / MINUTE_MS) - ctx.store.options.retentionMinutes + 1;
}

function findSeries(ctx: Context, namespace: string, metricName: string, dimensions: Dimension[], unit: string | undefined): Series | undefined {
  const series = ctx.store.get(namespace, metricName, dimensions);
  if (!series || (unit !== undefined && unit !== series.unit)) return undefined;
  return series;
}

// ---------------------------------------------------------------------------------------------------------------
// GetMetricStatistics

const MAX_STATISTICS_DATAPOINTS = 1440;

function getMetricStatistics(o: Obj, ctx: Context): Record<string, unknown> {
  const namespace = requiredString(o, 'Namespace', invalidValue);
  const metricName = requiredString(o, 'MetricName', invalidValue);
  const dimensions = parseDimensions(o.Dimensions, 'Dimensions', invalidValue);
  const startMs = requiredTime(o, 'StartTime', invalidValue);
  const endMs = requiredTime(o, 'EndTime', invalidValue);
  const period = requiredPeriod(o.Period, 'Period', invalidValue);
  const unit = optionalUnit(o.Unit, 'Unit', invalidValue);
  const statistics = optionalStringList(o.Statistics, 'Statistics', invalidValue);
  const extended = optionalStringList(o.ExtendedStatistics, 'ExtendedStatistics', invalidValue);
  if (!statistics?.length && !extended?.length) throw missing('Statistics or ExtendedStatistics');
  if (statistics?.length && extended?.length) throw combination('Must specify either Statistics or ExtendedStatistics, but not both.');
  if (startMs >= endMs) throw invalidValue('The parameter StartTime must be less than the parameter EndTime.');
  if ((statistics?.length ?? 0) > 5) throw invalidValue('The collection Statistics must not have more than 5 members.');
  if ((extended?.length ?? 0) > 10) throw invalidValue('The collection ExtendedStatistics must not have more than 10 members.');
  const basic = (statistics ?? []).map((s) => {
    if (!(STATISTICS as readonly string[]).includes(s))
      throw invalidValue(
        `The value ${s} for parameter Statistics is not valid: use SampleCount, Average, Sum, Minimum or Maximum (percentiles go in ExtendedStatistics).`,
      );
    return s as Statistic;
  });
  const percentiles = (extended ?? []).map((s) => {
    const stat = parseStat(s);
    if (stat?.kind !== 'percentile')
      throw invalidValue(
        `The value ${s} for parameter ExtendedStatistics is not supported by mme local: use a percentile from p0 to p100, such as p99 or p99.9.`,
      );
    return { key: s, p: stat.p };
  });

  const w = window(startMs, endMs, period);
  const requested = periodCount(w);
  if (requested > MAX_STATISTICS_DATAPOINTS) {
    throw combination(
      `You have requested up to ${requested} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  }
  const series = findSeries(ctx, namespace, metricName, dimensions, unit);
  const datapoints = (series ? periods(series, w) : []).map(({ startMs: t, agg }) => {
    const point: Record<string, unknown> = { Timestamp: new Date(t) };
    for (const s of basic) point[s] = statValue(agg, { kind: 'basic', name: s });
    if (percentiles.length) {
      const values: Record<string, number> = {};
      for (const { key, p } of percentiles) {
        const v = agg.percentile(p);
        if (v !== undefined) values[key] = v;
      }
      point.ExtendedStatistics = values;
    }
    point.Unit = series!.unit;
    return point;
  });
  return { Label: metricName, Datapoints: datapoints };
}

// ---------------------------------------------------------------------------------------------------------------
// GetMetricData

const MAX_QUERIES = 500;
const DEFAULT_MAX_DATAPOINTS = 100_800;

interface QueryResult {
  id: string;
  label: string;
  points: Array<[number, number]>;
}

function getMetricData(o: Obj, ctx: Context): Record<string, unknown> {
  const queries = o.MetricDataQueries;
  if (queries === undefined || queries === null) throw missing('MetricDataQueries');
  if (!Array.isArray(queries) || queries.length === 0) throw validation('The parameter MetricDataQueries must hold at least one query.');
  if (queries.length > MAX_QUERIES) throw validation(`The parameter MetricDataQueries must not hold more than ${MAX_QUERIES} queries.`);
  const startMs = requiredTime(o, 'StartTime', validation);
  const endMs = requiredTime(o, 'EndTime', validation);
  if (startMs >= endMs) throw validation('The parameter StartTime must be less than the parameter EndTime.');
  const scanBy = o.ScanBy ?? 'TimestampDescending';
  if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
    throw validation(`The value ${String(scanBy)} for parameter ScanBy is not valid: use TimestampDescending or TimestampAscending.`);
  }
  let maxDatapoints = DEFAULT_MAX_DATAPOINTS;
  if (o.MaxDatapoints !== undefined && o.MaxDatapoints !== null) {
    if (!Number.isInteger(o.MaxDatapoints) || (o.MaxDatapoints as number) < 1) throw validation('The parameter MaxDatapoints must be a positive integer.');
    maxDatapoints = o.MaxDatapoints as number;
  }

  const ids = new Set<string>();
  const results: QueryResult[] = [];
  queries.forEach((raw, i) => {
    const where = `MetricDataQueries.member.${i + 1}`;
    const q = asObject(raw, where, validation);
    const id = requiredString(q, 'Id', validation, `${where}.Id`);
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
      throw validation(
        `The value ${id} for parameter ${where}.Id is not valid: an Id starts with a lowercase letter and holds only letters, digits and underscores.`,
      );
    if (ids.has(id)) throw validation(`The value ${id} for parameter ${where}.Id is used by another query; every Id must be unique.`);
    ids.add(id);
    if (q.Expression !== undefined && q.Expression !== null) {
      if (q.MetricStat !== undefined && q.MetricStat !== null) throw validation(`The query ${id} has both MetricStat and Expression; give exactly one.`);
      throw validation(
        `Error in expression '${id}': mme local does not evaluate metric math. Query the metrics with MetricStat and combine the values in your own code.`,
      );
    }
    if (q.MetricStat === undefined || q.MetricStat === null) throw validation(`The query ${id} needs a MetricStat (or, on AWS, an Expression).`);
    const ms = asObject(q.MetricStat, `${where}.MetricStat`, validation);
    const metric = asObject(ms.Metric, `${where}.MetricStat.Metric`, validation, true);
    const namespace = requiredString(metric, 'Namespace', validation, `${where}.MetricStat.Metric.Namespace`);
    const metricName = requiredString(metric, 'MetricName', validation, `${where}.MetricStat.Metric.MetricName`);
    const dimensions = parseDimensions(metric.Dimensions, `${where}.MetricStat.Metric.Dimensions`, validation);
    const period = requiredPeriod(ms.Period, `${where}.MetricStat.Period`, validation);
    const statText = requiredString(ms, 'Stat', validation, `${where}.MetricStat.Stat`);
    const stat = parseStat(statText);
    if (!stat) throw validation(`The value ${statText} for parameter ${where}.MetricStat.Stat is not supported by mme local: ${STAT_HELP}.`);
    const unit = optionalUnit(ms.Unit, `${where}.MetricStat.Unit`, validation);
    const returnData = q.ReturnData === undefined || q.ReturnData === null ? true : q.ReturnData === true;
    const label = typeof q.Label === 'string' && q.Label !== '' ? q.Label : metricName;
    if (!returnData) return;

    const series = findSeries(ctx, namespace, metricName, dimensions, unit);
    const points: Array<[number, number]> = [];
    for (const { startMs: t, agg } of series ? periods(series, window(startMs, endMs, period)) : []) {
      const v = statValue(agg, stat);
      if (v !== undefined) points.push([t, v]);
    }
    if (scanBy === 'TimestampDescending') points.reverse();
    results.push({ id, label, points });
  });

  const fingerprint = hash(JSON.stringify([queries, startMs, endMs, scanBy]));
  const offset = o.NextToken === undefined || o.NextToken === null ? 0 : readToken(o.NextToken, fingerprint);
  const total = results.reduce((n, r) => n + r.points.length, 0);
  if (offset > total) throw invalidToken();
  const end = Math.min(total, offset + maxDatapoints);

  let seen = 0;
  const out = results.map((r) => {
    const from = Math.max(0, offset - seen);
    const to = Math.max(0, Math.min(r.points.length, end - seen));
    seen += r.points.length;
    const page = from < to ? r.points.slice(from, to) : [];
    return {
      Id: r.id,
      Label: r.label,
      Timestamps: page.map(([t]) => new Date(t)),
      Values: page.map(([, v]) => v),
      StatusCode: to < r.points.length ? 'PartialData' : 'Complete',
      Messages: [],
    };
  });
  const response: Record<string, unknown> = { MetricDataResults: out, Messages: [] };
  if (end < total) response.NextToken = makeToken(end, fingerprint);
  return response;
}

// ---------------------------------------------------------------------------------------------------------------
// ListMetrics

const LIST_PAGE = 500;

function listMetrics(o: Obj, ctx: Context): Record<string, unknown> {
  const namespace = optionalString(o.Namespace, 'Namespace', invalidValue);
  const metricName = optionalString(o.MetricName, 'MetricName', invalidValue);
  const filters: Array<{ name: string; value?: string }> = [];
  if (o.Dimensions !== undefined && o.Dimensions !== null) {
    if (!Array.isArray(o.Dimensions)) throw invalidValue('The parameter Dimensions must be a list of {Name, Value?} filters.');
    if (o.Dimensions.length > 10) throw invalidValue('The collection Dimensions must not have more than 10 members.');
    o.Dimensions.forEach((raw, i) => {
      const f = asObject(raw, `Dimensions.member.${i + 1}`, invalidValue);
      const name = requiredString(f, 'Name', invalidValue, `Dimensions.member.${i + 1}.Name`);
      const value = optionalString(f.Value, `Dimensions.member.${i + 1}.Value`, invalidValue);
      filters.push({ name, value });
    });
  }
  const sinceMinute = oldestKeptMinute(ctx);
  const metrics = ctx.store
    .all()
    .filter((s) => (namespace === undefined || s.namespace === namespace) && (metricName === undefined || s.metricName === metricName))
    .filter((s) => filters.every((f) => s.dimensions.some((d) => d.Name === f.name && (f.value === undefined || d.Value === f.value))))
    .filter((s) => s.hasDataSince(sinceMinute))
    .map((s) => ({ Namespace: s.namespace, MetricName: s.metricName, Dimensions: s.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })) }))
    .sort(
      (a, b) => compare(a.Namespace, b.Namespace) || compare(a.MetricName, b.MetricName) || compare(JSON.stringify(a.Dimensions), JSON.stringify(b.Dimensions)),
    );

  const fingerprint = hash(JSON.stringify([namespace, metricName, filters]));
  const offset = o.NextToken === undefined || o.NextToken === null ? 0 : readToken(o.NextToken, fingerprint);
  const page = metrics.slice(offset, offset + LIST_PAGE);
  const response: Record<string, unknown> = { Metrics: page };
  if (offset + LIST_PAGE < metrics.length) response.NextToken = makeToken(offset + LIST_PAGE, fingerprint);
  return response;
}

// ---------------------------------------------------------------------------------------------------------------
// PutMetricData (custom namespaces, as CloudWatch: "AWS/" is reserved for AWS's own metrics)

const MAX_SERIES = 10_000;
const MAX_OBSERVATIONS_PER_CALL = 100_000;
const FUTURE_LIMIT_MS = 2 * 60 * MINUTE_MS;

function putMetricData(o: Obj, ctx: Context): void {
  const namespace = requiredString(o, 'Namespace', invalidValue);
  if (namespace.startsWith('AWS/') || namespace.startsWith(':'))
    throw invalidValue(`The value ${namespace} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS metrics.`);
  const items = [...(listOrEmpty(o.MetricData, 'MetricData') as unknown[])];
  for (const entity of listOrEmpty(o.EntityMetricData, 'EntityMetricData')) {
    items.push(...listOrEmpty(asObject(entity, 'EntityMetricData.member', invalidValue).MetricData, 'EntityMetricData.member.MetricData'));
  }
  if (items.length === 0) throw missing('MetricData');
  if (items.length > 1000) throw invalidValue('The collection MetricData must not have more than 1000 members.');

  const oldestMs = oldestKeptMinute(ctx) * MINUTE_MS;
  const writes: Array<() => void> = [];
  let observations = 0;
  items.forEach((raw, i) => {
    const where = `MetricData.member.${i + 1}`;
    const d = asObject(raw, where, invalidValue);
    const name = requiredString(d, 'MetricName', invalidValue, `${where}.MetricName`);
    const dimensions = parseDimensions(d.Dimensions, `${where}.Dimensions`, invalidValue);
    const unit = optionalUnit(d.Unit, `${where}.Unit`, invalidValue) ?? 'None';
    const t = d.Timestamp === undefined || d.Timestamp === null ? ctx.now : time(d.Timestamp, `${where}.Timestamp`, invalidValue);
    if (t < oldestMs)
      throw invalidValue(`The parameter ${where}.Timestamp is older than the ${ctx.store.options.retentionMinutes} minutes of data mme local keeps.`);
    if (t > ctx.now + FUTURE_LIMIT_MS) throw invalidValue(`The parameter ${where}.Timestamp must not be more than two hours in the future.`);
    const given = ['Value', 'Values', 'StatisticValues'].filter((k) => d[k] !== undefined && d[k] !== null);
    if (given.length !== 1)
      throw combination(`The parameters ${where}.Value, ${where}.Values and ${where}.StatisticValues are mutually exclusive, and one of them is required.`);
    const target = () => ctx.store.getOrCreate(namespace, name, dimensions, unit);
    if (!ctx.store.get(namespace, name, dimensions) && ctx.store.size >= MAX_SERIES) {
      throw invalidValue(`mme local keeps at most ${MAX_SERIES} metrics; restart it to start afresh.`);
    }
    if (given[0] === 'Value') {
      const v = number(d.Value, `${where}.Value`);
      observations++;
      writes.push(() => target().add(t, v));
    } else if (given[0] === 'Values') {
      if (!Array.isArray(d.Values)) throw invalidValue(`The parameter ${where}.Values must be a list of numbers.`);
      if (d.Values.length > 150) throw invalidValue(`The collection ${where}.Values must not have more than 150 members.`);
      const values = d.Values.map((v, j) => number(v, `${where}.Values.member.${j + 1}`));
      let counts: number[] | undefined;
      if (d.Counts !== undefined && d.Counts !== null) {
        if (!Array.isArray(d.Counts) || d.Counts.length !== values.length)
          throw combination(`The parameters ${where}.Values and ${where}.Counts must have the same number of members.`);
        counts = d.Counts.map((c, j) => {
          const n = number(c, `${where}.Counts.member.${j + 1}`);
          if (!Number.isInteger(n) || n < 0)
            throw invalidValue(`The value ${n} for parameter ${where}.Counts.member.${j + 1} must be a whole number of observations for mme local.`);
          return n;
        });
      }
      values.forEach((v, j) => {
        const c = counts ? counts[j] : 1;
        if (c === 0) return;
        observations += c;
        writes.push(() => (c === 1 ? target().add(t, v) : target().addSet(t, c, v * c, v, v)));
      });
    } else {
      const s = asObject(d.StatisticValues, `${where}.StatisticValues`, invalidValue);
      const count = number(s.SampleCount, `${where}.StatisticValues.SampleCount`);
      const sum = number(s.Sum, `${where}.StatisticValues.Sum`);
      const min = number(s.Minimum, `${where}.StatisticValues.Minimum`);
      const max = number(s.Maximum, `${where}.StatisticValues.Maximum`);
      if (!(count > 0) || min > max) throw invalidValue(`The parameter ${where}.StatisticValues must have SampleCount > 0 and Minimum <= Maximum.`);
      if (Number.isInteger(count) && (count === 1 || min === max)) observations += count;
      writes.push(() => target().addSet(t, count, sum, min, max));
    }
  });
  if (observations > MAX_OBSERVATIONS_PER_CALL)
    throw invalidValue(`mme local takes at most ${MAX_OBSERVATIONS_PER_CALL} observations per PutMetricData call; send fewer Counts.`);
  // Validated as a whole first, so that a bad item stores nothing (CloudWatch rejects the whole call too).
  for (const write of writes) write();
}

// ---------------------------------------------------------------------------------------------------------------
// Input helpers: the decoded document is untrusted; each check names the parameter the way CloudWatch does.

type Obj = Record<string, unknown>;
type ErrorMaker = (message: string) => CloudWatchError;

function asObject(v: unknown, name: string, err: ErrorMaker, required = true): Obj {
  if (v === undefined || v === null) {
    if (required) throw err(`The parameter ${name} is required.`);
    return {};
  }
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date) throw err(`The parameter ${name} must be a structure.`);
  return v as Obj;
}

function requiredString(o: Obj, key: string, err: ErrorMaker, name = key): string {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    throw err === invalidValue ? missing(name) : err(`The parameter ${name} is required.`);
  }
  if (typeof v !== 'string') throw err(`The parameter ${name} must be a string.`);
  return v;
}

function optionalString(v: unknown, name: string, err: ErrorMaker): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw err(`The parameter ${name} must be a non-empty string.`);
  return v;
}

function optionalStringList(v: unknown, name: string, err: ErrorMaker): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw err(`The parameter ${name} must be a list of strings.`);
  return v as string[];
}

function listOrEmpty(v: unknown, name: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidValue(`The parameter ${name} must be a list.`);
  return v;
}

function number(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidValue(`The parameter ${name} must be a finite number.`);
  return v;
}

function parseDimensions(v: unknown, name: string, err: ErrorMaker): Dimension[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw err(`The parameter ${name} must be a list of {Name, Value} pairs.`);
  if (v.length > 30) throw err(`The collection ${name} must not have more than 30 members.`);
  const seen = new Set<string>();
  return v.map((raw, i) => {
    const where = `${name}.member.${i + 1}`;
    const d = asObject(raw, where, err);
    const n = d.Name;
    const value = d.Value;
    if (typeof n !== 'string' || n === '') throw err(`The parameter ${where}.Name is required.`);
    if (typeof value !== 'string' || value === '') throw err(`The parameter ${where}.Value is required.`);
    if (seen.has(n)) throw err(`The dimension ${n} appears twice in ${name}.`);
    seen.add(n);
    return { Name: n, Value: value };
  });
}

function requiredPeriod(v: unknown, name: string, err: ErrorMaker): number {
  if (v === undefined || v === null) throw err === invalidValue ? missing(name) : err(`The parameter ${name} is required.`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw err(`The parameter ${name} must be a positive whole number of seconds.`);
  if (v % 60 !== 0)
    throw err(`The parameter ${name} must be a multiple of 60: mme local keeps one-minute resolution, as CloudWatch does for SageMaker metrics.`);
  return v;
}

function optionalUnit(v: unknown, name: string, err: ErrorMaker): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !STANDARD_UNITS.has(v))
    throw err(`The value ${String(v)} for parameter ${name} is not a CloudWatch unit (for example Microseconds, Percent, Count or None).`);
  return v;
}

function requiredTime(o: Obj, key: string, err: ErrorMaker): number {
  const v = o[key];
  if (v === undefined || v === null) throw err === invalidValue ? missing(key) : err(`The parameter ${key} is required.`);
  return time(v, key, err);
}

/** Timestamps arrive as epoch seconds (AWS JSON), Dates (CBOR tag 1, decoded) or, from hand-written JSON, ISO text. */
function time(v: unknown, name: string, err: ErrorMaker): number {
  let ms = NaN;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'number') ms = v * 1000;
  else if (typeof v === 'string') ms = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) throw err(`The parameter ${name} must be a timestamp (epoch seconds or ISO 8601).`);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
// Paging tokens: an offset bound to the request it came from.

function makeToken(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fingerprint })).toString('base64url');
}

function readToken(v: unknown, fingerprint: string): number {
  if (typeof v !== 'string') throw invalidToken();
  try {
    const t = JSON.parse(Buffer.from(v, 'base64url').toString('utf8')) as { o?: unknown; f?: unknown };
    if (t.f === fingerprint && Number.isInteger(t.o) && (t.o as number) >= 0) return t.o as number;
  } catch {
    /* fall through */
  }
  throw invalidToken();
}

/** FNV-1a, enough to tell one request's token from another's. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
