/**
 * The three traffic sources of `mme plan`, one internal trace (typed arrays on SharedArrayBuffers, so that sweep
 * threads read the same memory):
 * - a weights file (`name weight` lines, as `mme invoke --targets-file`): Poisson arrivals at `rate` for `duration`,
 *   optionally shaped by a 24-hour profile (thinning: arrivals at the peak rate, each kept with profile/peak);
 * - a request log, CSV `timestamp,target` or JSONL `{"timestamp","target"}`, replayed in order with its own timing
 *   (divided by `speed`); timestamps are ISO 8601 or epoch seconds/milliseconds;
 * - synthetic tiers (`5:80%,50:19%,15:1%`) over the models in order, as a weights source.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { weightedRoundRobin } from '../invoke/load.js';
import { parseTargets } from '../invoke/targets.js';
import { usageError } from '../output/errors.js';
import { aliasSampler, seededRandom } from './prng.js';
import type { Trace } from './simulate.js';

export type TrafficSource =
  | { kind: 'weights'; from: string; names: string[]; weights: number[]; tiers?: boolean }
  | { kind: 'log'; from: string; names: string[]; times: Float64Array; indices: Uint32Array; length: number };

/**
 * Reads --traffic FILE: a request log when its first line has a comma or is JSON, else a weights file. A log is read
 * as a stream of lines into typed arrays: ten million requests never sit in memory as text or objects.
 */
export function readTrafficFile(file: string): TrafficSource {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw usageError(
      `--traffic ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
      'Give a weights file or a request log.',
    );
  }
  try {
    const head = Buffer.alloc(64 * 1024);
    const got = fs.readSync(fd, head, 0, head.length, 0);
    const first =
      head
        .toString('utf8', 0, got)
        .split(/\r?\n/)
        .find((l) => l.replace(/#.*$/, '').trim() !== '') ?? '';
    if (/^\s*\{/.test(first) || first.includes(',')) return parseLog(linesOf(fd), file, countLines(fd));
  } finally {
    fs.closeSync(fd);
  }
  const targets = parseTargets(fs.readFileSync(file, 'utf8'), file).map((t) => ({ name: t.name, weight: t.weight }));
  return { kind: 'weights', from: file, names: targets.map((t) => t.name), weights: targets.map((t) => t.weight) };
}

/** An upper bound on the requests of a log: its line count, so that the arrays are allocated once, at their size. */
function countLines(fd: number): number {
  const buf = Buffer.alloc(1024 * 1024);
  let lines = 1;
  let position = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, position);
    if (n === 0) return lines;
    position += n;
    for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
  }
}

/** The lines of an open file, read 1 MiB at a time. */
function* linesOf(fd: number): Generator<string> {
  const buf = Buffer.alloc(1024 * 1024);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let position = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, position);
    position += n;
    const text = rest + (n > 0 ? decoder.write(buf.subarray(0, n)) : decoder.end());
    const lines = text.split('\n');
    rest = n > 0 ? lines.pop()! : '';
    yield* lines;
    if (n === 0) return;
  }
}

/** A log into typed arrays on SharedArrayBuffers of `capacity` entries (sweep threads read them in place). */
function parseLog(lines: Iterable<string>, file: string, capacity: number): TrafficSource {
  const names: string[] = [];
  const index = new Map<string, number>();
  const times = new Float64Array(new SharedArrayBuffer(capacity * 8));
  const indices = new Uint32Array(new SharedArrayBuffer(capacity * 4));
  let n = 0;
  let lineNo = 0;
  let t0 = NaN;
  let last = -Infinity;
  for (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const where = `--traffic ${file} line ${lineNo}`;
    let stamp: unknown;
    let target: unknown;
    if (line.startsWith('{')) {
      try {
        ({ timestamp: stamp, target } = JSON.parse(line) as { timestamp?: unknown; target?: unknown });
      } catch {
        throw usageError(`${where}: not a JSON object.`, 'Write one {"timestamp":"2026-11-22T10:00:00.120Z","target":"m37.tar.gz"} per line.');
      }
    } else {
      const comma = line.indexOf(',');
      stamp = line.slice(0, comma).trim();
      target = line.slice(comma + 1).trim();
      if (n === 0 && Number.isNaN(t0) && /^timestamp$/i.test(String(stamp))) continue;
    }
    const ms = timestampMs(stamp);
    if (ms === undefined || typeof target !== 'string' || !target) {
      throw usageError(
        `${where}: expected "timestamp,target" (ISO 8601 or epoch seconds/ms, then the model), got "${line.slice(0, 60)}".`,
        'Write e.g. "2026-11-22T10:00:00.120Z,m37.tar.gz".',
      );
    }
    if (ms < last)
      throw usageError(
        `${where}: ${String(stamp)} is earlier than the line before; the log must be in time order.`,
        'Sort it by time first (e.g. sort -t, -k1,1).',
      );
    last = ms;
    if (Number.isNaN(t0)) t0 = ms;
    let id = index.get(target);
    if (id === undefined) {
      id = names.length;
      names.push(target);
      index.set(target, id);
    }
    times[n] = ms - t0;
    indices[n] = id;
    n++;
  }
  if (!n) throw usageError(`--traffic ${file} holds no requests.`, 'Write one "timestamp,target" line per request.');
  return { kind: 'log', from: file, names, times, indices, length: n };
}

function timestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string' || !value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) {
    const v = Number(value);
    return v < 1e11 ? v * 1000 : v;
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** `--tiers 5:80%,50:19%,15:1%` over the models in order: each tier's share split evenly over its models. */
export function tiersSource(spec: string, models: string[]): TrafficSource {
  const tiers = spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*:\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(part);
    if (!m || Number(m[1]) < 1)
      throw usageError(`--tiers "${spec}": "${part}" is not COUNT:SHARE%.`, "Write e.g. --tiers '5:80%,50:19%,15:1%' (5 models take 80% of calls, …).");
    return { count: Number(m[1]), share: Number(m[2]) };
  });
  const total = tiers.reduce((s, t) => s + t.share, 0);
  if (Math.abs(total - 100) > 0.5) throw usageError(`--tiers "${spec}": the shares add up to ${total}%, not 100%.`, 'Make the shares add up to 100%.');
  const count = tiers.reduce((s, t) => s + t.count, 0);
  if (count > models.length)
    throw usageError(`--tiers "${spec}" names ${count} models; the fleet has ${models.length}.`, 'Make the counts add up to at most the number of models.');
  const names: string[] = [];
  const weights: number[] = [];
  let at = 0;
  for (const t of tiers) {
    for (let i = 0; i < t.count; i++) {
      names.push(models[at++]);
      weights.push(t.share / t.count);
    }
  }
  return { kind: 'weights', from: spec, names, weights, tiers: true };
}

export interface ArrivalOptions {
  /** Requests per ms (the mean; the peak of the profile when there is one). */
  ratePerMs: number;
  durationMs: number;
  seed: number;
  /** 24 relative rates, one per hour of the day (the trace starts at 00:00). */
  profile?: number[];
  /**
   * Which model each arrival asks for: `random` (drawn by weight, independently) or `invoke`, the order of
   * `mme invoke --targets-file` load runs: each model once, then smooth weighted round-robin.
   */
  order?: 'random' | 'invoke';
}

/** Poisson arrivals over weighted models (model index = position in `weights`). */
export function poissonTrace(weights: ArrayLike<number>, o: ArrivalOptions): Trace {
  const random = seededRandom(o.seed);
  const pick = o.order === 'invoke' ? invokeOrder(weights) : aliasSampler(weights, seededRandom(o.seed ^ 0x2545f491));
  const peak = o.profile ? Math.max(...o.profile) : 1;
  // The profile's mean is the asked rate: arrivals at the peak, thinned hour by hour.
  const mean = o.profile ? o.profile.reduce((s, v) => s + v, 0) / 24 : 1;
  const lambda = (o.ratePerMs * peak) / mean;
  const expected = lambda * o.durationMs;
  let cap = Math.ceil(expected + 8 * Math.sqrt(expected) + 64);
  let times = new Float64Array(new SharedArrayBuffer(cap * 8));
  let models = new Uint32Array(new SharedArrayBuffer(cap * 4));
  let n = 0;
  let t = 0;
  const hourMs = 3_600_000;
  for (;;) {
    t += -Math.log(1 - random()) / lambda;
    if (t >= o.durationMs) break;
    if (o.profile && random() * peak >= o.profile[Math.floor(t / hourMs) % 24]) continue;
    if (n === cap) {
      cap *= 2;
      const nt = new Float64Array(new SharedArrayBuffer(cap * 8));
      nt.set(times);
      times = nt;
      const nm = new Uint32Array(new SharedArrayBuffer(cap * 4));
      nm.set(models);
      models = nm;
    }
    times[n] = t;
    models[n] = pick();
    n++;
  }
  return { times, models, length: n, durationMs: o.durationMs };
}

/** The order of `mme invoke`'s load mode over models with these weights (see weightedRoundRobin there). */
function invokeOrder(weights: ArrayLike<number>): () => number {
  const targets = Array.from(weights, (weight, i) => ({ name: String(i), weight })).filter((t) => t.weight > 0);
  const first = targets.map((t) => Number(t.name));
  const next = weightedRoundRobin(targets);
  let i = 0;
  return () => (i < first.length ? first[i++] : Number(next()));
}

/** "1,1,1,…" (24 numbers ≥ 0, not all 0): relative traffic per hour of the day. */
export function parseProfile(text: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.length !== 24 || values.some((v) => !(v >= 0) || !Number.isFinite(v)) || !values.some((v) => v > 0)) {
    throw usageError(
      `--daily-profile: expected 24 numbers ≥ 0 separated by commas (relative traffic for each hour from 00:00), got ${values.length}.`,
      'Write e.g. 1,1,1,1,1,2,4,6,8,8,8,8,8,8,8,8,8,6,4,3,2,2,1,1.',
    );
  }
  return values;
}
