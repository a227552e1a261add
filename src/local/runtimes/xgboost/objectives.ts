/**
 * Objectives: how base_score becomes the starting margin, and how a margin becomes the returned prediction.
 * All arithmetic is float32 like xgboost's (Math.fround after every operation; expf/logf ≈ fround(Math.exp/log)).
 */
import { fail } from './source.js';

const f = Math.fround;

export enum Transform {
  Identity = 0,
  Sigmoid = 1,
  Exp = 2,
  Softmax = 3,
  ArgMax = 4,
  Hinge = 5,
}

type MarginOf = 'identity' | 'logit' | 'log';

interface ObjectiveInfo {
  baseToMargin: MarginOf;
  transform: Transform;
}

const OBJECTIVES: Record<string, ObjectiveInfo> = {
  'binary:logistic': { baseToMargin: 'logit', transform: Transform.Sigmoid },
  'reg:logistic': { baseToMargin: 'logit', transform: Transform.Sigmoid },
  'binary:logitraw': { baseToMargin: 'identity', transform: Transform.Identity },
  'binary:hinge': { baseToMargin: 'identity', transform: Transform.Hinge },
  'count:poisson': { baseToMargin: 'log', transform: Transform.Exp },
  'reg:gamma': { baseToMargin: 'log', transform: Transform.Exp },
  'reg:tweedie': { baseToMargin: 'log', transform: Transform.Exp },
  'survival:cox': { baseToMargin: 'log', transform: Transform.Exp },
  'reg:squarederror': { baseToMargin: 'identity', transform: Transform.Identity },
  'reg:linear': { baseToMargin: 'identity', transform: Transform.Identity },
  'reg:pseudohubererror': { baseToMargin: 'identity', transform: Transform.Identity },
  'reg:squaredlogerror': { baseToMargin: 'identity', transform: Transform.Identity },
  'reg:absoluteerror': { baseToMargin: 'identity', transform: Transform.Identity },
  'multi:softprob': { baseToMargin: 'identity', transform: Transform.Softmax },
  'multi:softmax': { baseToMargin: 'identity', transform: Transform.ArgMax },
};

export const SUPPORTED_OBJECTIVES: readonly string[] = [...Object.keys(OBJECTIVES), 'rank:*'];

function infoOf(objective: string): ObjectiveInfo {
  const known = OBJECTIVES[objective];
  if (known) return known;
  // rank:pairwise, rank:ndcg, rank:map: the score is the raw margin.
  if (objective.startsWith('rank:')) return { baseToMargin: 'identity', transform: Transform.Identity };
  return fail(`unsupported objective '${objective}' (supported: ${SUPPORTED_OBJECTIVES.join(', ')})`);
}

export function transformOf(objective: string): Transform {
  return infoOf(objective).transform;
}

/** ProbToMargin of xgboost 1.x/2.x objectives, in float32. */
export function baseScoreToMargin(objective: string, baseScore: number): number {
  const b = f(baseScore);
  switch (infoOf(objective).baseToMargin) {
    case 'identity':
      return b;
    case 'logit':
      // -logf(1.0f / base_score - 1.0f)
      if (!(b > 0 && b < 1)) fail(`base_score ${b} must be in (0, 1) for objective '${objective}'`);
      return f(-f(Math.log(f(f(1 / b) - 1))));
    case 'log':
      if (!(b > 0)) fail(`base_score ${b} must be positive for objective '${objective}'`);
      return f(Math.log(b));
  }
}

/**
 * Turn the margins of `nRows` rows (`groups` values each) into predictions written to `out`
 * (`groups` values per row for softmax/multi-output, one for argmax).
 */
export function applyTransform(transform: Transform, margins: Float32Array, nRows: number, groups: number, out: Float32Array): void {
  const n = nRows * groups;
  switch (transform) {
    case Transform.Identity:
      if (out !== margins) out.set(margins.subarray(0, n));
      return;
    case Transform.Sigmoid:
      for (let i = 0; i < n; i++) out[i] = f(1 / f(1 + f(Math.exp(-margins[i]))));
      return;
    case Transform.Exp:
      for (let i = 0; i < n; i++) out[i] = f(Math.exp(margins[i]));
      return;
    case Transform.Hinge:
      for (let i = 0; i < n; i++) out[i] = margins[i] > 0 ? 1 : 0;
      return;
    case Transform.Softmax:
      for (let r = 0; r < nRows; r++) softmaxRow(margins, r * groups, groups, out);
      return;
    case Transform.ArgMax:
      for (let r = 0; r < nRows; r++) {
        const base = r * groups;
        let best = 0;
        let bestValue = margins[base];
        for (let g = 1; g < groups; g++) {
          // strict '>' keeps the first maximum, like xgboost's FindMaxIndex
          if (margins[base + g] > bestValue) {
            bestValue = margins[base + g];
            best = g;
          }
        }
        out[r] = best;
      }
      return;
  }
}

/** xgboost's common::Softmax: subtract the max, expf in float32, sum in double, divide by (float)sum. */
function softmaxRow(margins: Float32Array, base: number, groups: number, out: Float32Array): void {
  let max = margins[base];
  for (let g = 1; g < groups; g++) if (margins[base + g] > max) max = margins[base + g];
  let sum = 0;
  for (let g = 0; g < groups; g++) {
    const e = f(Math.exp(f(margins[base + g] - max)));
    out[base + g] = e;
    sum += e;
  }
  const denominator = f(sum);
  for (let g = 0; g < groups; g++) out[base + g] = f(out[base + g] / denominator);
}
