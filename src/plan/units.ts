/**
 * The flag grammars of `mme plan`, in one place so that they can move to the project's shared parsers
 * (src/util/units.ts) in one edit.
 */
import { parseDuration } from '../metrics/window.js';
import { parseBytes } from '../output/format.js';
import { usageError } from '../output/errors.js';

/** "1h", "90m", "1d" → ms. */
export function durationMs(text: string, flag: string): number {
  const s = parseDuration(text);
  if (s === undefined || s <= 0) throw usageError(`${flag} "${text}" is not a duration above 0.`, 'Write e.g. 1h, 90m, 30s or 1d.');
  return s * 1000;
}

/** "50ms", "0.2s", "500us" → ms (a unit is required). */
export function latencyMs(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*$/i.exec(text);
  if (!m) throw usageError(`${flag} "${text}" is not a duration with a unit.`, 'Write e.g. 50ms, 0.2s or 500us.');
  return Number(m[1]) * { us: 0.001, 'µs': 0.001, ms: 1, s: 1000 }[m[2].toLowerCase() as 'us' | 'ms' | 's'];
}

/** "3000/min", "50/s", "180000/h"; a bare number is per minute. → requests per ms. */
export function ratePerMs(text: string, flag: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(?:\/\s*(s|sec|min|m|h|hour))?\s*$/i.exec(text);
  const per = { s: 1000, sec: 1000, min: 60_000, m: 60_000, h: 3_600_000, hour: 3_600_000 } as const;
  const value = m ? Number(m[1]) : NaN;
  if (!m || !(value > 0) || !Number.isFinite(value)) throw usageError(`${flag} "${text}" is not a rate above 0.`, 'Write requests per minute, second or hour: 3000/min, 50/s, 180000/h.');
  return value / per[((m[2] ?? 'min').toLowerCase()) as keyof typeof per];
}

/** "1GiB", "512MiB" → bytes. */
export function sizeBytes(text: string, flag: string): number {
  const n = parseBytes(text);
  if (n === undefined) throw usageError(`${flag} "${text}" is not a size.`, 'Write e.g. 1GiB, 512MiB or 1073741824.');
  return n;
}

/** "1GiB" (bytes taken from each instance) or "12%" (of its memory); "0" = none. */
export type Overhead = { bytes: number } | { fraction: number };
export function overhead(text: string, flag: string): Overhead {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (pct) {
    const f = Number(pct[1]) / 100;
    if (f >= 1) throw usageError(`${flag} "${text}" leaves no memory for models.`, 'Give a percentage below 100%, or a size such as 1GiB.');
    return { fraction: f };
  }
  return { bytes: sizeBytes(text, flag) };
}

/** A whole number within limits. */
export function whole(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw usageError(`${flag} "${text}" is not a whole number from ${min} to ${max}.`);
  return n;
}

/** A number within limits (ratios: "0.99" or "99%"). */
export function ratio(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v <= 1)) throw usageError(`${flag} "${text}" is not a ratio from 0 to 1.`, 'Write e.g. 0.99 or 99%.');
  return v;
}

export function positive(text: string, flag: string): number {
  const v = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(v > 0)) throw usageError(`${flag} "${text}" is not a number above 0.`);
  return v;
}
