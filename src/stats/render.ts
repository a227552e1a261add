/**
 * The four outputs of `mme stats`. All of them list fleets in the order given (sorted by name upstream) and metrics
 * in catalog order, so the same data always prints the same bytes.
 */
import { formatDate, renderTable } from '../output/format.js';
import { METRIC_BY_NAME, METRICS, UNIT_OF_KIND, type MetricSpec } from './catalog.js';
import type { Finding } from './diagnose.js';
import type { Check } from './expr.js';
import { round, type FleetStats, type Values } from './model.js';
import { escapeHelp, escapeLabel, promNumber } from '../util/prometheus-text.js';
import { formatSeconds, isoTime, type Window } from './window.js';

export interface Report {
  window: Window;
  series: boolean;
  fleets: FleetStats[];
  diagnosis: Finding[][];
  checks: Check[];
  skipped: { fleet: string; reason: string }[];
  warnings: string[];
  requests: number;
  queries: number;
}

export const displayName = (f: FleetStats): string => f.target.fleet ?? f.target.endpoint;
const where = (f: FleetStats): string => `${f.target.endpoint}/${f.target.variant}`;

// ---- values for people -------------------------------------------------------------------------------------------

export function formatValue(spec: MetricSpec, v: number | null): string {
  if (v === null) return 'no data';
  switch (spec.kind) {
    case 'ratio':
      return `${(v * 100).toFixed(1)}%`;
    case 'percent':
      return `${v.toFixed(1)}%`;
    case 'duration':
      return formatMs(v);
    case 'models':
      return Number.isInteger(v) ? String(v) : v.toFixed(1);
    default:
      return Number.isInteger(v) ? groupThousands(v) : v.toFixed(2);
  }
}

export function formatMs(v: number): string {
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  if (v >= 1) return `${v.toFixed(2)} ms`;
  return `${v.toFixed(3)} ms`;
}

const groupThousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** A time for people, to the minute when the seconds are zero: "2026-11-22 01:00Z". */
const minuteTime = (d: Date) => formatDate(d).replace(/:00Z$/, 'Z');

const windowLine = (w: Window) => `window ${minuteTime(w.start)} to ${minuteTime(w.end)} (${formatSeconds(w.seconds)})`;

// ---- table -------------------------------------------------------------------------------------------------------

/**
 * Summary: one row per metric, one column per fleet. On a terminal the window line heads the table and the diagnosis
 * follows it; in a pipe stdout gets only the rows (with a header row, since columns are fleets) and the rest goes to
 * `aside` (stderr).
 */
export function renderSummaryTable(r: Report, tty: boolean, aside: (line: string) => void): string {
  const head = ['metric', ...r.fleets.map(displayName)];
  const rows: string[][] = [
    ['endpoint', ...r.fleets.map(where)],
    ...METRICS.map((spec) => [spec.name, ...r.fleets.map((f) => formatValue(spec, f.summary[spec.name]))]),
  ];
  const table = renderTable(head, tty ? rows : [head, ...rows], tty);
  const notes = diagnosisLines(r);
  if (!tty) {
    aside(windowLine(r.window));
    notes.forEach(aside);
    return table;
  }
  return [windowLine(r.window), '', table, '', ...notes].join('\n');
}

/** The columns a --series table shows (CSV and JSON carry every metric). */
export const SERIES_COLUMNS = [
  'requests',
  'cache-hit',
  'load-wait-avg',
  'load-wait-p99',
  'unloads',
  'loaded-models',
  'invocations',
  'latency-avg',
  'latency-p99',
  'errors-4xx',
  'errors-5xx',
  'cpu',
  'memory',
  'disk',
];

export function renderSeriesTable(r: Report, tty: boolean, aside: (line: string) => void): string {
  const specs = SERIES_COLUMNS.map((n) => METRIC_BY_NAME.get(n) as MetricSpec);
  const cells = (values: Values) => specs.map((s) => formatValue(s, values[s.name]));
  if (!tty) {
    aside(`${windowLine(r.window)}, one row per ${formatSeconds(r.window.period)}`);
    diagnosisLines(r).forEach(aside);
    const head = ['fleet', 'time', ...specs.map((s) => s.name)];
    const rows = r.fleets.flatMap((f) => (f.series ?? []).map((row) => [displayName(f), minuteTime(row.timestamp), ...cells(row.values)]));
    return renderTable(head, [head, ...rows], false);
  }
  const blocks = r.fleets.map((f) => {
    const rows = (f.series ?? []).map((row) => [minuteTime(row.timestamp), ...cells(row.values)]);
    return `${displayName(f)} (${where(f)})\n${renderTable(['time', ...specs.map((s) => s.name)], rows, true)}`;
  });
  return [`${windowLine(r.window)}, one row per ${formatSeconds(r.window.period)}`, '', blocks.join('\n\n'), '', ...diagnosisLines(r)].join('\n');
}

function diagnosisLines(r: Report): string[] {
  return r.fleets.flatMap((f, i) => r.diagnosis[i].map((d) => `${r.fleets.length > 1 ? `${displayName(f)}: ` : ''}diagnosis: ${d.message}`));
}

// ---- CSV ---------------------------------------------------------------------------------------------------------

/**
 * RFC 4180 CSV with a header row. Summary: one row per fleet. --series: one row per fleet and period.
 * Units: durations in ms, cache-hit 0..1, utilisation in percent; no data is an empty field.
 */
export function renderCsv(r: Report): string {
  const names = METRICS.map((s) => s.name);
  const num = (v: number | null) => (v === null ? '' : String(v));
  const lines: string[][] = [];
  if (r.series) {
    lines.push(['fleet', 'endpoint', 'variant', 'timestamp', ...names]);
    for (const f of r.fleets) {
      for (const row of f.series ?? [])
        lines.push([f.target.fleet ?? '', f.target.endpoint, f.target.variant, isoTime(row.timestamp), ...names.map((n) => num(row.values[n]))]);
    }
  } else {
    lines.push(['fleet', 'endpoint', 'variant', 'start', 'end', ...names]);
    for (const f of r.fleets) {
      lines.push([
        f.target.fleet ?? '',
        f.target.endpoint,
        f.target.variant,
        isoTime(r.window.start),
        isoTime(r.window.end),
        ...names.map((n) => num(f.summary[n])),
      ]);
    }
  }
  return lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';
}

const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

// ---- Prometheus --------------------------------------------------------------------------------------------------

/**
 * Prometheus text exposition format 0.0.4, for node_exporter's textfile collector: gauges only, no timestamps (the
 * collector refuses them), durations in seconds and utilisation as ratios, per Prometheus naming conventions. A
 * metric without data has no sample.
 */
export function renderProm(r: Report): string {
  const out: string[] = [];
  const family = (name: string, help: string) => out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`);
  family('mme_stats_window_seconds', 'Length of the window the mme_ gauges summarise, in seconds.');
  out.push(`mme_stats_window_seconds ${r.window.seconds}`);
  family('mme_stats_window_end_timestamp_seconds', 'End of that window, in seconds since the Unix epoch.');
  out.push(`mme_stats_window_end_timestamp_seconds ${r.window.end.getTime() / 1000}`);
  for (const spec of METRICS) {
    family(spec.prom, `${spec.help}${promUnitNote(spec)}, over the window.`);
    for (const f of r.fleets) {
      const v = f.summary[spec.name];
      if (v === null) continue;
      const labels = `fleet="${escapeLabel(f.target.fleet ?? '')}",endpoint="${escapeLabel(f.target.endpoint)}",variant="${escapeLabel(f.target.variant)}"`;
      out.push(`${spec.prom}{${labels}} ${promNumber(toPromUnit(spec, v))}`);
    }
  }
  return out.join('\n') + '\n';
}

const promUnitNote = (spec: MetricSpec) => (spec.kind === 'duration' ? ', in seconds' : spec.kind === 'percent' ? ', as a ratio (1 = 100%)' : '');
const toPromUnit = (spec: MetricSpec, v: number) => round(spec.kind === 'duration' ? v / 1000 : spec.kind === 'percent' ? v / 100 : v);

// ---- JSON --------------------------------------------------------------------------------------------------------

/** The documented JSON shape (the `result` of the {"status":"success"} envelope). */
export function toJson(r: Report): unknown {
  return {
    window: { start: isoTime(r.window.start), end: isoTime(r.window.end), seconds: r.window.seconds, period: r.series ? r.window.period : null },
    units: Object.fromEntries(METRICS.map((s) => [s.name, UNIT_OF_KIND[s.kind]])),
    fleets: r.fleets.map((f, i) => ({
      fleet: f.target.fleet ?? null,
      endpoint: f.target.endpoint,
      variant: f.target.variant,
      region: f.target.region ?? null,
      summary: f.summary,
      diagnosis: r.diagnosis[i],
      ...(r.series ? { series: (f.series ?? []).map((row) => ({ timestamp: isoTime(row.timestamp), ...row.values })) } : {}),
    })),
    checks: r.checks.map((c) => ({
      fleet: c.fleet.target.fleet ?? null,
      endpoint: c.fleet.target.endpoint,
      condition: c.condition.text,
      metric: c.condition.spec.name,
      value: c.value,
      status: c.status,
    })),
    skipped: r.skipped,
    warnings: r.warnings,
    cloudwatch: { requests: r.requests, queries: r.queries },
  };
}
