/**
 * Compiling a model file while it is still being unpacked. Legacy binary gbtree models (what SageMaker's XGBoost
 * container writes as `xgboost-model`) are read and placed tree by tree as their bytes arrive, so the compile
 * overlaps the inflating of the rest of the file. Other formats (JSON and UBJSON need the whole document) and
 * anything unusual are left for the whole-file compile, which then also gives the error message: the early result,
 * when there is one, is exactly what loadModelBytes would return.
 */
import type { CompiledModel, CompileOptions } from './compile.js';
import { LegacyBinaryCompile } from './binary-reader.js';
import { detectFormat } from './load.js';

/** Bytes to see before deciding on the format (a JSON document may start with blanks). */
const SNIFF_BYTES = 64;

export class EarlyCompile {
  private compile: LegacyBinaryCompile | undefined;
  private decided = false;

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
      this.compile = new LegacyBinaryCompile(this.bytes, this.fileName, this.options, { only: 'gbtree' });
    }
    if (!this.compile) return;
    try {
      this.compile.advance(available);
    } catch {
      this.compile = undefined; // the whole-file compile names the problem
    }
  }

  /** Every byte is in: the compiled file, or undefined when it is to be compiled as a whole. */
  result(): CompiledModel | undefined {
    this.advance(this.bytes.length);
    try {
      return this.compile?.finish();
    } catch {
      return undefined;
    }
  }
}
