/**
 * ModelSource → CompiledModel: every tree of a file flattened, in one pass, into a single interleaved node array
 * so that scoring touches no JS objects.
 *
 * Node layout: NODE_STRIDE int32 words per node, in one ArrayBuffer seen through an Int32Array (`words`) and a
 * Float32Array (`values`):
 *   word 0  split feature index, or -1 for a leaf
 *   word 1  (word offset of the left child << 1) | 1 if missing values go right; the right child is the next node
 *   word 2  float32 threshold (split) or leaf value (leaf; dart leaves are pre-multiplied by their weight_drop,
 *           which is exactly xgboost's float product done once instead of per row)
 *   word 3  categorical split: offset of its bitset in `catBits` ({word count, words...}), else -1
 * Nodes are renumbered breadth-first per tree so the two children of a node are adjacent and the top levels,
 * visited by every row, share cache lines.
 */
import { baseScoreToMargin, Transform, transformOf } from './objectives.js';
import { fail, type BoosterName, type ModelFormat, type ModelSource, type TreeSource } from './source.js';

export const NODE_STRIDE = 4;
/** Categories at or above 2^24 are invalid in xgboost (they are not exact in float32). */
export const MAX_CATEGORY = 16777216;

export interface CompiledTrees {
  readonly count: number;
  readonly nodeCount: number;
  readonly maxDepth: number;
  readonly words: Int32Array;
  readonly values: Float32Array;
  /** Word offset of each tree's root. */
  readonly roots: Int32Array;
  /** Output group of each tree. */
  readonly groups: Int32Array;
  readonly hasCategorical: boolean;
  readonly catBits: Uint32Array;
}

export interface CompiledModel {
  readonly fileName: string;
  readonly format: ModelFormat;
  readonly objective: string;
  readonly booster: BoosterName;
  readonly numFeature: number;
  readonly numClass: number;
  /** Margins per row (classes or targets, else 1). */
  readonly groups: number;
  /** Predictions returned per row (groups, except 1 for multi:softmax). */
  readonly outputsPerRow: number;
  readonly transform: Transform;
  /** Starting margin of each group (base_score through the objective's ProbToMargin). */
  readonly baseMargin: Float32Array;
  readonly trees: CompiledTrees | null;
  /** gblinear: (numFeature + 1) * groups weights, bias row last. */
  readonly linear: Float32Array | null;
  readonly footprintBytes: number;
}

/** Fixed cost of the JS objects around the typed arrays, counted in the footprint. */
const OBJECT_OVERHEAD_BYTES = 1024;

export function compileModel(source: ModelSource, fileName: string): CompiledModel {
  const transform = transformOf(source.objective);
  const isMultiClass = source.objective.startsWith('multi:');
  if (isMultiClass && source.numClass < 1) fail(`objective '${source.objective}' needs num_class, found ${source.numClass}`);
  const groups = Math.max(1, source.numClass, source.numTarget);
  const outputsPerRow = transform === Transform.ArgMax ? 1 : groups;

  if (source.baseScore.length !== 1 && source.baseScore.length !== groups) {
    fail(`base_score has ${source.baseScore.length} values for ${groups} outputs`);
  }
  const baseMargin = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const b = source.baseScore.length === 1 ? source.baseScore[0] : source.baseScore[g];
    baseMargin[g] = source.baseScoreIsMargin ? b : baseScoreToMargin(source.objective, b);
  }

  let trees: CompiledTrees | null = null;
  let linear: Float32Array | null = null;
  if (source.booster === 'gblinear') {
    const weights = source.linearWeights ?? fail('gblinear model without weights');
    const expected = (source.numFeature + 1) * groups;
    if (weights.length !== expected) fail(`gblinear weights have ${weights.length} entries, expected (num_feature + 1) * groups = ${expected}`);
    linear = Float32Array.from(weights, Math.fround);
  } else {
    trees = compileTrees(source, groups);
  }

  const footprintBytes =
    OBJECT_OVERHEAD_BYTES +
    baseMargin.byteLength +
    (linear ? linear.byteLength : 0) +
    (trees ? trees.words.buffer.byteLength + trees.roots.byteLength + trees.groups.byteLength + trees.catBits.byteLength : 0);

  return {
    fileName,
    format: source.format,
    objective: source.objective,
    booster: source.booster,
    numFeature: source.numFeature,
    numClass: source.numClass,
    groups,
    outputsPerRow,
    transform,
    baseMargin,
    trees,
    linear,
    footprintBytes,
  };
}

function compileTrees(source: ModelSource, groups: number): CompiledTrees {
  const count = source.trees.length;
  if (source.treeInfo.length !== count) fail(`tree_info has ${source.treeInfo.length} entries for ${count} trees`);
  const weightDrop = source.booster === 'dart' ? (source.weightDrop ?? fail('dart model without weight_drop')) : null;
  if (weightDrop && weightDrop.length !== count) fail(`weight_drop has ${weightDrop.length} entries for ${count} trees`);

  let totalNodes = 0;
  let catWords = 0;
  for (const tree of source.trees) {
    totalNodes += tree.left.length;
    catWords += categoryWords(tree);
  }
  if (totalNodes * NODE_STRIDE * 2 >= 2 ** 31) fail(`model too large (${totalNodes} nodes)`);

  const buffer = new ArrayBuffer(totalNodes * NODE_STRIDE * 4);
  const words = new Int32Array(buffer);
  const values = new Float32Array(buffer);
  const catBits = new Uint32Array(catWords);
  const roots = new Int32Array(count);
  const treeGroups = new Int32Array(count);
  const state = { next: 0, catNext: 0, maxDepth: 0, hasCategorical: false };
  // scratch: BFS queue of source node ids and their depths, sized for the largest tree
  let largest = 0;
  for (const tree of source.trees) largest = Math.max(largest, tree.left.length);
  const queue = new Int32Array(largest);
  const depth = new Int32Array(largest);

  for (let t = 0; t < count; t++) {
    const group = source.treeInfo[t];
    if (!Number.isInteger(group) || group < 0 || group >= groups) fail(`tree ${t} has output group ${group}, the model has ${groups}`);
    treeGroups[t] = group;
    roots[t] = state.next * NODE_STRIDE;
    const weight = weightDrop ? Math.fround(weightDrop[t]) : 1;
    compileTree(source.trees[t], t, source.numFeature, weightDrop !== null, weight, words, values, catBits, state, queue, depth);
  }

  // Unreachable (deleted) nodes were not copied; trim the buffer to what was used.
  const used = state.next * NODE_STRIDE;
  const trimmedBuffer = used === words.length ? buffer : buffer.slice(0, used * 4);
  return {
    count,
    nodeCount: state.next,
    maxDepth: state.maxDepth,
    words: new Int32Array(trimmedBuffer),
    values: new Float32Array(trimmedBuffer),
    roots,
    groups: treeGroups,
    hasCategorical: state.hasCategorical,
    catBits: state.catNext === catBits.length ? catBits : catBits.slice(0, state.catNext),
  };
}

/** Bitset words a tree's categorical splits need: per split, 1 length word + ceil((max category + 1) / 32). */
function categoryWords(tree: TreeSource): number {
  const nodes = tree.categoriesNodes;
  if (!nodes || nodes.length === 0) return 0;
  const cats = tree.categories ?? fail('categorical splits without categories');
  const segments = tree.categoriesSegments ?? fail('categorical splits without categories_segments');
  const sizes = tree.categoriesSizes ?? fail('categorical splits without categories_sizes');
  if (segments.length !== nodes.length || sizes.length !== nodes.length) fail('categories_nodes, categories_segments and categories_sizes differ in length');
  let total = 0;
  for (let k = 0; k < nodes.length; k++) {
    const begin = segments[k];
    const size = sizes[k];
    if (!(begin >= 0 && size >= 0 && begin + size <= cats.length)) fail(`category segment ${k} is out of range`);
    let max = -1;
    for (let j = begin; j < begin + size; j++) {
      const c = cats[j];
      if (!Number.isInteger(c) || c < 0 || c >= MAX_CATEGORY) fail(`invalid category ${c} in a categorical split`);
      if (c > max) max = c;
    }
    total += 1 + ((max + 1 + 31) >>> 5);
  }
  return total;
}

function compileTree(
  tree: TreeSource,
  t: number,
  numFeature: number,
  isDart: boolean,
  weight: number,
  words: Int32Array,
  values: Float32Array,
  catBits: Uint32Array,
  state: { next: number; catNext: number; maxDepth: number; hasCategorical: boolean },
  queue: Int32Array,
  depth: Int32Array,
): void {
  const n = tree.left.length;
  const { left, right, splitIndex, splitCondition, defaultLeft, splitType } = tree;

  // categorical node id → position in categories_nodes
  let catIndexOf: Map<number, number> | null = null;
  if (tree.categoriesNodes && tree.categoriesNodes.length > 0) {
    catIndexOf = new Map();
    for (let k = 0; k < tree.categoriesNodes.length; k++) catIndexOf.set(tree.categoriesNodes[k], k);
  }

  // BFS: queue[i] is the source id of the node placed at slot (base + i)
  const base = state.next;
  queue[0] = 0;
  depth[0] = 0;
  let placed = 1;
  for (let i = 0; i < placed; i++) {
    const id = queue[i];
    const w = (base + i) * NODE_STRIDE;
    const l = left[id];
    if (depth[i] > state.maxDepth) state.maxDepth = depth[i];
    if (l === -1) {
      words[w] = -1;
      words[w + 1] = 0;
      // dart: the float product leaf * weight_drop, once, instead of per row
      values[w + 2] = isDart ? Math.fround(Math.fround(splitCondition[id]) * weight) : splitCondition[id];
      words[w + 3] = -1;
      continue;
    }
    const r = right[id];
    if (!(l > 0 && l < n && r > 0 && r < n)) fail(`tree ${t} node ${id} has invalid children (${l}, ${r})`);
    if (placed + 2 > n) fail(`tree ${t} is not a tree (a node is reachable twice)`);
    const feature = splitIndex[id];
    if (!(feature >= 0 && feature < numFeature)) fail(`tree ${t} node ${id} splits on feature ${feature}, the model has ${numFeature}`);
    const leftSlot = base + placed;
    queue[placed] = l;
    depth[placed] = depth[i] + 1;
    queue[placed + 1] = r;
    depth[placed + 1] = depth[i] + 1;
    placed += 2;
    const missingGoesRight = defaultLeft[id] ? 0 : 1;
    words[w] = feature;
    words[w + 1] = ((leftSlot * NODE_STRIDE) << 1) | missingGoesRight;
    values[w + 2] = splitCondition[id];
    words[w + 3] = -1;
    if (splitType && splitType[id] === 1) {
      const k = catIndexOf?.get(id);
      if (k === undefined) fail(`tree ${t} node ${id} is a categorical split without categories`);
      words[w + 3] = writeBitset(tree, k, catBits, state);
      state.hasCategorical = true;
    }
  }
  state.next = base + placed;
}

function writeBitset(tree: TreeSource, k: number, catBits: Uint32Array, state: { catNext: number }): number {
  const cats = tree.categories!;
  const begin = tree.categoriesSegments![k];
  const size = tree.categoriesSizes![k];
  let max = -1;
  for (let j = begin; j < begin + size; j++) if (cats[j] > max) max = cats[j];
  const nWords = (max + 1 + 31) >>> 5;
  const at = state.catNext;
  catBits[at] = nWords;
  for (let j = begin; j < begin + size; j++) {
    const c = cats[j];
    catBits[at + 1 + (c >>> 5)] |= 1 << (c & 31);
  }
  state.catNext = at + 1 + nWords;
  return at;
}
