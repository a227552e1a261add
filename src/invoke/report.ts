import { renderTable } from '../output/format.js';
import type { LoadReport, PhaseReport } from './load.js';

/** The load report as `--json` prints it: every number the human table shows, nothing that is not data. */
export function loadReportJson(r: LoadReport) {
  const { firstError: _firstError, ...data } = r;
  return data;
}

/**
 * The load report for people: one table row per phase (and per target when there are several), plus notes (the
 * header line, errors by type). Rows are tab-separated when piped, like every mme table; the command then sends the
 * notes to stderr so that stdout stays plain rows.
 */
export function renderLoadReport(r: LoadReport, tty: boolean): { table: string; header: string; notes: string[] } {
  const rows: (string | number)[][] = [];
  const row = (label: string, p: PhaseReport) => {
    const l = p.latencyMs;
    const ms = (v: number | undefined) => (v === undefined ? '-' : tty ? v.toFixed(1) : v);
    rows.push([label, p.requests, p.ok, p.errors, ms(l?.min), ms(l?.p50), ms(l?.p90), ms(l?.p99), ms(l?.max)]);
  };
  row('cold', r.cold);
  row('warm', r.warm);
  if (r.targets.length > 1) {
    for (const [name, t] of Object.entries(r.byTarget)) {
      row(`${name} cold`, t.cold);
      row(`${name} warm`, t.warm);
    }
  }
  const table = renderTable(['calls', 'requests', 'ok', 'errors', 'min ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], rows, tty);
  const target = r.targets.length === 1 ? r.targets[0].name : `${r.targets.length} targets`;
  const header =
    `${r.requests} request(s) to ${target} on ${r.endpointName}, concurrency ${r.concurrency}, in ${(r.elapsedMs / 1000).toFixed(2)} s` +
    (r.throughputPerSecond !== null ? `; warm throughput ${r.throughputPerSecond.toFixed(1)} req/s` : '');
  const notes: string[] = [];
  const errors = errorSummary(r);
  if (errors) notes.push(`errors: ${errors}`);
  if (r.notReadyRetries) notes.push(`model still loading: ${r.notReadyRetries} ModelNotReadyException answer(s) retried`);
  if (r.stoppedEarly) notes.push('stopped early: the numbers cover the requests made so far');
  return { table, header, notes };
}

export function errorSummary(r: LoadReport): string {
  return Object.entries(r.errorsByType)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}
