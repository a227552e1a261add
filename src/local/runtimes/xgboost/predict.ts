/**
 * Scoring: margins by tree traversal (or the linear model), then the objective's output transform.
 * float32 like xgboost: inputs are float32, every accumulation is stored into a Float32Array (which rounds to
 * float32), trees are added in model order starting from the base margin.
 *
 * Speed (see compile.ts for the node layout):
 * - rows are processed in blocks (up to MAX_BLOCK_ROWS); each block is first copied into "extended rows" (values,
 *   -Infinity, negated values for default-left splits), then every tree runs over the whole block before the next tree, so a
 *   tree's nodes stay in cache while it is used (xgboost's predictor blocks rows the same way);
 * - one comparison per level, no missing-value test, no leaf test: each tree is walked for exactly its depth;
 * - eight rows walk a tree together, so the CPU overlaps their independent memory loads, and the step to the next
 *   node is computed without a branch.
 */
import { MAX_CATEGORY, NODE_STRIDE, SPECIAL_CATEGORICAL, SPECIAL_MISSING_LEFT, type CompiledModel, type CompiledTrees } from './compile.js';
import { applyTransform } from './objectives.js';

/** Rows per block: up to 128, fewer for wide rows so a block of extended rows stays within ~64 KB of cache. */
const MAX_BLOCK_ROWS = 128;
const BLOCK_BYTES = 64 * 1024;
const STRIDE_SHIFT = 2; // log2(NODE_STRIDE)

/** Margins (before the objective's transform), `model.groups` per row. */
export function predictMargins(model: CompiledModel, rows: Float32Array, nRows: number, out?: Float32Array): Float32Array {
  const groups = model.groups;
  const margins = out ?? new Float32Array(nRows * groups);
  for (let r = 0; r < nRows; r++) for (let g = 0; g < groups; g++) margins[r * groups + g] = model.baseMargin[g];
  if (model.trees) addTrees(model.trees, rows, nRows, model.numFeature, groups, margins);
  else if (model.linear) addLinear(model.linear, rows, nRows, model.numFeature, groups, margins);
  return margins;
}

/** Predictions as xgboost's predict(output_margin=False): `model.outputsPerRow` per row. */
export function predictCompiled(model: CompiledModel, rows: Float32Array, nRows: number): Float32Array {
  const margins = predictMargins(model, rows, nRows);
  const out = model.outputsPerRow === model.groups ? margins : new Float32Array(nRows * model.outputsPerRow);
  applyTransform(model.transform, margins, nRows, model.groups, out);
  return out;
}

/** Reused extended-row buffer (scoring is synchronous, so one per process is enough). */
let extended = new Float32Array(0);

function addTrees(trees: CompiledTrees, rows: Float32Array, nRows: number, nCols: number, groups: number, margins: Float32Array): void {
  const width = trees.extendedWidth;
  const blockRows = Math.max(1, Math.min(MAX_BLOCK_ROWS, nRows, Math.floor(BLOCK_BYTES / 4 / width)));
  if (extended.length < blockRows * width) extended = new Float32Array(blockRows * width);
  const ext = extended;
  const negated = trees.negatedFeatures;
  for (let start = 0; start < nRows; start += blockRows) {
    const count = Math.min(blockRows, nRows - start);
    for (let i = 0; i < count; i++) {
      const src = (start + i) * nCols;
      const dst = i * width;
      ext.set(rows.subarray(src, src + nCols), dst);
      ext[dst + nCols] = -Infinity;
      for (let k = 0; k < negated.length; k++) ext[dst + nCols + 1 + k] = -rows[src + negated[k]];
    }
    if (trees.hasSpecial) blockGeneral(trees, ext, width, count, start, groups, margins);
    else blockNumeric(trees, ext, width, count, start, groups, margins);
  }
}

/**
 * The hot loop: trees with numeric splits only, eight rows at a time. `+(x < t) ^ 1` is 0 (go to `first`) or 1 (go
 * to `second`, also for NaN), computed without a branch: a tree walk's comparisons are unpredictable, and
 * mispredicted branches cost more than the walk itself.
 */
function blockNumeric(trees: CompiledTrees, ext: Float32Array, width: number, count: number, start: number, groups: number, margins: Float32Array): void {
  const words = trees.words;
  const values = trees.values;
  const roots = trees.roots;
  const depths = trees.depths;
  const treeGroups = trees.groups;
  const nTrees = trees.count;
  for (let t = 0; t < nTrees; t++) {
    const root = roots[t];
    const depth = depths[t];
    const g = treeGroups[t];
    for (let i = 0; i + 8 <= count; i += 8) {
      const b0 = i * width;
      const b1 = b0 + width;
      const b2 = b1 + width;
      const b3 = b2 + width;
      const b4 = b3 + width;
      const b5 = b4 + width;
      const b6 = b5 + width;
      const b7 = b6 + width;
      let n0 = root;
      let n1 = root;
      let n2 = root;
      let n3 = root;
      let n4 = root;
      let n5 = root;
      let n6 = root;
      let n7 = root;
      for (let d = 0; d < depth; d++) {
        n0 = words[n0 + 1] + ((+(ext[b0 + words[n0]] < values[n0 + 2]) ^ 1) << STRIDE_SHIFT);
        n1 = words[n1 + 1] + ((+(ext[b1 + words[n1]] < values[n1 + 2]) ^ 1) << STRIDE_SHIFT);
        n2 = words[n2 + 1] + ((+(ext[b2 + words[n2]] < values[n2 + 2]) ^ 1) << STRIDE_SHIFT);
        n3 = words[n3 + 1] + ((+(ext[b3 + words[n3]] < values[n3 + 2]) ^ 1) << STRIDE_SHIFT);
        n4 = words[n4 + 1] + ((+(ext[b4 + words[n4]] < values[n4 + 2]) ^ 1) << STRIDE_SHIFT);
        n5 = words[n5 + 1] + ((+(ext[b5 + words[n5]] < values[n5 + 2]) ^ 1) << STRIDE_SHIFT);
        n6 = words[n6 + 1] + ((+(ext[b6 + words[n6]] < values[n6 + 2]) ^ 1) << STRIDE_SHIFT);
        n7 = words[n7 + 1] + ((+(ext[b7 + words[n7]] < values[n7 + 2]) ^ 1) << STRIDE_SHIFT);
      }
      const m = (start + i) * groups + g;
      margins[m] += values[n0 + 3];
      margins[m + groups] += values[n1 + 3];
      margins[m + 2 * groups] += values[n2 + 3];
      margins[m + 3 * groups] += values[n3 + 3];
      margins[m + 4 * groups] += values[n4 + 3];
      margins[m + 5 * groups] += values[n5 + 3];
      margins[m + 6 * groups] += values[n6 + 3];
      margins[m + 7 * groups] += values[n7 + 3];
    }
  }
  // Rows left over (a single-row request is all leftover): eight trees of one row at a time instead.
  for (let i = count - (count % 8); i < count; i++) walkTreesOfRow(trees, ext, i * width, (start + i) * groups, margins);
}

/**
 * One row through all trees, eight trees at a time so their walks overlap. Leaf values are still added to the
 * margins in tree order (float32 addition is not associative).
 */
function walkTreesOfRow(trees: CompiledTrees, ext: Float32Array, b: number, m: number, margins: Float32Array): void {
  const words = trees.words;
  const values = trees.values;
  const roots = trees.roots;
  const depths = trees.depths;
  const treeGroups = trees.groups;
  const nTrees = trees.count;
  let t = 0;
  for (; t + 8 <= nTrees; t += 8) {
    let n0 = roots[t];
    let n1 = roots[t + 1];
    let n2 = roots[t + 2];
    let n3 = roots[t + 3];
    let n4 = roots[t + 4];
    let n5 = roots[t + 5];
    let n6 = roots[t + 6];
    let n7 = roots[t + 7];
    let depth = depths[t];
    for (let k = 1; k < 8; k++) if (depths[t + k] > depth) depth = depths[t + k];
    for (let d = 0; d < depth; d++) {
      // a tree shallower than `depth` sits on its leaf, which points to itself
      n0 = words[n0 + 1] + ((+(ext[b + words[n0]] < values[n0 + 2]) ^ 1) << STRIDE_SHIFT);
      n1 = words[n1 + 1] + ((+(ext[b + words[n1]] < values[n1 + 2]) ^ 1) << STRIDE_SHIFT);
      n2 = words[n2 + 1] + ((+(ext[b + words[n2]] < values[n2 + 2]) ^ 1) << STRIDE_SHIFT);
      n3 = words[n3 + 1] + ((+(ext[b + words[n3]] < values[n3 + 2]) ^ 1) << STRIDE_SHIFT);
      n4 = words[n4 + 1] + ((+(ext[b + words[n4]] < values[n4 + 2]) ^ 1) << STRIDE_SHIFT);
      n5 = words[n5 + 1] + ((+(ext[b + words[n5]] < values[n5 + 2]) ^ 1) << STRIDE_SHIFT);
      n6 = words[n6 + 1] + ((+(ext[b + words[n6]] < values[n6 + 2]) ^ 1) << STRIDE_SHIFT);
      n7 = words[n7 + 1] + ((+(ext[b + words[n7]] < values[n7 + 2]) ^ 1) << STRIDE_SHIFT);
    }
    margins[m + treeGroups[t]] += values[n0 + 3];
    margins[m + treeGroups[t + 1]] += values[n1 + 3];
    margins[m + treeGroups[t + 2]] += values[n2 + 3];
    margins[m + treeGroups[t + 3]] += values[n3 + 3];
    margins[m + treeGroups[t + 4]] += values[n4 + 3];
    margins[m + treeGroups[t + 5]] += values[n5 + 3];
    margins[m + treeGroups[t + 6]] += values[n6 + 3];
    margins[m + treeGroups[t + 7]] += values[n7 + 3];
  }
  for (; t < nTrees; t++) {
    let n = roots[t];
    for (let d = depths[t]; d > 0; d--) n = words[n + 1] + ((+(ext[b + words[n]] < values[n + 2]) ^ 1) << STRIDE_SHIFT);
    margins[m + treeGroups[t]] += values[n + 3];
  }
}

/** Trees with categorical splits or non-finite thresholds: one row at a time, special nodes tested explicitly. */
function blockGeneral(trees: CompiledTrees, ext: Float32Array, width: number, count: number, start: number, groups: number, margins: Float32Array): void {
  const words = trees.words;
  const values = trees.values;
  const catBits = trees.catBits;
  for (let t = 0; t < trees.count; t++) {
    const root = trees.roots[t];
    const depth = trees.depths[t];
    const g = trees.groups[t];
    for (let i = 0; i < count; i++) {
      const b = i * width;
      let n = root;
      for (let d = 0; d < depth; d++) {
        const column = words[n];
        if (column >= 0) {
          n = words[n + 1] + ((+(ext[b + column] < values[n + 2]) ^ 1) << STRIDE_SHIFT);
          continue;
        }
        const v = ext[b - column - 1];
        const info = words[n + 3];
        let second: boolean;
        if (v !== v) {
          second = true; // missing → the default child
        } else {
          const goRight = info & SPECIAL_CATEGORICAL ? inCategorySet(catBits, info >>> 2, v) : !(v < values[n + 2]);
          second = info & SPECIAL_MISSING_LEFT ? !goRight : goRight;
        }
        n = words[n + 1] + (second ? NODE_STRIDE : 0);
      }
      margins[(start + i) * groups + g] += values[n + 3];
    }
  }
}

/** In the set → right. Negative, too large, or absent from the bitset → left. Fractions truncate like (int)v. */
function inCategorySet(catBits: Uint32Array, at: number, v: number): boolean {
  if (v < 0 || v >= MAX_CATEGORY) return false;
  const c = Math.trunc(v);
  const word = c >>> 5;
  if (word >= catBits[at]) return false;
  return ((catBits[at + 1 + word] >>> (c & 31)) & 1) === 1;
}

/** gblinear: bias + base, then x_j * w[j][g] over present features in index order, all in float32. */
function addLinear(weights: Float32Array, rows: Float32Array, nRows: number, nCols: number, groups: number, margins: Float32Array): void {
  const f = Math.fround;
  const biasRow = nCols * groups;
  for (let r = 0; r < nRows; r++) {
    const rowBase = r * nCols;
    for (let g = 0; g < groups; g++) {
      let sum = f(weights[biasRow + g] + margins[r * groups + g]);
      for (let j = 0; j < nCols; j++) {
        const x = rows[rowBase + j];
        if (x === x) sum = f(sum + f(x * weights[j * groups + g]));
      }
      margins[r * groups + g] = sum;
    }
  }
}
