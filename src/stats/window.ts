import { usageError } from '../output/errors.js';
import { duration, parseDurationMs } from '../util/units.js';

/** The time range `mme stats` reads, aligned the way CloudWatch stores data. */
export interface Window {
  start: Date;
  end: Date;
  /** end - start, a whole number of `resolution`s. */
  seconds: number;
  /** Length of one --series row, in seconds. */
  period: number;
  /** Number of --series rows. */
  periods: number;
  /** CloudWatch's storage resolution for data this old: 60 s, 300 s (15+ days) or 3600 s (63+ days). */
  resolution: number;
}

export interface WindowFlags {
  since?: string;
  start?: string;
  end?: string;
  period?: string;
  series?: boolean;
}

export const DEFAULT_SINCE = '3h';
/** One row per minute for a day: beyond that a --series table is unreadable; a longer --period is the fix. */
export const MAX_PERIODS = 1440;
const DAY = 86_400;
/** CloudWatch keeps one-hour data for 455 days (15 months). */
const RETENTION_DAYS = 455;

/** "now", "2026-11-22", "2026-11-22T01:00Z", "2026-11-22T01:00:00+01:00" → a Date. Times must carry a zone. */
export function parseTime(text: string, flag: string, now: Date): Date {
  const t = text.trim();
  if (t.toLowerCase() === 'now') return now;
  const example = 'Use an ISO 8601 time with a zone, e.g. 2026-11-22T01:00Z, a date (UTC midnight) such as 2026-11-22, or "now".';
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const d = new Date(`${t}T00:00:00Z`);
    if (!Number.isNaN(d.getTime())) return d;
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) {
    throw usageError(`${flag} "${text}" has no time zone.`, `Add one, e.g. ${t.replace(' ', 'T')}Z for UTC.`);
  }
  const d = new Date(t.replace(' ', 'T'));
  if (!/^\d{4}-\d{2}-\d{2}[T ]/.test(t) || Number.isNaN(d.getTime())) throw usageError(`${flag} "${text}" is not a time.`, example);
  return d;
}

/** A window length for people: "3h", "90m", "2d". */
export function formatSeconds(s: number): string {
  for (const [u, n] of [
    ['w', 7 * DAY],
    ['d', DAY],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (s % n === 0) return `${s / n}${u}`;
  return `${s}s`;
}

const floorTo = (d: Date, seconds: number) => new Date(Math.floor(d.getTime() / (seconds * 1000)) * seconds * 1000);

/**
 * Turns --since / --start / --end / --period into a window. Any two of since, start and end fix it (end defaults to
 * now, since to 3h). Edges are floored to CloudWatch's resolution for data that old, which is how CloudWatch itself
 * rounds StartTime, so the window we print is the window the numbers come from.
 */
export function resolveWindow(flags: WindowFlags, now: Date = new Date()): Window {
  if (flags.since !== undefined && flags.start !== undefined && flags.end !== undefined) {
    throw usageError('--since, --start and --end were all given.', 'Give --since (ending now or at --end), or --start and --end.');
  }
  if (flags.since !== undefined && flags.start !== undefined) {
    throw usageError('--since and --start both set where the window begins.', 'Use --since 3h (ending now), or --start T [--end T].');
  }
  let since: number | undefined;
  if (flags.since !== undefined) {
    since = (parseDurationMs(flags.since) ?? Number.NaN) / 1000;
    if (Number.isNaN(since)) throw usageError(`--since "${flags.since}" is not a duration.`, 'Use a number with a unit, e.g. --since 90m, 3h, 2d or 1w.');
    if (since < 60 || since % 60 !== 0)
      throw usageError(`--since ${flags.since} is not a whole number of minutes.`, 'CloudWatch keeps one datapoint per minute: use e.g. --since 5m.');
    // Refused before any date arithmetic can overflow.
    if (!(since <= RETENTION_DAYS * DAY))
      throw usageError(
        `--since ${flags.since} reaches back further than the ${RETENTION_DAYS} days (15 months) CloudWatch keeps metrics.`,
        'Use e.g. --since 2w or --since 90d.',
      );
  }
  const end = flags.end !== undefined ? parseTime(flags.end, '--end', now) : now;
  const start =
    flags.start !== undefined
      ? parseTime(flags.start, '--start', now)
      : new Date(end.getTime() - (since ?? (parseDurationMs(DEFAULT_SINCE) as number) / 1000) * 1000);
  if (start.getTime() >= now.getTime())
    throw usageError(`the window starts in the future (${isoTime(start)}).`, 'CloudWatch has no data yet for that time: use an earlier --start.');
  if (end.getTime() < start.getTime()) {
    throw usageError(`the window ends (${isoTime(end)}) before it starts (${isoTime(start)}).`, 'Swap --start and --end, or check their dates.');
  }
  const ageDays = (now.getTime() - start.getTime()) / 1000 / DAY;
  if (ageDays > RETENTION_DAYS) {
    throw usageError(
      `the window starts ${Math.floor(ageDays)} days ago; CloudWatch keeps metrics for ${RETENTION_DAYS} days (15 months).`,
      'Use a later --start or a shorter --since.',
    );
  }
  // CloudWatch keeps 1-minute data for 15 days, 5-minute data for 63 days, 1-hour data beyond.
  const resolution = ageDays > 63 ? 3600 : ageDays > 15 ? 300 : 60;
  const alignedStart = floorTo(start, resolution);
  const alignedEnd = floorTo(end, resolution);
  const seconds = (alignedEnd.getTime() - alignedStart.getTime()) / 1000;
  if (seconds <= 0) {
    throw usageError(
      `the window ${isoTime(start)} to ${isoTime(end)} is shorter than CloudWatch's ${formatSeconds(resolution)} resolution for data that old.`,
      'Widen it, e.g. --since 15m.',
    );
  }

  // Without --period a row is CloudWatch's own resolution for data that old (one minute for the last 15 days).
  const period = flags.period === undefined ? resolution : parsePeriod(flags.period);
  if (period % resolution !== 0) {
    throw usageError(
      `--period ${flags.period}: data starting ${Math.floor(ageDays)} days ago is kept at ${resolution} s resolution.`,
      `Use a multiple of ${resolution}, e.g. --period ${resolution}.`,
    );
  }
  const periods = Math.ceil(seconds / period);
  if (flags.series && periods > MAX_PERIODS) {
    const fit = Math.ceil(seconds / MAX_PERIODS / resolution) * resolution;
    throw usageError(
      `too many datapoints: a ${formatSeconds(seconds)} window with --period ${period} gives ${periods} rows per fleet (at most ${MAX_PERIODS}).`,
      `Use --period ${fit} or more, or a shorter window.`,
    );
  }
  return { start: alignedStart, end: alignedEnd, seconds, period, periods, resolution };
}

/** --period: seconds ("300") or a duration ("5m"); a whole number of minutes. */
function parsePeriod(text: string): number {
  const seconds = duration(text, '--period', { minMs: 60_000, maxMs: RETENTION_DAYS * DAY * 1000 }) / 1000;
  if (seconds % 60 !== 0)
    throw usageError(`--period ${text} is not a multiple of 60 seconds.`, 'CloudWatch stores SageMaker metrics per minute: use e.g. --period 60, 300 or 3600.');
  return seconds;
}

export const isoTime = (d: Date) => d.toISOString().replace(/\.000Z$/, 'Z');
