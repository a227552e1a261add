/**
 * Scoring: margins by tree traversal (or the linear model), then the objective's output transform.
 * float32 like xgboost: inputs are a Float32Array, every accumulation is stored into a Float32Array (which rounds
 * to float32), trees are added in model order starting from the base margin.
 *
 * Rows are processed in blocks: for each block of BLOCK_ROWS rows, every tree is run over all rows of the block
 * before the next tree, so a tree's nodes stay in cache while it is used (xgboost's predictor does the same).
 */
import { MAX_CATEGORY, NODE_STRIDE, type CompiledModel, type CompiledTrees } from './compile.js';
import { applyTransform } from './objectives.js';

const BLOCK_ROWS = 64;

/** Margins (before the objective's transform), `model.groups` per row. */
export function predictMargins(model: CompiledModel, rows: Float32Array, nRows: number, out?: Float32Array): Float32Array {
  const groups = model.groups;
  const margins = out ?? new Float32Array(nRows * groups);
  for (let r = 0; r < nRows; r++) for (let g = 0; g < groups; g++) margins[r * groups + g] = model.baseMargin[g];
  if (model.trees) {
    if (model.trees.hasCategorical) addTreesGeneral(model.trees, rows, nRows, model.numFeature, groups, margins);
    else addTreesNumeric(model.trees, rows, nRows, model.numFeature, groups, margins);
  } else if (model.linear) {
    addLinear(model.linear, rows, nRows, model.numFeature, groups, margins);
  }
  return margins;
}

/** Predictions as xgboost's predict(output_margin=False): `model.outputsPerRow` per row. */
export function predictCompiled(model: CompiledModel, rows: Float32Array, nRows: number): Float32Array {
  const margins = predictMargins(model, rows, nRows);
  const out = model.outputsPerRow === model.groups ? margins : new Float32Array(nRows * model.outputsPerRow);
  applyTransform(model.transform, margins, nRows, model.groups, out);
  return out;
}

/** Trees without categorical splits: the hot loop. */
function addTreesNumeric(trees: CompiledTrees, rows: Float32Array, nRows: number, nCols: number, groups: number, margins: Float32Array): void {
  const words = trees.words;
  const values = trees.values;
  const roots = trees.roots;
  const treeGroups = trees.groups;
  const nTrees = trees.count;
  for (let start = 0; start < nRows; start += BLOCK_ROWS) {
    const end = Math.min(nRows, start + BLOCK_ROWS);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t];
      const g = treeGroups[t];
      for (let r = start; r < end; r++) {
        const rowBase = r * nCols;
        let n = root;
        let feature = words[n];
        while (feature >= 0) {
          const v = rows[rowBase + feature];
          const link = words[n + 1];
          // v < threshold → left; NaN (missing) → the default side; otherwise right
          n = (link >> 1) + (v < values[n + 2] ? 0 : v === v ? NODE_STRIDE : (link & 1) * NODE_STRIDE);
          feature = words[n];
        }
        margins[r * groups + g] += values[n + 2];
      }
    }
  }
}

/** Trees with categorical splits: as above plus the category-set test. */
function addTreesGeneral(trees: CompiledTrees, rows: Float32Array, nRows: number, nCols: number, groups: number, margins: Float32Array): void {
  const words = trees.words;
  const values = trees.values;
  const catBits = trees.catBits;
  for (let start = 0; start < nRows; start += BLOCK_ROWS) {
    const end = Math.min(nRows, start + BLOCK_ROWS);
    for (let t = 0; t < trees.count; t++) {
      const root = trees.roots[t];
      const g = trees.groups[t];
      for (let r = start; r < end; r++) {
        const rowBase = r * nCols;
        let n = root;
        let feature = words[n];
        while (feature >= 0) {
          const v = rows[rowBase + feature];
          const link = words[n + 1];
          const cat = words[n + 3];
          let goRight: number;
          if (v !== v) goRight = link & 1;
          else if (cat < 0) goRight = v < values[n + 2] ? 0 : 1;
          else goRight = inCategorySet(catBits, cat, v) ? 1 : 0; // in the set → right
          n = (link >> 1) + goRight * NODE_STRIDE;
          feature = words[n];
        }
        margins[r * groups + g] += values[n + 2];
      }
    }
  }
}

/** Negative, too large, or absent from the bitset → not in the set (goes left). Fractions truncate like (int)v. */
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
