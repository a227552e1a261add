/**
 * One grammar for durations and one for sizes, used by every flag that takes them, so that `--duration 60s`,
 * `--wait-limit 60s` and `--since 90m` all read the same way.
 */
import { usageError } from '../output/errors.js';

const MS_PER_UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export interface DurationBounds {
  /** Unit of a bare number: `--duration 60` means seconds; 'none' requires a unit (latencies, where µs vs ms bites). */
  bareUnit?: 'ms' | 's' | 'none';
  minMs?: number;
  maxMs?: number;
}

/**
 * "500us", "500ms", "60s", "90m", "1h30m", "2d", "1w", or a bare number in `bareUnit` → milliseconds; undefined when the text
 * is not a duration at all. Bounds are the caller's: see `duration()`.
 */
export function parseDurationMs(text: string, bareUnit: 'ms' | 's' | 'none' = 's'): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return bareUnit === 'none' ? undefined : Number(t) * MS_PER_UNIT[bareUnit];
  if (!/^(\d+(\.\d+)?(us|ms|s|m|h|d|w))+$/.test(t)) return undefined;
  let total = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h|d|w)/g)) total += Number(n) * MS_PER_UNIT[unit];
  return total;
}

/** A flag's duration in milliseconds, or a usage error naming the flag, the accepted range and an example. */
export function duration(text: string, flag: string, bounds: DurationBounds = {}): number {
  const { bareUnit = 's', minMs = 1, maxMs = 7 * 86_400_000 } = bounds;
  const ms = parseDurationMs(text, bareUnit);
  if (ms === undefined || !Number.isFinite(ms) || ms < minMs || ms > maxMs) {
    throw usageError(
      `${flag} "${text}" is not a duration between ${formatDuration(minMs)} and ${formatDuration(maxMs)}.`,
      `Use a number with a unit (us, ms, s, m, h, d, w), e.g. ${flag} 60s, ${flag} 90m or ${flag} 1h30m${bareUnit === 'none' ? '' : `; a bare number is ${bareUnit === 's' ? 'seconds' : 'milliseconds'}`}.`,
    );
  }
  return ms;
}

/** Milliseconds for people: "500ms", "60s", "90m", "3h", "2d", "1w". */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const n = ms / MS_PER_UNIT[unit];
    if (n >= 1 && Number.isInteger(n)) return `${n}${unit}`;
  }
  return ms >= 1000 ? `${+(ms / 1000).toFixed(3)}s` : `${ms}ms`;
}

/** "2GiB", "512MB", "1.5G", "1048576" → bytes (KiB, MiB, … are powers of 1024; K, KB, M, MB, … of 1000). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  const base = m[3] || m[2] === '' ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** power);
}

/** A flag's size in bytes, or a usage error naming the flag and an example. */
export function size(text: string, flag: string, minBytes = 1): number {
  const n = parseBytes(text);
  if (n === undefined || !Number.isSafeInteger(n) || n < minBytes) {
    throw usageError(`${flag} "${text}" is not a size.`, `Use a number of bytes with a unit, e.g. ${flag} 512MiB or ${flag} 2GiB.`);
  }
  return n;
}

/** A flag's whole number within bounds, or a usage error naming the flag, the range and an example (`hint`). */
export function wholeNumber(text: string, flag: string, min: number, max: number, hint = `Use e.g. ${flag} ${Math.max(min, 1)}.`): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) throw usageError(`${flag} "${text}" is not a whole number from ${min} to ${max}.`, hint);
  return n;
}
