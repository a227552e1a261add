/**
 * A small seeded generator (sfc32, seeded through splitmix32): the same seed gives the same trace on every machine
 * and Node version, which Math.random cannot promise. Fast enough for tens of millions of draws a second.
 */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/**
 * Walker's alias table: draws an index with probability proportional to its weight in O(1), so a trace over
 * thousands of models costs the same per request as one over three.
 */
export function aliasSampler(weights: ArrayLike<number>, random: Random): () => number {
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < n; i++) {
    prob[i] = (weights[i] * n) / total;
    (prob[i] < 1 ? small : large).push(i);
  }
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    alias[s] = l;
    prob[l] = prob[l] + prob[s] - 1;
    if (prob[l] < 1) small.push(large.pop()!);
  }
  for (const i of large) prob[i] = 1;
  for (const i of small) prob[i] = 1;
  return () => {
    const u = random() * n;
    const i = Math.floor(u);
    return u - i < prob[i] ? i : alias[i];
  };
}
