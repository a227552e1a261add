/**
 * Compiling a model file while it is still being unpacked. Legacy binary gbtree models (what SageMaker's XGBoost
 * container writes as `xgboost-model`) are read and placed tree by tree as their bytes arrive, so the compile
 * overlaps the inflating of the rest of the file. Other formats (JSON and UBJSON need the whole document) and
 * anything unusual are left for the whole-file compile, which then also gives the error message: the early result,
 * when there is one, is exactly what loadModelBytes would return.
 */
import {
  allocator,
  assembleModel,
  compileHead,
  TreeCompiler,
  treeGroupsOf,
  type CompiledHead,
  type CompiledModel,
  type CompileOptions,
  type ModelHead,
} from './compile.js';
import { LegacyBinaryStream } from './binary-reader.js';
import { detectFormat } from './load.js';

/** Bytes to see before deciding on the format (a JSON document may start with blanks). */
const SNIFF_BYTES = 64;

export class EarlyCompile {
  private stream: LegacyBinaryStream | undefined;
  private decided = false;
  private head: (ModelHead & CompiledHead) | undefined;
  private compiler: TreeCompiler | undefined;

  /** @param bytes the file's buffer, of its full size, filling from the start */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileName: string,
    private readonly options: CompileOptions,
  ) {}

  /** The first `available` bytes are in: read and compile what they complete. */
  advance(available: number): void {
    if (!this.decided) {
      if (available < Math.min(SNIFF_BYTES, this.bytes.length)) return;
      this.decided = true;
      if (detectFormat(this.bytes.subarray(0, available)) !== 'binary') return;
      const alloc = allocator(this.options);
      this.stream = new LegacyBinaryStream(
        this.bytes,
        (head, numTrees, maxNodes) => {
          this.head = { ...head, ...compileHead(head, alloc) };
          this.compiler = new TreeCompiler(numTrees, head.numFeature, maxNodes, 0, alloc);
        },
        (tree) => this.compiler!.add(tree, null),
      );
    }
    this.stream?.advance(available);
  }

  /** Every byte is in: the compiled file, or undefined when it is to be compiled as a whole. */
  result(): CompiledModel | undefined {
    this.advance(this.bytes.length);
    const treeInfo = this.stream?.finish();
    const { head, compiler } = this;
    if (!treeInfo || !head || !compiler) return undefined;
    try {
      const alloc = allocator(this.options);
      return assembleModel(head, this.fileName, head, compiler.finish(treeGroupsOf(treeInfo, head.groups, alloc)), null);
    } catch {
      return undefined;
    }
  }
}
