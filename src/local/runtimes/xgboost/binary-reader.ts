/**
 * The legacy binary model format (what xgboost 1.x writes for a file name without .json/.ubj, e.g. the
 * `xgboost-model` inside most SageMaker artifacts). Little-endian; layout per src/learner.cc, src/gbm/gbtree_model.cc
 * and src/tree/tree_model.cc (treelite's xgboost_legacy.cc is a complete independent reader):
 *
 *   ["binf"] LearnerModelParamLegacy(136) objective(u64 len + bytes) booster(u64 len + bytes)
 *   gbtree/dart: GBTreeModelParam(160) { TreeParam(148) Node(20)*n RTreeNodeStat(16)*n [leaf vector] }*
 *                tree_info(i32 * num_trees) [dart: u64 count + f32 weight_drop]
 *   gblinear:    DeprecatedGBLinearModelParam(136) u64 count + f32 weights
 *   [extra attributes if contain_extra_attrs: u64 count of (u64 len + key, u64 len + value)]
 *
 * Every count is checked against the bytes left, so garbage or a truncated file fails fast with a reason.
 */
import { readSync } from 'node:fs';
import { checkDeclared, checkShape, MODEL_CAPS } from './caps.js';
import {
  allocator,
  assembleModel,
  compileHead,
  compileModel,
  TreeCompiler,
  treeGroupsOf,
  type CompiledHead,
  type CompiledModel,
  type CompileOptions,
} from './compile.js';
import { fail, type BoosterName, type ModelSource } from './source.js';

const LEARNER_PARAM_BYTES = 136;
const GBTREE_PARAM_BYTES = 160;
const TREE_PARAM_BYTES = 148;
const NODE_BYTES = 20;
const STAT_BYTES = 16;
const GBLINEAR_PARAM_BYTES = 136;
const MAX_NAME_BYTES = 1024;

type Head = Pick<ModelSource, 'format' | 'objective' | 'baseScore' | 'baseScoreIsMargin' | 'numFeature' | 'numClass' | 'numTarget'>;

/** Reads and compiles a whole legacy binary model file. */
export function compileLegacyBinary(bytes: Uint8Array, fileName: string, options: CompileOptions = {}): CompiledModel {
  return new LegacyBinaryCompile(bytes, fileName, options).finish();
}

/** Bytes read at least per read of a file (node records are read apart, straight to where they are compiled from). */
const FILE_READ_BYTES = 4096;

/**
 * Reads a legacy binary model file of `size` bytes and compiles it: the parameters through a small window, each
 * tree's node records straight into the scratch they are compiled from, its training statistics not at all. The
 * file is never in memory whole (a fresh buffer of its size costs more in page faults than reading it).
 * `head` holds the file's first `filled` bytes.
 */
export function compileLegacyBinaryFile(
  fd: number,
  size: number,
  head: Uint8Array,
  filled: number,
  fileName: string,
  options: CompileOptions = {},
): CompiledModel {
  return new LegacyBinaryCompile(head, fileName, options, { file: { fd, size, filled } }).finish();
}

/**
 * Reads a legacy binary model and compiles it in the same pass: each tree's node records go straight into the
 * scoring layout (no per-node objects, no intermediate arrays). The bytes may still be arriving (being unpacked):
 * `bytes` has the file's full size and fills from the start, and `advance(available)` compiles every tree that the
 * first `available` bytes complete. Or they are read from a file as needed (compileLegacyBinaryFile). Format errors
 * are thrown (ModelFormatError).
 */
export class LegacyBinaryCompile {
  private readonly r: BinaryReader;
  private head: ReturnType<typeof readHead> | undefined;
  private compiledHead: CompiledHead | undefined;
  private compiler: TreeCompiler | undefined;
  private numTrees = 0;
  private treesRead = 0;

  /**
   * @param how.file when `bytes` holds only the first `filled` bytes of the file `fd` (compileLegacyBinaryFile)
   * @param how.only the one booster to compile: another one fails as soon as the header is read
   */
  constructor(
    bytes: Uint8Array,
    private readonly fileName: string,
    private readonly options: CompileOptions,
    private readonly how: { file?: FileSource; only?: BoosterName } = {},
  ) {
    this.r = new BinaryReader(bytes, how.file);
  }

  /** The first `available` bytes are in: read and compile what they complete. */
  advance(available: number): void {
    const r = this.r;
    r.arrived(available);
    let mark = r.pos;
    try {
      if (!this.head) {
        const head = readHead(r);
        if (this.how.only && head.booster !== this.how.only) fail(`a ${head.booster} model, not ${this.how.only}`);
        if (head.booster === 'gbtree' || head.booster === 'dart') {
          this.numTrees = readGbtreeParam(r);
          const alloc = allocator(this.options);
          this.compiledHead = compileHead({ ...head.common, booster: head.booster }, alloc);
          // the node count is bounded by the bytes left (each node takes 36 of them)
          const maxNodes = Math.floor(r.remaining() / (NODE_BYTES + STAT_BYTES));
          this.compiler = new TreeCompiler(this.numTrees, head.common.numFeature, maxNodes, 0, alloc);
        } else if (head.booster !== 'gblinear') {
          fail(`unsupported booster '${head.booster}' (supported: gbtree, dart, gblinear)`);
        }
        this.head = head;
        mark = r.pos;
      }
      const compiler = this.compiler;
      while (compiler && this.treesRead < this.numTrees) {
        readTree(r, this.treesRead, compiler);
        mark = r.pos;
        this.treesRead++;
      }
    } catch (err) {
      if (err !== NOT_YET) throw err;
      r.pos = mark;
    }
  }

  /** Every byte is in: the compiled model. */
  finish(): CompiledModel {
    this.advance(Infinity);
    const r = this.r;
    const { common, booster, containExtraAttrs } = this.head!;
    let model: CompiledModel;
    if (booster === 'gblinear') {
      r.need(GBLINEAR_PARAM_BYTES, 'gblinear parameters');
      r.skip(GBLINEAR_PARAM_BYTES);
      const linearWeights = r.floatVector('gblinear weights');
      model = compileModel({ ...common, booster, trees: [], treeInfo: [], linearWeights }, this.fileName, this.options);
    } else {
      const treeInfo = readTreeInfo(r, this.numTrees);
      let weightDrop: Float32Array | null = null;
      if (booster === 'dart') {
        weightDrop = this.numTrees === 0 ? new Float32Array(0) : r.floatVector('dart weight_drop');
        if (weightDrop.length !== this.numTrees) fail(`dart weight_drop has ${weightDrop.length} entries for ${this.numTrees} trees`);
      }
      const head = this.compiledHead!;
      const trees = this.compiler!.finish(treeGroupsOf(treeInfo, head.groups, allocator(this.options)), weightDrop);
      model = assembleModel({ ...common, booster }, this.fileName, head, trees, null);
    }
    if (containExtraAttrs !== 0) readAttributes(r);
    return model;
  }
}

/** Bytes of a file enough to check a legacy binary header (magic, parameters, both names). */
export const LEGACY_HEAD_BYTES = 4 + LEARNER_PARAM_BYTES + 2 * (8 + MAX_NAME_BYTES);

/**
 * Why the first bytes of a file (up to LEGACY_HEAD_BYTES) are not the header of a legacy binary XGBoost model, or
 * undefined when they are: the parameters within the caps, two short text names, a known booster.
 */
export function legacyBinaryHeadProblem(head: Uint8Array): string | undefined {
  try {
    const { booster } = readHead(new BinaryReader(head));
    if (booster !== 'gbtree' && booster !== 'dart' && booster !== 'gblinear') return `not an XGBoost model (unknown booster '${booster}')`;
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function readHead(r: BinaryReader): { common: Head; booster: BoosterName; containExtraAttrs: number } {
  r.need(Math.min(4, r.remaining()), 'magic');
  if (startsWith(r.bytes, 'bs64')) fail('base64-encoded legacy model (bs64) is not supported; re-save it with booster.save_model()');
  if (startsWith(r.bytes, 'binf')) r.skip(4);

  r.need(LEARNER_PARAM_BYTES, 'learner parameters');
  const p = r.pos;
  const baseScore = r.view.getFloat32(p, true);
  const numFeature = r.view.getUint32(p + 4, true);
  const numClass = r.view.getInt32(p + 8, true);
  const containExtraAttrs = r.view.getInt32(p + 12, true);
  const majorVersion = r.view.getUint32(p + 20, true);
  const numTarget = r.view.getUint32(p + 28, true);
  r.skip(LEARNER_PARAM_BYTES);
  try {
    checkShape({ numFeature, numClass, numTarget }, '');
  } catch (err) {
    fail(`not an XGBoost model (the legacy binary header's ${(err as Error).message})`);
  }

  const objective = r.name('objective');
  const booster = r.name('booster') as BoosterName;
  const common: Head = {
    format: 'binary' as const,
    objective,
    baseScore: [baseScore],
    baseScoreIsMargin: majorVersion < 1,
    numFeature,
    numClass,
    numTarget: numTarget === 0 ? 1 : numTarget,
  };
  return { common, booster, containExtraAttrs };
}

/** The gbtree parameters: the tree count, checked against the bytes left. */
function readGbtreeParam(r: BinaryReader): number {
  r.need(GBTREE_PARAM_BYTES, 'gbtree parameters');
  const numTrees = r.view.getInt32(r.pos, true);
  r.skip(GBTREE_PARAM_BYTES);
  // each tree takes at least its 148-byte parameter block plus one node and its stats
  checkDeclared("the gbtree parameters' num_trees", numTrees, MODEL_CAPS.trees);
  if (numTrees < 0 || numTrees * (TREE_PARAM_BYTES + NODE_BYTES + STAT_BYTES) > r.remaining()) {
    fail(`truncated or invalid legacy binary: ${numTrees} trees cannot fit in the ${r.remaining()} bytes left`);
  }
  return numTrees;
}

function readTreeInfo(r: BinaryReader, numTrees: number): Int32Array {
  r.need(4 * numTrees, 'tree_info');
  const treeInfo = new Int32Array(numTrees);
  for (let t = 0; t < numTrees; t++) treeInfo[t] = r.view.getInt32(r.pos + 4 * t, true);
  r.skip(4 * numTrees);
  return treeInfo;
}

/** One tree: its parameters, then its node records compiled in place (only once all of its bytes are in). */
function readTree(r: BinaryReader, t: number, compiler: TreeCompiler): void {
  r.need(TREE_PARAM_BYTES, `tree ${t} parameters`);
  const numNodes = r.view.getInt32(r.pos + 4, true);
  const sizeLeafVector = r.view.getInt32(r.pos + 20, true);
  checkDeclared(`tree ${t}'s num_nodes`, numNodes, MODEL_CAPS.nodesPerTree);
  const nodeBytes = numNodes * (NODE_BYTES + STAT_BYTES);
  if (numNodes <= 0 || nodeBytes > r.remaining() - TREE_PARAM_BYTES) {
    fail(`truncated or invalid legacy binary: tree ${t} claims ${numNodes} nodes, ${r.remaining() - TREE_PARAM_BYTES} bytes left`);
  }
  if (sizeLeafVector > 1) fail(`tree ${t} is a multi-target tree (size_leaf_vector ${sizeLeafVector}), which is not supported`);
  r.skip(TREE_PARAM_BYTES);
  // the node records, then loss_chg, sum_hess, base_weight, leaf_child_cnt: training statistics
  const records = r.records(numNodes, `tree ${t} nodes`);
  if (sizeLeafVector !== 0) {
    // before 2.0 a (normally empty) leaf vector follows when size_leaf_vector != 0
    const count = r.u64('leaf vector length');
    r.need(count * 4, 'leaf vector');
    r.skip(count * 4);
  }
  compiler.addRecords(records, numNodes);
}

function readAttributes(r: BinaryReader): void {
  const count = r.u64('attribute count');
  if (count * 16 > r.remaining()) fail('truncated or invalid legacy binary: attribute count exceeds the file');
  for (let i = 0; i < count; i++) {
    r.skipString('attribute name');
    r.skipString('attribute value');
  }
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** The file format is little-endian; typed arrays use the host's order. */
const BIG_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;

/** Thrown by `need` when the bytes exist in the file but have not arrived yet (LegacyBinaryCompile.advance). */
const NOT_YET = Symbol('not yet');

/** A file read on demand (compileLegacyBinaryFile), instead of bytes that are all there or arriving. */
interface FileSource {
  fd: number;
  size: number;
  /** Bytes of the file in the initial `bytes`. */
  filled: number;
}

class BinaryReader {
  view: DataView;
  /** Position in `bytes`. */
  pos = 0;
  /** Bytes of `bytes` that are in: all of them, unless the file is being streamed or read on demand. */
  available: number;
  /** File offset of bytes[0] (a file read on demand: `bytes` is a window that moves along). */
  private base = 0;
  private readonly size: number;
  /** Aligned scratch for a tree's node records (5 words each), read through a typed array: faster than a DataView. */
  private recordWords = new Int32Array(0);

  constructor(
    public bytes: Uint8Array,
    private readonly file?: FileSource,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = file ? file.size : bytes.length;
    this.available = file ? file.filled : Infinity;
  }

  /** The first `available` bytes of a streamed file are in (a file read on demand reads what it needs). */
  arrived(available: number): void {
    if (!this.file) this.available = available;
  }

  /** Bytes left in the file (whether or not they have arrived). */
  remaining(): number {
    return this.size - this.base - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.remaining()) fail(`truncated legacy binary: ${what} needs ${n} bytes at offset ${this.base + this.pos}, ${this.remaining()} left`);
    if (this.pos + n <= this.available) return;
    if (!this.file) throw NOT_YET;
    // the window moves to the position
    this.base += this.pos;
    this.pos = 0;
    const length = Math.min(Math.max(n, FILE_READ_BYTES), this.remaining());
    if (this.bytes.length < length) this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.available = this.read(this.bytes.subarray(0, length), this.base, what);
  }

  /** Reads `into` from the file at `offset`, whole, or fails (the file shrank while being read). */
  private read(into: Uint8Array, offset: number, what: string): number {
    let at = 0;
    while (at < into.length) {
      const n = readSync(this.file!.fd, into, at, into.length - at, offset + at);
      if (n === 0) fail(`truncated legacy binary: ${what} at offset ${offset + at}: the file ended (it changed while being read)`);
      at += n;
    }
    return at;
  }

  /**
   * The next `n` node records (20 bytes each, then 16 bytes of statistics each, skipped) as aligned words, valid
   * until the next call.
   */
  records(n: number, what: string): Int32Array {
    const bytes = n * NODE_BYTES;
    // bytes being streamed: wait for all of them (a file read on demand: the caller checked they are in the file)
    if (!this.file) this.need(n * (NODE_BYTES + STAT_BYTES), what);
    if (this.recordWords.length < n * 5) this.recordWords = new Int32Array(n * 5);
    const out = new Uint8Array(this.recordWords.buffer, 0, bytes);
    if (this.pos + bytes <= this.available) out.set(this.bytes.subarray(this.pos, this.pos + bytes));
    else this.read(out, this.base + this.pos, what);
    if (BIG_ENDIAN_HOST) for (let i = 0; i < bytes; i += 4) out.subarray(i, i + 4).reverse();
    this.pos += n * (NODE_BYTES + STAT_BYTES);
    return this.recordWords;
  }

  skip(n: number): void {
    this.pos += n;
  }

  u64(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    if (hi > 0x1fffff) fail(`invalid legacy binary: ${what} is too large`);
    return hi * 4294967296 + lo;
  }

  name(what: string): string {
    const n = this.u64(`${what} name length`);
    if (n === 0 || n > MAX_NAME_BYTES) fail(`not an XGBoost model (${what} name length ${n} in the legacy binary layout)`);
    this.need(n, `${what} name`);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    if (!/^[\x21-\x7e]+$/.test(text)) fail(`not an XGBoost model (${what} name is not text)`);
    return text;
  }

  skipString(what: string): void {
    const n = this.u64(what);
    this.need(n, what);
    this.pos += n;
  }

  floatVector(what: string): Float32Array {
    const n = this.u64(`${what} length`);
    this.need(n * 4, what);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.pos + 4 * i, true);
    this.pos += n * 4;
    return out;
  }
}
