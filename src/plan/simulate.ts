/**
 * The MME cache simulator: one pass over a trace, per-instance state in typed arrays (no object per request or per
 * model), so ten million requests over a thousand models take a few seconds and a few MB besides the trace.
 *
 * What it follows (SageMaker's documented MME behaviour, see shared/reference/sagemaker-mme.md):
 * - Each instance has its own memory LRU (usable bytes = instance memory minus the container overhead), its own disk
 *   cache (a model unloaded from memory stays on disk and reloads without a download; the disk is assumed to hold
 *   the whole fleet), and `vcpus` workers that each serve one request at a time for `serviceMs`. Workers' time is
 *   booked in arrival order (a fluid approximation of a queue: no event list); loading a model takes a worker's time
 *   too (deserialising is CPU work), downloading does not.
 * - A request for a model in memory is a cache hit. Otherwise it is a miss: least-recently-used models are unloaded
 *   until the model fits, and it is loaded (download + load, or load only when it is on the instance's disk). Requests
 *   arriving while it loads wait for the same load and are misses too (as ModelCacheHit counts them). A model larger
 *   than the usable memory cannot load: its requests fail (counted in `failed`, and as misses).
 * - Routing, the rule chosen here (SageMaker does not publish its own): a request goes to the instance that holds
 *   its model in memory (the one whose worker frees first, if several do). If none does, it goes to the model's
 *   home instance, a fixed hash of the model's index, so that models spread evenly over the instances and a model
 *   reloads where its files are on disk. Spill-over: with several instances, when the holder's wait for a worker
 *   exceeds `spillWaitMs` and another instance has an idle worker, the request goes there (the least busy one) and
 *   that instance loads its own copy of the model.
 * - With one instance there is no routing and no spill-over; replaying a log there is exact LRU on memory: the hit
 *   ratio depends only on the order of requests, not on their timing (loads finish before the next request in a
 *   sequential replay).
 */

/** A request trace: arrival times (ms from the start, ascending) and model indices, as typed arrays. */
export interface Trace {
  times: Float64Array;
  models: Uint32Array;
  /** Requests in the trace (the arrays may be longer). */
  length: number;
  /** The span the trace covers, in ms (at least the last arrival). */
  durationMs: number;
}

export interface SimConfig {
  instances: number;
  vcpus: number;
  /** Usable memory per instance for models, in bytes. */
  memoryBytes: number;
  /** In-memory bytes of each model (copies included), by model index. */
  modelBytes: Float64Array;
  /** A worker's time per request, in ms. */
  serviceMs: number;
  /** Download: fixed ms per model plus bytes per ms. */
  downloadFixedMs: number;
  downloadBytesPerMs: number;
  /** Load (deserialisation into memory): fixed ms per model plus bytes per ms. */
  loadFixedMs: number;
  loadBytesPerMs: number;
  /** Requests waiting longer than this for a worker spill to an idle instance (several instances only). */
  spillWaitMs: number;
  /**
   * Decide hits by request order alone: a request for a model whose load is still in progress counts as a hit.
   * Set for log replays, so that one instance replays exact LRU whatever the log's timing.
   */
  orderOnly?: boolean;
  /** Models whose requests have their own wait percentiles (the latency-critical ones, --p99-top); 1 = critical. */
  critical?: Uint8Array;
  /** Models whose requests are left out (served elsewhere: the hybrid's dedicated endpoints); 1 = excluded. */
  exclude?: Uint8Array;
}

export interface SimResult {
  requests: number;
  hits: number;
  /** Loads into memory (downloads included). */
  coldLoads: number;
  /** Loads that downloaded the model first (the rest reloaded from disk). */
  downloads: number;
  unloads: number;
  /** Requests for a model larger than the usable memory. */
  failed: number;
  /** Requests that went to a second instance because the holder was busy. */
  spilled: number;
  waitP50Ms: number;
  waitP99Ms: number;
  waitMeanMs: number;
  waitMaxMs: number;
  /** The added wait p99 of the critical models' requests (0 when none was served here); null without `critical`. */
  criticalWaitP99Ms: number | null;
  criticalRequests: number;
  /** Worker-busy ms over all instances. */
  busyMs: number;
  /** Most models in memory at once on one instance. */
  maxLoadedModels: number;
  /** Most bytes in memory at once on one instance. */
  maxMemoryBytes: number;
}

// Wait histogram, without a logarithm per request: a wait's bucket is the top bits of its float64 (exponent and the
// first 5 mantissa bits), i.e. 32 buckets per doubling (2.2% wide) from 1 µs up; bucket 0 is "no wait" (< 1 µs).
const HIST_BASE_MS = 0.001;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // the high word's index (little-endian: 1)
const keyOf = (v: number) => {
  f64[0] = v;
  return u32[HI] >>> 15;
};
const HIST_FIRST = keyOf(HIST_BASE_MS);
const HIST_BUCKETS = keyOf(1e12) - HIST_FIRST + 2;
/** The upper edge (ms) of histogram bucket b ≥ 1. */
const edgeOf = (b: number) => {
  u32[HI] = ((b - 1 + HIST_FIRST + 1) << 15) >>> 0;
  u32[1 - HI] = 0;
  return f64[0];
};

export function simulate(trace: Trace, cfg: SimConfig): SimResult {
  const n = cfg.modelBytes.length;
  const I = Math.max(1, cfg.instances);
  const V = Math.max(1, cfg.vcpus);
  const cap = cfg.memoryBytes;
  const bytes = cfg.modelBytes;
  const exclude = cfg.exclude;
  const serviceMs = cfg.serviceMs;
  const orderOnly = cfg.orderOnly === true;

  // Per (instance, model), index i*n + m: 0 absent, 1 on disk only, 2 in memory (loaded or loading).
  const state = new Uint8Array(I * n);
  const readyAt = new Float64Array(I * n);
  // The LRU of each instance: a doubly linked list through prev/next (node i*n + m), head = most recent.
  const prev = new Int32Array(I * n).fill(-1);
  const next = new Int32Array(I * n).fill(-1);
  const head = new Int32Array(I).fill(-1);
  const tail = new Int32Array(I).fill(-1);
  const used = new Float64Array(I);
  const loaded = new Int32Array(I);
  const freeAt = new Float64Array(I * V);
  const hist = new Float64Array(HIST_BUCKETS);
  const critical = cfg.critical;
  const criticalHist = new Float64Array(critical ? HIST_BUCKETS : 0);
  let criticalRequests = 0;
  let criticalFailed = 0;

  let requests = 0;
  let hits = 0;
  let coldLoads = 0;
  let downloads = 0;
  let unloads = 0;
  let failed = 0;
  let spilled = 0;
  let waitSum = 0;
  let waitMax = 0;
  let busyMs = 0;
  let maxLoaded = 0;
  let maxMemory = 0;

  const unlink = (node: number, inst: number) => {
    const p = prev[node];
    const q = next[node];
    if (p >= 0) next[p] = q;
    else head[inst] = q;
    if (q >= 0) prev[q] = p;
    else tail[inst] = p;
    prev[node] = -1;
    next[node] = -1;
  };
  const pushFront = (node: number, inst: number) => {
    const h = head[inst];
    next[node] = h;
    prev[node] = -1;
    if (h >= 0) prev[h] = node;
    else tail[inst] = node;
    head[inst] = node;
  };
  // Each instance's workers' free times form a binary min-heap in freeAt[inst*V … inst*V+V-1]: the root is the worker
  // that frees first, and booking it is one sift-down (log V), not a scan.
  /** Books `ms` of the first free worker of `inst`, from `t` at the earliest; returns when it starts. */
  const book = (inst: number, t: number, ms: number) => {
    const base = inst * V;
    let start = freeAt[base];
    if (start < t) start = t;
    const v = start + ms;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= V) break;
      const r = l + 1;
      const c = r < V && freeAt[base + r] < freeAt[base + l] ? r : l;
      if (freeAt[base + c] >= v) break;
      freeAt[base + i] = freeAt[base + c];
      i = c;
    }
    freeAt[base + i] = v;
    return start;
  };

  const { times, models } = trace;
  const len = trace.length;
  for (let r = 0; r < len; r++) {
    const m = models[r];
    if (exclude !== undefined && exclude[m] === 1) continue;
    const t = times[r];
    requests++;

    // Routing.
    let inst = 0;
    if (I > 1) {
      let holder = -1;
      let holderFree = Infinity;
      for (let i = 0; i < I; i++) {
        if (state[i * n + m] === 2) {
          const f = freeAt[i * V];
          if (f < holderFree) {
            holderFree = f;
            holder = i;
          }
        }
      }
      if (holder >= 0) {
        inst = holder;
        if (holderFree - t > cfg.spillWaitMs) {
          // The least busy other instance with an idle worker, if any.
          let idle = -1;
          let idleFree = Infinity;
          for (let i = 0; i < I; i++) {
            if (state[i * n + m] === 2) continue;
            const f = freeAt[i * V];
            if (f <= t && f < idleFree) {
              idleFree = f;
              idle = i;
            }
          }
          if (idle >= 0) {
            inst = idle;
            spilled++;
          }
        }
      } else {
        inst = homeOf(m, I);
      }
    }

    // Cache.
    const node = inst * n + m;
    let ready: number;
    if (state[node] === 2) {
      ready = readyAt[node];
      if (ready <= t || orderOnly) hits++;
      if (head[inst] !== node) {
        unlink(node, inst);
        pushFront(node, inst);
      }
    } else {
      const size = bytes[m];
      if (size > cap) {
        failed++;
        if (critical !== undefined && critical[m] === 1) criticalFailed++;
        continue;
      }
      while (used[inst] + size > cap) {
        const victim = tail[inst];
        if (victim < 0) break;
        unlink(victim, inst);
        state[victim] = 1;
        used[inst] -= bytes[victim - inst * n];
        loaded[inst]--;
        unloads++;
      }
      // The download is I/O; the load (deserialising) is CPU work and takes a worker's time, booked like a request's,
      // so that a thrashing instance slows every model on it, not only the ones it reloads.
      let downloadMs = 0;
      if (state[node] === 0) {
        downloadMs = cfg.downloadFixedMs + size / cfg.downloadBytesPerMs;
        downloads++;
      }
      const loadMs = cfg.loadFixedMs + size / cfg.loadBytesPerMs;
      const cpuStart = book(inst, t, loadMs);
      busyMs += loadMs;
      coldLoads++;
      state[node] = 2;
      ready = Math.max(cpuStart, t + downloadMs) + loadMs;
      readyAt[node] = ready;
      pushFront(node, inst);
      used[inst] += size;
      loaded[inst]++;
      if (loaded[inst] > maxLoaded) maxLoaded = loaded[inst];
      if (used[inst] > maxMemory) maxMemory = used[inst];
    }

    // A worker's time is booked in arrival order (first free worker, from the arrival on); a request whose model
    // is still loading waits for the load too, without holding the worker meanwhile (the load runs beside it).
    let start = book(inst, t, serviceMs);
    busyMs += serviceMs;
    if (start < ready) start = ready;
    const wait = start - t;
    waitSum += wait;
    if (wait > waitMax) waitMax = wait;
    let b = 0;
    if (wait >= HIST_BASE_MS) {
      f64[0] = wait;
      b = 1 + (u32[HI] >>> 15) - HIST_FIRST;
      if (b >= HIST_BUCKETS) b = HIST_BUCKETS - 1;
    }
    hist[b]++;
    if (critical !== undefined && critical[m] === 1) {
      criticalHist[b]++;
      criticalRequests++;
    }
  }

  return {
    requests,
    hits,
    coldLoads,
    downloads,
    unloads,
    failed,
    spilled,
    waitP50Ms: quantile(hist, requests - failed, 0.5),
    waitP99Ms: quantile(hist, requests - failed, 0.99),
    waitMeanMs: requests - failed > 0 ? waitSum / (requests - failed) : 0,
    waitMaxMs: waitMax,
    criticalWaitP99Ms: critical === undefined ? null : criticalFailed > 0 ? Infinity : quantile(criticalHist, criticalRequests, 0.99),
    criticalRequests,
    busyMs,
    maxLoadedModels: maxLoaded,
    maxMemoryBytes: maxMemory,
  };
}

/** The home instance of a model when no instance holds it: a fixed integer hash, spread evenly. */
export function homeOf(model: number, instances: number): number {
  let h = Math.imul(model ^ 0x5bd1e995, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % instances;
}

/** The upper edge of the histogram bucket holding quantile q (0 when most requests did not wait). */
function quantile(hist: Float64Array, total: number, q: number): number {
  if (total <= 0) return 0;
  const want = Math.ceil(total * q);
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b];
    if (seen >= want) return b === 0 ? 0 : edgeOf(b);
  }
  return Infinity;
}

/**
 * The hit ratio of one instance at each memory budget, in one pass (Mattson's stack algorithm with sizes): under LRU
 * the models in memory are always the most recent ones whose sizes add up to at most the budget, so a request hits
 * a budget C exactly when its model plus every distinct model used since its last request take at most C bytes.
 * Those bytes are a range sum over "last use" positions, kept in a Fenwick tree. Only each model's last use is live,
 * so positions are renumbered whenever the tree (4 slots per model) is full: it stays small enough to sit in cache.
 * Hits are decided by order alone, as in a log replay; budgets must be at least the largest model.
 */
export function lruCurve(trace: Trace, modelBytes: Float64Array, budgets: number[], exclude?: Uint8Array): { requests: number; hits: number[] } {
  const len = trace.length;
  const models = trace.models;
  const n = modelBytes.length;
  const size = Math.max(64, 4 * n);
  const tree = new Float64Array(size + 1);
  const last = new Int32Array(n).fill(-1);
  const owner = new Int32Array(size).fill(-1);
  const sorted = [...budgets].sort((a, b) => a - b);
  const counts = new Float64Array(sorted.length + 1);
  const add = (pos: number, v: number) => {
    for (let i = pos + 1; i <= size; i += i & -i) tree[i] += v;
  };
  const prefix = (pos: number) => {
    let s = 0;
    for (let i = pos; i > 0; i -= i & -i) s += tree[i];
    return s;
  };
  let at = 0;
  const compact = () => {
    tree.fill(0);
    let k = 0;
    for (let p = 0; p < size; p++) {
      const m = owner[p];
      if (m < 0) continue;
      owner[p] = -1;
      owner[k] = m;
      last[m] = k;
      add(k, modelBytes[m]);
      k++;
    }
    at = k;
  };
  let requests = 0;
  for (let r = 0; r < len; r++) {
    const m = models[r];
    if (exclude !== undefined && exclude[m] === 1) continue;
    requests++;
    if (at === size) compact();
    const bytes = modelBytes[m];
    const prev = last[m];
    if (prev >= 0) {
      const d = prefix(at) - prefix(prev + 1) + bytes;
      // The first budget that holds d: it and every larger one hit.
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] >= d * (1 - 1e-9)) hi = mid;
        else lo = mid + 1;
      }
      counts[lo]++;
      add(prev, -bytes);
      owner[prev] = -1;
    }
    add(at, bytes);
    owner[at] = m;
    last[m] = at;
    at++;
  }
  const hitsSorted: number[] = [];
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) hitsSorted.push((acc += counts[i]));
  return { requests, hits: budgets.map((b) => hitsSorted[sorted.indexOf(b)]) };
}
