/**
 * ModelSource → CompiledModel: every tree of a file flattened, in one pass, into a single interleaved node array
 * so that scoring touches no JS objects and needs one comparison per tree level.
 *
 * Scoring reads feature values from an "extended row" (see predict.ts): the row's numFeature values, then -Infinity
 * (the leaf column, numFeature), then the negated values of the features that default-left splits use
 * (`negatedFeatures`, in order of first use). The leaf column comes first so that a tree can be placed as soon as it
 * is read, before the full list of negated features is known.
 *
 * Node layout: NODE_STRIDE int32 words per node, one ArrayBuffer seen as Int32Array `words` and Float32Array
 * `values`. The two children of a node are adjacent: `first`, then `second` = first + NODE_STRIDE, where `second`
 * is always the child missing values go to. A split node is then `x < threshold ? first : second` for all inputs:
 *   missing goes right (default_left = 0): x = v,  threshold = t, first = left.   NaN < t is false → second ✓
 *   missing goes left  (default_left = 1): x = -v, threshold = nextUp(-t), first = right; -v < nextUp(-t) ⟺ v >= t
 *                                          (float32 has nothing between -t and nextUp(-t)), NaN → second = left ✓
 *   word 0  column of x in the extended row; for a "special" split (categorical, or a non-finite threshold):
 *           -(feature + 1)
 *   word 1  word offset of `first`
 *   word 2  threshold (float32)
 *   word 3  leaf: the leaf value (float32; dart leaves pre-multiplied by their weight_drop, exactly xgboost's float
 *           product, once instead of per row). Special split: (bitset offset << 2) | (2 if categorical) | (1 if
 *           missing goes left).
 * A leaf points to itself (`first` = itself) with column = leafColumn (-Infinity) and threshold +Infinity, so a row
 * that reaches it stays there: every tree is walked for exactly its depth, without a leaf test per level.
 * Nodes are placed breadth-first per tree, so the top levels (visited by every row) share cache lines.
 *
 * Every array of a CompiledModel is a typed array and the rest is plain data, so a model compiled on one thread can
 * be posted to others. With `shared`, the arrays live in SharedArrayBuffers: a loading thread compiles the model once
 * and the main thread and every scoring thread use the same memory (see ../../load.worker.ts).
 */
import { baseScoreToMargin, Transform, transformOf } from './objectives.js';
import { checkDeclared, MODEL_CAPS } from './caps.js';
import { fail, type BoosterName, type ModelFormat, type ModelSource, type TreeSource } from './source.js';

export const NODE_STRIDE = 4;
/** Categories at or above 2^24 are invalid in xgboost (they are not exact in float32). */
export const MAX_CATEGORY = 16777216;
export const SPECIAL_CATEGORICAL = 2;
export const SPECIAL_MISSING_LEFT = 1;

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
  /** Depth of each tree (levels to walk). */
  readonly depths: Int32Array;
  /** Features whose negated value follows the leaf column in the extended row. */
  readonly negatedFeatures: Int32Array;
  /** Length of an extended row: numFeature + 1 + negatedFeatures.length. */
  readonly extendedWidth: number;
  /** True when some split is categorical or has a non-finite threshold (slower general kernel). */
  readonly hasSpecial: boolean;
  /** Category bitsets of categorical splits: {word count, words...} each. */
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

export interface CompileOptions {
  /** Put every array in SharedArrayBuffers, so that other threads can use the model without a copy. */
  shared?: boolean;
}

/** Allocates the memory of a model's arrays: ordinary or shared. */
export type Alloc = (bytes: number) => ArrayBufferLike;
const ordinary: Alloc = (bytes) => new ArrayBuffer(bytes);
const shared: Alloc = (bytes) => new SharedArrayBuffer(bytes);

/**
 * Memory that is written whole before it is read: ordinary memory is then not zeroed first (memory reused from
 * earlier loads would be, a memset of the whole buffer).
 */
function allocWritten(alloc: Alloc, bytes: number): ArrayBufferLike {
  return alloc === ordinary ? Buffer.allocUnsafeSlow(bytes).buffer : alloc(bytes);
}

function float32Of(values: ArrayLike<number>, alloc: Alloc): Float32Array {
  const out = new Float32Array(alloc(values.length * 4));
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

export function compileModel(source: ModelSource, fileName: string, options: CompileOptions = {}): CompiledModel {
  const alloc = allocator(options);
  const head = compileHead(source, alloc);
  if (source.booster === 'gblinear') {
    const weights = source.linearWeights ?? fail('gblinear model without weights');
    const expected = (source.numFeature + 1) * head.groups;
    if (weights.length !== expected) fail(`gblinear weights have ${weights.length} entries, expected (num_feature + 1) * groups = ${expected}`);
    for (let i = 0; i < weights.length; i++)
      if (!Number.isFinite(Math.fround(weights[i]))) fail(`gblinear weight ${i} is ${weights[i]} (weights must be finite float32)`);
    return assembleModel(source, fileName, head, null, float32Of(weights, alloc));
  }
  return assembleModel(source, fileName, head, compileTrees(source, head.groups, alloc), null);
}

export function allocator(options: CompileOptions): Alloc {
  return options.shared ? shared : ordinary;
}

/** Everything of a ModelSource but its trees and weights. */
export type ModelHead = Omit<ModelSource, 'trees' | 'treeInfo' | 'weightDrop' | 'linearWeights'>;

export interface CompiledHead {
  readonly transform: Transform;
  /** Margins per row (classes, targets or 1). */
  readonly groups: number;
  readonly baseMargin: Float32Array;
}

/** Objective, outputs and starting margins, checked. */
export function compileHead(source: ModelHead, alloc: Alloc): CompiledHead {
  const transform = transformOf(source.objective);
  if (source.objective.startsWith('multi:') && source.numClass < 1) fail(`objective '${source.objective}' needs num_class, found ${source.numClass}`);
  // One output per row: num_class > 1 is inconsistent with it (xgboost refuses to train such a model).
  if (!source.objective.startsWith('multi:') && source.numClass > 1)
    fail(`objective '${source.objective}' gives one output per row but num_class is ${source.numClass}`);
  const groups = Math.max(1, source.numClass, source.numTarget);
  if (source.baseScore.length !== 1 && source.baseScore.length !== groups) {
    fail(`base_score has ${source.baseScore.length} values for ${groups} outputs`);
  }
  const baseMargin = new Float32Array(alloc(groups * 4));
  for (let g = 0; g < groups; g++) {
    const b = source.baseScore.length === 1 ? source.baseScore[0] : source.baseScore[g];
    baseMargin[g] = source.baseScoreIsMargin ? b : baseScoreToMargin(source.objective, b);
    if (!Number.isFinite(baseMargin[g])) fail(`base_score ${b} gives the starting margin ${baseMargin[g]} (it must be a finite float32)`);
  }
  return { transform, groups, baseMargin };
}

/** The CompiledModel around compiled trees (or linear weights). */
export function assembleModel(
  source: ModelHead,
  fileName: string,
  head: CompiledHead,
  trees: CompiledTrees | null,
  linear: Float32Array | null,
): CompiledModel {
  const { transform, groups, baseMargin } = head;
  const footprintBytes =
    OBJECT_OVERHEAD_BYTES +
    baseMargin.byteLength +
    (linear ? linear.byteLength : 0) +
    (trees
      ? trees.words.buffer.byteLength +
        trees.roots.byteLength +
        trees.groups.byteLength +
        trees.depths.byteLength +
        trees.negatedFeatures.byteLength +
        trees.catBits.byteLength
      : 0);

  return {
    fileName,
    format: source.format,
    objective: source.objective,
    booster: source.booster,
    numFeature: source.numFeature,
    numClass: source.numClass,
    groups,
    outputsPerRow: transform === Transform.ArgMax ? 1 : groups,
    transform,
    baseMargin,
    trees,
    linear,
    footprintBytes,
  };
}

const scratch32 = new Float32Array(1);
const scratchBits = new Int32Array(scratch32.buffer);

/** The bits of Math.fround(x). */
function float32Bits(x: number): number {
  scratch32[0] = x;
  return scratchBits[0];
}

/** The float32 of the given bits. */
function float32FromBits(bits: number): number {
  scratchBits[0] = bits;
  return scratch32[0];
}

/**
 * Whether float32 bits are a finite number: all exponent bits set is an infinity or a NaN. (The hot loops below
 * write their float32 constants as literals: a module constant is a context load in optimized code.)
 */
function finiteBits(bits: number): boolean {
  return (bits & 0x7f800000) !== 0x7f800000;
}

/** The readers give tree_info and weight_drop one entry per tree (checked there). */
function compileTrees(source: ModelSource, groups: number, alloc: Alloc): CompiledTrees {
  const count = source.trees.length;
  const weightDrop = source.booster === 'dart' ? (source.weightDrop ?? fail('dart model without weight_drop')) : null;

  // Sizes first (per tree, not per node): one buffer for every node, one for every category bitset.
  let totalNodes = 0;
  let catWords = 0;
  for (const tree of source.trees) {
    totalNodes += tree.left.length;
    catWords += categoryWords(tree);
  }
  checkDeclared('the node count of all trees', totalNodes, MODEL_CAPS.nodes);
  checkDeclared("the category bitsets' size in words", catWords, MODEL_CAPS.categoryWords);
  const treeGroups = treeGroupsOf(source.treeInfo, groups, alloc);
  const compiler = new TreeCompiler(count, source.numFeature, totalNodes, catWords, alloc);
  for (let t = 0; t < count; t++) compiler.add(source.trees[t]);
  return compiler.finish(treeGroups, weightDrop);
}

/** The output group of each tree (tree_info), checked, in an array of the model's kind. */
export function treeGroupsOf(treeInfo: ArrayLike<number>, groups: number, alloc: Alloc): Int32Array {
  const count = treeInfo.length;
  const out = new Int32Array(alloc(count * 4));
  for (let t = 0; t < count; t++) {
    const group = treeInfo[t];
    if (!Number.isInteger(group) || group < 0 || group >= groups) fail(`tree ${t} has output group ${group}, the model has ${groups}`);
    out[t] = group;
  }
  return out;
}

/**
 * Places trees one at a time, in model order, into one node buffer. A whole model's trees are known up front; a
 * legacy binary file being unpacked hands them over as they are read (see stream.ts), with the node count bounded
 * by the file's size instead of known.
 */
export class TreeCompiler {
  private readonly ctx: TreeContext;
  private readonly roots: Int32Array;
  private readonly depths: Int32Array;
  private readonly buffer: ArrayBufferLike;
  private count = 0;
  private maxDepth = 0;

  /** @param nodeCapacity at least the number of nodes of all trees; @param catWords the category bitset words */
  constructor(
    private readonly trees: number,
    numFeature: number,
    nodeCapacity: number,
    catWords: number,
    private readonly alloc: Alloc,
  ) {
    checkDeclared('the node count', nodeCapacity, MODEL_CAPS.nodes);
    checkDeclared('the tree count', trees, MODEL_CAPS.trees);
    checkShapeFeatures(numFeature);
    // every node slot is written when placed; the unused rest is zeroed in finish()
    this.buffer = allocWritten(alloc, nodeCapacity * NODE_STRIDE * 4);
    this.ctx = new TreeContext(new Int32Array(this.buffer), new Float32Array(this.buffer), new Uint32Array(alloc(catWords * 4)), numFeature);
    this.roots = new Int32Array(alloc(trees * 4));
    this.depths = new Int32Array(alloc(trees * 4));
  }

  /** Places the next tree. */
  add(tree: TreeSource): void {
    this.placed(compileTree(tree, this.start(tree.left.length), this.ctx));
  }

  /**
   * Places the next tree straight from its `n` legacy binary node records, 5 words each (parent, left, right, sindex
   * with default_left in its top bit, the float32 bits of the split condition / leaf value).
   */
  addRecords(words: Int32Array, n: number): void {
    this.placed(compileRecords(words, n, this.start(n), this.ctx));
  }

  /** The number of the tree about to be placed, once its `n` nodes are known to fit. */
  private start(n: number): number {
    const t = this.count;
    if (t >= this.trees) fail(`more than ${this.trees} trees`);
    const ctx = this.ctx;
    if (ctx.next + n > ctx.words.length / NODE_STRIDE) fail(`tree ${t} does not fit in ${ctx.words.length / NODE_STRIDE} nodes`);
    if (ctx.queue.length < n) ctx.queue = new Int32Array(n);
    this.roots[t] = ctx.next * NODE_STRIDE;
    return t;
  }

  private placed(depth: number): void {
    this.depths[this.count++] = depth;
    if (depth > this.maxDepth) this.maxDepth = depth;
  }

  /**
   * Every tree placed: the compiled trees, with the output group of each. Dart: every leaf multiplied by its tree's
   * weight_drop (exactly xgboost's float product, once here instead of per row).
   */
  finish(groups: Int32Array, weightDrop: ArrayLike<number> | null = null): CompiledTrees {
    const { ctx, count } = this;
    if (count !== this.trees) fail(`${count} trees placed of ${this.trees}`);
    if (weightDrop) this.scaleLeaves(weightDrop);
    // Unreachable (deleted) nodes were not copied, and a capacity bounded by a file's size is a little larger than
    // needed: trim the buffer unless the rest is small (copying costs more than it saves).
    const used = ctx.next * NODE_STRIDE;
    const capacity = ctx.words.length;
    const keep = used === capacity || capacity - used < capacity / 16;
    if (keep) ctx.words.fill(0, used);
    const buffer = keep ? this.buffer : copyBuffer(this.buffer, used * 4, this.alloc);
    const negatedFeatures = new Int32Array(this.alloc(ctx.negated.length * 4));
    negatedFeatures.set(ctx.negated);
    return {
      count,
      nodeCount: ctx.next,
      maxDepth: this.maxDepth,
      words: new Int32Array(buffer, 0, used),
      values: new Float32Array(buffer, 0, used),
      roots: this.roots,
      groups,
      depths: this.depths,
      negatedFeatures,
      extendedWidth: ctx.leafColumn + 1 + ctx.negated.length,
      hasSpecial: ctx.hasSpecial,
      catBits: ctx.catNext === ctx.catBits.length ? ctx.catBits : new Uint32Array(copyBuffer(ctx.catBits.buffer, ctx.catNext * 4, this.alloc)),
    };
  }

  /** Leaves are the nodes that point to themselves; each tree's nodes run from its root to the next tree's. */
  private scaleLeaves(weightDrop: ArrayLike<number>): void {
    const { words, values } = this.ctx;
    for (let t = 0; t < this.count; t++) {
      const scale = Math.fround(weightDrop[t]);
      const end = t + 1 < this.count ? this.roots[t + 1] : this.ctx.next * NODE_STRIDE;
      for (let w = this.roots[t]; w < end; w += NODE_STRIDE) {
        if (words[w + 1] !== w) continue; // not a leaf
        const value = Math.fround(values[w + 3] * scale);
        if (!Number.isFinite(value)) fail(`tree ${t} has a leaf of value ${value} (leaf ${values[w + 3]} × weight_drop ${scale})`);
        values[w + 3] = value;
      }
    }
  }
}

function checkShapeFeatures(numFeature: number): void {
  checkDeclared('num_feature', numFeature, MODEL_CAPS.features);
}

/** The first `bytes` of a buffer, in a new buffer of the same kind. */
function copyBuffer(buffer: ArrayBufferLike, bytes: number, alloc: Alloc): ArrayBufferLike {
  const out = alloc(bytes);
  new Uint8Array(out).set(new Uint8Array(buffer, 0, bytes));
  return out;
}

/**
 * The state of a TreeCompiler. A class, not an object literal: with a literal, V8 threw away the optimized placing
 * functions when the second model's context was made, so the second load ran half of its trees unoptimized.
 */
class TreeContext {
  /** Extended-row column of each feature's negated value, -1 until a default-left split needs it. */
  readonly negatedColumn: Int32Array;
  /** Features in order of their negated columns. */
  readonly negated: number[] = [];
  readonly leafColumn: number;
  /** Next free node slot. */
  next = 0;
  catNext = 0;
  hasSpecial = false;
  /** BFS scratch: source node id of each placed slot of the current tree. */
  queue = new Int32Array(0);

  constructor(
    readonly words: Int32Array,
    readonly values: Float32Array,
    readonly catBits: Uint32Array,
    readonly numFeature: number,
  ) {
    this.negatedColumn = new Int32Array(numFeature).fill(-1);
    this.leafColumn = numFeature;
  }
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
  let covered = 0;
  for (let k = 0; k < nodes.length; k++) {
    const begin = segments[k];
    const size = sizes[k];
    if (!(begin >= 0 && size >= 0 && begin + size <= cats.length)) fail(`category segment ${k} is out of range`);
    // xgboost's segments partition `categories`: overlapping ones would make this check quadratic.
    if ((covered += size) > cats.length) fail('category segments overlap (their sizes add up to more than the categories)');
    for (let j = begin; j < begin + size; j++) {
      const c = cats[j];
      if (!Number.isInteger(c) || c < 0 || c >= MAX_CATEGORY) fail(`invalid category ${c} in a categorical split`);
    }
    total += 1 + bitsetWords(cats, begin, size);
  }
  return total;
}

/** Words of the bitset of the categories cats[begin, begin + size): ceil((max category + 1) / 32). */
function bitsetWords(cats: ArrayLike<number>, begin: number, size: number): number {
  let max = -1;
  for (let j = begin; j < begin + size; j++) if (cats[j] > max) max = cats[j];
  return (max + 1 + 31) >>> 5;
}

/**
 * Places one tree breadth-first; returns its depth. A level ends where the slots placed before it began end, so
 * the depth needs no per-node bookkeeping.
 */
function compileTree(tree: TreeSource, t: number, ctx: TreeContext): number {
  const n = tree.left.length;
  const { left, right, splitIndex, splitCondition, defaultLeft, splitType } = tree;
  const { words, values, queue } = ctx;

  let catIndexOf: Map<number, number> | null = null;
  if (tree.categoriesNodes && tree.categoriesNodes.length > 0) {
    catIndexOf = new Map();
    for (let k = 0; k < tree.categoriesNodes.length; k++) catIndexOf.set(tree.categoriesNodes[k], k);
  }

  const base = ctx.next;
  queue[0] = 0;
  let placed = 1;
  let depth = 0;
  let levelEnd = 1;
  for (let i = 0; i < placed; i++) {
    if (i === levelEnd) {
      depth++;
      levelEnd = placed;
    }
    const id = queue[i];
    const w = (base + i) * NODE_STRIDE;
    const l = left[id];
    if (l === -1) {
      placeLeaf(words, ctx.leafColumn, w, float32Bits(splitCondition[id]), t, id);
      continue;
    }
    const r = right[id];
    if (!(l > 0 && l < n && r > 0 && r < n)) fail(`tree ${t} node ${id} has invalid children (${l}, ${r})`);
    if (placed + 2 > n) fail(`tree ${t} is not a tree (a node is reachable twice)`);
    const feature = splitIndex[id];
    const missingLeft = defaultLeft[id] ? -1 : 0;
    placeChildren(queue, placed, l, r, missingLeft);
    words[w + 1] = (base + placed) * NODE_STRIDE;
    placed += 2;
    if (splitType !== undefined && splitType[id] === 1) {
      if (!(feature >= 0 && feature < ctx.numFeature)) fail(`tree ${t} node ${id} splits on feature ${feature}, the model has ${ctx.numFeature}`);
      const k = catIndexOf?.get(id);
      if (k === undefined) fail(`tree ${t} node ${id} is a categorical split without categories`);
      ctx.hasSpecial = true;
      words[w] = -(feature + 1);
      values[w + 2] = Math.fround(splitCondition[id]);
      words[w + 3] = SPECIAL_CATEGORICAL | (writeBitset(tree, k, ctx) << 2) | (missingLeft & SPECIAL_MISSING_LEFT);
    } else {
      placeSplit(ctx, words, w, feature, float32Bits(splitCondition[id]), missingLeft, t, id);
    }
  }
  ctx.next = base + placed;
  return depth;
}

/**
 * compileTree over legacy binary node records (see TreeCompiler.addRecords). Their split conditions and leaf values
 * are float32 already: they are copied as bits, which is exact and saves the float conversions. The loop keeps
 * everything it uses in locals, NODE_STRIDE (4) as a shift by 2: this is most of a legacy binary's load time.
 */
function compileRecords(rec: Int32Array, n: number, t: number, ctx: TreeContext): number {
  const { words, queue, leafColumn } = ctx;
  const base = ctx.next;
  queue[0] = 0;
  let placed = 1;
  let depth = 0;
  let levelEnd = 1;
  for (let i = 0; i < placed; i = (i + 1) | 0) {
    if (i === levelEnd) {
      depth++;
      levelEnd = placed;
    }
    const id = queue[i];
    const p = (id * 5) | 0;
    const w = (base + i) << 2;
    const l = rec[p + 1];
    const bits = rec[p + 4];
    if (l === -1) {
      placeLeaf(words, leafColumn, w, bits, t, id);
      continue;
    }
    const r = rec[p + 2];
    if (!(l > 0 && l < n && r > 0 && r < n)) fail(`tree ${t} node ${id} has invalid children (${l}, ${r})`);
    if (placed + 2 > n) fail(`tree ${t} is not a tree (a node is reachable twice)`);
    const sindex = rec[p + 3];
    const missingLeft = sindex >> 31;
    placeChildren(queue, placed, l, r, missingLeft);
    words[w + 1] = (base + placed) << 2;
    placed = (placed + 2) | 0;
    placeSplit(ctx, words, w, sindex & 0x7fffffff, bits, missingLeft, t, id);
  }
  ctx.next = base + placed;
  return depth;
}

/**
 * Queues the children of a split: `second` (the later one) is the child missing values go to. `missingLeft` is -1
 * or 0, a mask: the choice is made without a branch, as default_left is as good as random.
 */
function placeChildren(queue: Int32Array, at: number, left: number, right: number, missingLeft: number): void {
  queue[at] = (right & missingLeft) | (left & ~missingLeft);
  queue[at + 1] = (left & missingLeft) | (right & ~missingLeft);
}

/** A leaf at word `w`, its value given as float32 bits: it points to itself, and -Infinity < +Infinity keeps a row there. */
function placeLeaf(words: Int32Array, leafColumn: number, w: number, bits: number, t: number, id: number): void {
  // xgboost would add it and answer nan or inf for every row that reaches it: refused, not served.
  if (!finiteBits(bits)) fail(`tree ${t} leaf ${id} has the value ${float32FromBits(bits)} (a leaf must be a finite float32)`);
  words[w] = leafColumn;
  words[w + 1] = w;
  words[w + 2] = 0x7f800000; // +Infinity
  words[w + 3] = bits;
}

/**
 * A numeric split at word `w` of `words` (ctx.words; its children's offset already written), its threshold given as
 * float32 bits and `missingLeft` as a mask (-1 or 0). Written without a branch on `missingLeft`: the negated-value
 * column and the next float32 above -threshold (on the bits: one step towards zero for a positive threshold, away
 * from zero for a negative one, the smallest subnormal for ±0) are worked out either way, and the mask selects.
 */
function placeSplit(ctx: TreeContext, words: Int32Array, w: number, feature: number, bits: number, missingLeft: number, t: number, id: number): void {
  if (!(feature >= 0 && feature < ctx.numFeature)) fail(`tree ${t} node ${id} splits on feature ${feature}, the model has ${ctx.numFeature}`);
  if (!finiteBits(bits)) {
    // a split the single-comparison form cannot express
    ctx.hasSpecial = true;
    words[w] = -(feature + 1);
    ctx.values[w + 2] = float32FromBits(bits);
    words[w + 3] = missingLeft & SPECIAL_MISSING_LEFT;
    return;
  }
  let column = ctx.negatedColumn[feature];
  if (column < 0 && missingLeft !== 0) column = negatedColumnOf(ctx, feature);
  const up = bits === 0 ? 1 : ((bits ^ 0x80000000) + 1 + ((~bits >> 31) << 1)) | 0;
  words[w] = (column & missingLeft) | (feature & ~missingLeft);
  words[w + 2] = (up & missingLeft) | (bits & ~missingLeft);
  words[w + 3] = 0;
}

/** The first default-left split on a feature: its negated value gets the next column of the extended row. */
function negatedColumnOf(ctx: TreeContext, feature: number): number {
  const column = ctx.leafColumn + 1 + ctx.negated.length;
  ctx.negatedColumn[feature] = column;
  ctx.negated.push(feature);
  return column;
}

function writeBitset(tree: TreeSource, k: number, ctx: TreeContext): number {
  const cats = tree.categories!;
  const begin = tree.categoriesSegments![k];
  const size = tree.categoriesSizes![k];
  const nWords = bitsetWords(cats, begin, size);
  const at = ctx.catNext;
  ctx.catBits[at] = nWords;
  for (let j = begin; j < begin + size; j++) {
    const c = cats[j];
    ctx.catBits[at + 1 + (c >>> 5)] |= 1 << (c & 31);
  }
  ctx.catNext = at + 1 + nWords;
  if (at >= 2 ** 29) fail('too many categorical splits');
  return at;
}

/**
 * One compiler kept for the life of the process, so that the maps (hidden classes) of TreeCompiler and TreeContext
 * stay alive: V8 holds them weakly, and once the last model being compiled is collected, the next collection
 * deoptimizes every function optimized for them. Each load after a collection then ran its first trees unoptimized and
 * paid to optimize them again: 6 ms of a 44 MB legacy binary's 24.
 */
export const KEEP_COMPILER_MAPS: unknown = new TreeCompiler(1, 1, 1, 0, ordinary);
