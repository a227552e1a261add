/**
 * The flag grammars of `mme plan`: durations, sizes and whole numbers are the project's own (src/util/units.ts);
 * rates, ratios and overheads exist only here.
 */
import { usageError } from '../output/errors.js';
import { duration, size, wholeNumber } from '../util/units.js';

/** "1h", "90m", "1d" → ms. */
export const durationMs = (text: string, flag: string): number => duration(text, flag, { maxMs: 366 * 86_400_000 });

/** "50ms", "0.2s", "500us" → ms (a unit is required). */
export const latencyMs = (text: string, flag: string): number => duration(text, flag, { bareUnit: 'none', minMs: 0, maxMs: 3_600_000 });

/** "3000/min", "50/s", "180000/h"; a bare number is per minute. → requests per ms. */
export function ratePerMs(text: string, flag: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(?:\/\s*(s|sec|min|m|h|hour))?\s*$/i.exec(text);
  const per = { s: 1000, sec: 1000, min: 60_000, m: 60_000, h: 3_600_000, hour: 3_600_000 } as const;
  const value = m ? Number(m[1]) : NaN;
  if (!m || !(value > 0) || !Number.isFinite(value))
    throw usageError(`${flag} "${text}" is not a rate above 0.`, 'Write requests per minute, second or hour: 3000/min, 50/s, 180000/h.');
  return value / per[(m[2] ?? 'min').toLowerCase() as keyof typeof per];
}

/** "1GiB", "512MiB" → bytes ("0" is allowed: --overhead 0). */
export const sizeBytes = (text: string, flag: string): number => size(text, flag, 0);

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

export const whole = wholeNumber;

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
