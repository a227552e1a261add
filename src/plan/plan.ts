/**
 * `mme plan`, below the command: models and traffic in, one trace, a sweep of candidates (type × count) through the
 * simulator, cost, the memory curve, the recommendation and the shape comparison (all dedicated, one MME, hybrid).
 */
import { usageError } from '../output/errors.js';
import type { InstanceType } from './catalog.js';
import type { ModelSet } from './models.js';
import type { SimResult, Trace } from './simulate.js';
import { meets, runSweep, type SharedConfig, type SimCandidate, type SweepTask } from './sweep.js';
import { poissonTrace, type TrafficSource } from './traffic.js';
import type { Overhead } from './units.js';

export const HOURS_PER_MONTH = 730;

/** Load-time model defaults: see DEFAULT_TIMING in the README (measured orders of magnitude, override with flags). */
export const DEFAULT_TIMING = {
  serviceMs: 2,
  downloadFixedMs: 50,
  downloadBytesPerMs: 100_000, // 100 MB/s from S3
  loadFixedMs: 20,
  loadBytesPerMs: 200_000, // 200 MB/s deserialisation
  spillWaitMs: 50,
};

export interface PlanInput {
  models: ModelSet;
  traffic: TrafficSource;
  ratePerMs?: number;
  durationMs: number;
  profile?: number[];
  order: 'random' | 'invoke';
  speed: number;
  types: InstanceType[];
  counts: number[];
  overhead: Overhead;
  copies: number;
  seed: number;
  targetHit: number;
  maxP99Ms: number;
  /** The p99 target holds for the requests of the N busiest models only (undefined: every request). */
  p99Top?: number;
  dedicatedType: InstanceType;
  dedicatedMinCount: number;
  hybridMax: number;
  refuseUnknown: boolean;
  timing: typeof DEFAULT_TIMING;
  threads?: number;
  warn(message: string): void;
}

export interface CandidateResult {
  type: string;
  count: number;
  vcpus: number;
  memoryBytes: number;
  usableBytes: number;
  pricePerHour: number;
  hitRatio: number;
  coldLoads: number;
  coldLoadsPerHour: number;
  downloads: number;
  unloads: number;
  unloadsPerHour: number;
  failed: number;
  spilled: number;
  waitP50Ms: number;
  waitP99Ms: number;
  waitMeanMs: number;
  /** With --p99-top: the added wait p99 of the busiest models' requests (the one the target is checked on). */
  criticalWaitP99Ms: number | null;
  utilisation: number;
  maxLoadedModels: number;
  monthlyCost: number;
  meetsTargets: boolean;
}

export interface PlanResult {
  models: { count: number; totalBytes: number; largestBytes: number; copies: number; sizes: string; from: string };
  traffic: {
    source: string;
    from: string;
    requests: number;
    durationMs: number;
    requestsPerMinute: number;
    unknownModels: string[];
    unknownRequests: number;
    seed: number;
  };
  assumptions: typeof DEFAULT_TIMING & { overhead: string; hoursPerMonth: number; priceSource: string[]; routing: string };
  targets: { hitRatio: number; waitP99Ms: number; p99Models: string[] | null };
  candidates: CandidateResult[];
  memoryCurve: { memoryBytes: number; hitRatio: number }[];
  /** The least memory on one instance that reaches the hit-ratio target (null: not even the whole fleet's size). */
  workingSetBytes: number | null;
  recommendation: Recommendation;
  /** With --calibrate: the fleet's measured mean download and load times the timing model was set from. */
  calibration: { endpoint: string; since: string; downloadMs: number | null; loadMs: number | null; meanModelBytes: number } | null;
  hybridSearch: { k: number; type: string | null; count: number | null; monthlyCost: number | null; hitRatio: number | null; waitP99Ms: number | null }[];
}

export interface Recommendation {
  /** The cheapest candidate meeting the targets with every model on the MME, or null. */
  type: string | null;
  count: number | null;
  monthlyCost: number | null;
  met: boolean;
  reason: string;
  shapes: {
    dedicated: { models: number; type: string; instancesPerModel: number[]; instances: number; monthlyCost: number };
    mme: { type: string; count: number; monthlyCost: number } | null;
    hybrid: HybridShape | null;
  };
  /** The cheapest shape meeting the targets: "dedicated", "mme" or "hybrid". */
  best: 'dedicated' | 'mme' | 'hybrid';
  hybrid: HybridShape | null;
  savingsVsDedicated: number;
}

export interface HybridShape {
  k: number;
  dedicatedModels: string[];
  dedicatedCost: number;
  mme: { type: string; count: number; monthlyCost: number; hitRatio: number; waitP99Ms: number };
  monthlyCost: number;
}

const keyOf = (name: string) => name.replace(/\.tar\.gz$/, '');
/** Money in dollars, to the cent (so that JSON shows 251.85, not 251.85000000000002). */
const cents = (v: number) => Math.round(v * 100) / 100;

export async function runPlan(input: PlanInput): Promise<PlanResult> {
  const { models } = input.models;
  const index = new Map(models.map((m, i) => [keyOf(m.name), i]));
  const trace = buildTrace(input, index);
  const n = models.length;
  const modelBytes = new Float64Array(n);
  models.forEach((m, i) => (modelBytes[i] = m.bytes * input.copies));
  const totalBytes = modelBytes.reduce((s, b) => s + b, 0);
  const largest = modelBytes.reduce((s, b) => Math.max(s, b), 0);

  const usable = (t: InstanceType) =>
    Math.max(0, 'fraction' in input.overhead ? t.memoryBytes * (1 - input.overhead.fraction) : t.memoryBytes - input.overhead.bytes);
  const candidates = input.types.flatMap((t) => input.counts.map((count) => ({ t, count })));
  const sim = (c: { t: InstanceType; count: number }): SimCandidate => ({ instances: c.count, vcpus: c.t.vcpus, memoryBytes: usable(c.t) });
  const cost = (c: { t: InstanceType; count: number }) => cents(c.count * c.t.pricePerHour * HOURS_PER_MONTH);
  const until = { minHitRatio: input.targetHit, maxWaitP99Ms: input.maxP99Ms };

  // Models ranked by traffic, for the hybrid: the top K go to dedicated endpoints.
  const perModel = new Float64Array(n);
  for (let r = 0; r < trace.length; r++) perModel[trace.models[r]]++;
  const ranked = Array.from({ length: n }, (_, i) => i).sort((a, b) => perModel[b] - perModel[a] || a - b);
  const called = ranked.filter((i) => perModel[i] > 0).length;
  const byCost = [...candidates].sort((a, b) => cost(a) - cost(b) || b.t.memoryBytes - a.t.memoryBytes);
  const maxK = Math.min(input.hybridMax, Math.max(0, called - 1));
  let critical: Uint8Array | undefined;
  if (input.p99Top !== undefined) {
    critical = new Uint8Array(n);
    for (let j = 0; j < Math.min(input.p99Top, called); j++) critical[ranked[j]] = 1;
  }
  const shared: SharedConfig = { modelBytes, ...input.timing, orderOnly: input.traffic.kind === 'log', critical };

  // The memory curve: one instance, exact LRU, budgets from the largest model to the whole fleet.
  const budgets = curveBudgets(largest, totalBytes);
  // One job per candidate (so that threads share them out), one for the curve, one per K of the hybrid.
  const tasks: SweepTask[] = [{ candidates: [], curve: budgets }, ...candidates.map((c) => ({ candidates: [sim(c)] }))];
  for (let k = 1; k <= maxK; k++) {
    const exclude = new Uint8Array(n);
    for (let j = 0; j < k; j++) exclude[ranked[j]] = 1;
    tasks.push({ candidates: byCost.map(sim), exclude, until });
  }
  const done = await runSweep(trace, shared, tasks, input.threads);
  const curve = done[0].curve!;
  const main = done.slice(1, 1 + candidates.length).map((d) => d.sims[0]);
  const hybrids = done.slice(1 + candidates.length).map((d) => d.sims);

  const hours = trace.durationMs / 3_600_000;
  const result = (c: { t: InstanceType; count: number }, r: SimResult): CandidateResult => ({
    type: c.t.type,
    count: c.count,
    vcpus: c.t.vcpus,
    memoryBytes: c.t.memoryBytes,
    usableBytes: usable(c.t),
    pricePerHour: c.t.pricePerHour,
    hitRatio: r.requests ? r.hits / r.requests : 1,
    coldLoads: r.coldLoads,
    coldLoadsPerHour: r.coldLoads / hours,
    downloads: r.downloads,
    unloads: r.unloads,
    unloadsPerHour: r.unloads / hours,
    failed: r.failed,
    spilled: r.spilled,
    waitP50Ms: r.waitP50Ms,
    waitP99Ms: r.waitP99Ms,
    waitMeanMs: r.waitMeanMs,
    criticalWaitP99Ms: r.criticalWaitP99Ms,
    utilisation: r.busyMs / (c.count * c.t.vcpus * Math.max(1, trace.durationMs)),
    maxLoadedModels: r.maxLoadedModels,
    monthlyCost: cost(c),
    meetsTargets: meets(r, input.targetHit, input.maxP99Ms),
  });
  const results = candidates.map((c, i) => result(c, main[i]!));

  const memoryCurve = budgets.map((memoryBytes, i) => ({ memoryBytes, hitRatio: curve.requests ? curve.hits[i] / curve.requests : 1 }));
  const fit = memoryCurve.find((p) => p.hitRatio >= input.targetHit);

  // Dedicated endpoints: at least the minimum count, more when one model's traffic needs it (workers at most 70% busy).
  const d = input.dedicatedType;
  const dedicatedInstances = (i: number) =>
    Math.max(input.dedicatedMinCount, Math.ceil(((perModel[i] / Math.max(1, trace.durationMs)) * input.timing.serviceMs) / (d.vcpus * 0.7)));
  const dedicatedCostOf = (ids: number[]) => cents(ids.reduce((s, i) => s + dedicatedInstances(i) * d.pricePerHour * HOURS_PER_MONTH, 0));
  const allIds = ranked.filter((i) => perModel[i] > 0);
  const instancesPerModel = allIds.map(dedicatedInstances);
  const dedicated = {
    models: allIds.length,
    type: d.type,
    instancesPerModel,
    instances: instancesPerModel.reduce((s, v) => s + v, 0),
    monthlyCost: dedicatedCostOf(allIds),
  };

  const bestMme = results.filter((c) => c.meetsTargets).sort((a, b) => a.monthlyCost - b.monthlyCost || b.hitRatio - a.hitRatio)[0];
  const hybridSearch: PlanResult['hybridSearch'] = [];
  hybridSearch.push(
    bestMme
      ? { k: 0, type: bestMme.type, count: bestMme.count, monthlyCost: bestMme.monthlyCost, hitRatio: bestMme.hitRatio, waitP99Ms: bestMme.waitP99Ms }
      : { k: 0, type: null, count: null, monthlyCost: null, hitRatio: null, waitP99Ms: null },
  );
  let bestHybrid: HybridShape | null = null;
  hybrids.forEach((rs, j) => {
    const k = j + 1;
    const at = rs.findIndex((r) => r !== null && meets(r, input.targetHit, input.maxP99Ms));
    const ids = ranked.slice(0, k);
    if (at < 0) {
      hybridSearch.push({ k, type: null, count: null, monthlyCost: null, hitRatio: null, waitP99Ms: null });
      return;
    }
    const c = byCost[at];
    const r = rs[at]!;
    const mmeCost = cost(c);
    const shape: HybridShape = {
      k,
      dedicatedModels: ids.map((i) => models[i].name),
      dedicatedCost: dedicatedCostOf(ids),
      mme: { type: c.t.type, count: c.count, monthlyCost: mmeCost, hitRatio: r.requests ? r.hits / r.requests : 1, waitP99Ms: r.waitP99Ms },
      monthlyCost: cents(dedicatedCostOf(ids) + mmeCost),
    };
    hybridSearch.push({ k, type: c.t.type, count: c.count, monthlyCost: shape.monthlyCost, hitRatio: shape.mme.hitRatio, waitP99Ms: shape.mme.waitP99Ms });
    if (!bestHybrid || shape.monthlyCost < bestHybrid.monthlyCost) bestHybrid = shape;
  });

  const mmeShape = bestMme ? { type: bestMme.type, count: bestMme.count, monthlyCost: bestMme.monthlyCost } : null;
  const options: [Recommendation['best'], number][] = [['dedicated', dedicated.monthlyCost]];
  if (mmeShape) options.push(['mme', mmeShape.monthlyCost]);
  const hy = bestHybrid as HybridShape | null;
  if (hy) options.push(['hybrid', hy.monthlyCost]);
  const [best, bestCost] = options.sort((a, b) => a[1] - b[1])[0];
  const whose = critical ? ` for the ${input.p99Top} busiest models` : '';
  const pct = (v: number) => `${(v * 100).toFixed(v >= 0.995 && v < 1 ? 2 : 1)}%`;
  const reason = bestMme
    ? `${bestMme.count} × ${bestMme.type} is the cheapest candidate with a hit ratio ≥ ${pct(input.targetHit)} and an added wait p99${whose} ≤ ${input.maxP99Ms} ms (${pct(bestMme.hitRatio)}, ${(bestMme.criticalWaitP99Ms ?? bestMme.waitP99Ms).toFixed(1)} ms).`
    : `no candidate reaches a hit ratio ≥ ${pct(input.targetHit)} with an added wait p99${whose} ≤ ${input.maxP99Ms} ms; try larger types (--types), more instances (--counts) or the hybrid shape.`;

  return {
    models: { count: n, totalBytes, largestBytes: largest, copies: input.copies, sizes: input.models.source, from: input.models.from },
    traffic: {
      ...trace.info,
      requests: trace.length,
      durationMs: trace.durationMs,
      requestsPerMinute: trace.length / Math.max(1e-9, trace.durationMs / 60_000),
      seed: input.seed,
    },
    assumptions: {
      ...input.timing,
      overhead: 'fraction' in input.overhead ? `${input.overhead.fraction * 100}% of each instance's memory` : `${input.overhead.bytes} bytes per instance`,
      hoursPerMonth: HOURS_PER_MONTH,
      priceSource: [...new Set([...input.types, d].map((t) => t.priceSource))],
      routing:
        "to an instance holding the model in memory (the one whose worker frees first); else to the model's home instance (a fixed hash); spill to an idle instance when the wait exceeds spillWaitMs",
    },
    targets: {
      hitRatio: input.targetHit,
      waitP99Ms: input.maxP99Ms,
      p99Models: critical ? ranked.filter((i) => critical![i] === 1).map((i) => models[i].name) : null,
    },
    candidates: results,
    memoryCurve,
    workingSetBytes: fit ? fit.memoryBytes : null,
    recommendation: {
      type: bestMme?.type ?? null,
      count: bestMme?.count ?? null,
      monthlyCost: bestMme?.monthlyCost ?? null,
      met: Boolean(bestMme),
      reason,
      shapes: { dedicated, mme: mmeShape, hybrid: hy },
      best,
      hybrid: hy,
      savingsVsDedicated: cents(dedicated.monthlyCost - bestCost),
    },
    hybridSearch,
    calibration: null,
  };
}

/** 24 budgets, log-spaced from the largest model to the whole fleet (memory below the largest model fails it). */
function curveBudgets(largest: number, total: number): number[] {
  if (total <= largest) return [Math.ceil(largest)];
  const steps = 24;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(Math.ceil(largest * (total / largest) ** (i / (steps - 1))));
  return [...new Set(out)];
}

type TraceWithInfo = Trace & { info: { source: string; from: string; unknownModels: string[]; unknownRequests: number } };

/** The trace over the fleet's model indices; traffic for models the fleet lacks is counted and left out. */
function buildTrace(input: PlanInput, index: Map<string, number>): TraceWithInfo {
  const src = input.traffic;
  const map = src.names.map((name) => index.get(keyOf(name)) ?? -1);
  const unknown = src.names.filter((_, i) => map[i] < 0);
  const say = (requests: string) => {
    if (!unknown.length) return;
    const list = `${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? `, … (${unknown.length} in all)` : ''}`;
    const message = `--traffic ${src.from} names ${unknown.length} model(s) that the fleet (${input.models.from}) lacks: ${list}; ${requests}`;
    if (input.refuseUnknown) throw usageError(message.replace(/; .*$/, '.'), 'Fix the traffic file or the models, or drop --strict to leave them out.');
    input.warn(`${message} left out of the simulation.`);
  };
  if (src.kind === 'weights') {
    say('their weight is');
    const weights = new Float64Array(index.size);
    src.weights.forEach((w, i) => map[i] >= 0 && (weights[map[i]] += w));
    if (!weights.some((w) => w > 0))
      throw usageError(`--traffic ${src.from}: none of its models is in the fleet (${input.models.from}).`, 'Name the models as `mme ls` prints them.');
    if (input.ratePerMs === undefined)
      throw usageError('a weights file needs --rate (e.g. --rate 3000/min) to make arrivals.', 'Add --rate N/min, or give a request log (timestamp,target).');
    const trace = poissonTrace(weights, {
      ratePerMs: input.ratePerMs,
      durationMs: input.durationMs,
      seed: input.seed,
      profile: input.profile,
      order: input.order,
    });
    if (!trace.length) throw usageError(`--rate and --duration give no request in the window.`, 'Raise --rate or --duration.');
    return { ...trace, info: { source: src.tiers ? 'tiers' : 'weights', from: src.from, unknownModels: unknown, unknownRequests: 0 } };
  }
  let unknownRequests = 0;
  for (let r = 0; r < src.length; r++) if (map[src.indices[r]] < 0) unknownRequests++;
  say(`their ${unknownRequests} request(s) are`);
  const len = src.length - unknownRequests;
  if (!len) throw usageError(`--traffic ${src.from}: none of its models is in the fleet (${input.models.from}).`, 'Name the models as `mme ls` prints them.');
  // In place (the log's arrays are the trace's): model ids of the fleet, times / speed, unknown models dropped.
  const { times } = src;
  const models = src.indices;
  let j = 0;
  for (let r = 0; r < src.length; r++) {
    const m = map[models[r]];
    if (m < 0) continue;
    times[j] = times[r] / input.speed;
    models[j++] = m;
  }
  return {
    times,
    models,
    length: len,
    durationMs: Math.max(1, times[len - 1]),
    info: { source: 'log', from: src.from, unknownModels: unknown, unknownRequests },
  };
}
