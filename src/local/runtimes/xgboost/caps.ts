/**
 * Caps on the sizes a model file declares, checked by every reader (JSON, UBJSON, legacy binary) BEFORE anything of
 * that size is allocated: a 6 KB file that declares two billion features or a million classes is refused in one line
 * instead of allocating gigabytes. The caps are far above real models (xgboost's own limits are the integer widths of
 * its file format) but keep every per-model and per-row buffer within a few tens of megabytes.
 */
import { fail } from './source.js';

export const MODEL_CAPS = {
  /** num_feature: a scoring row holds this many float32 values (16 MiB at the cap). */
  features: 1 << 22,
  /** num_class and num_target: margins per row. */
  outputs: 1 << 16,
  /** Trees in one model file. */
  trees: 1 << 22,
  /** Nodes in one tree. */
  nodesPerTree: 1 << 24,
  /** Nodes in one model file (16 bytes each once compiled: 2 GiB would not be addressable). */
  nodes: (1 << 27) - 1,
  /** Words of the category bitsets of one model file (categories are < 2^24: a bitset is at most 512 Ki words). */
  categoryWords: 1 << 24,
} as const;

/**
 * Values a request may decode to (rows × num_feature, float32): rows are decoded dense, so a sparse libsvm body of a
 * few bytes per row against a very wide model would otherwise allocate gigabytes. 2^25 values = 128 MiB.
 */
export const MAX_REQUEST_VALUES = 1 << 25;

/** Fails when a declared count is not a non-negative integer within its cap; `where` names the field. */
export function checkDeclared(where: string, value: number, cap: number): number {
  if (!Number.isInteger(value) || value < 0) fail(`${where} is not a non-negative integer (${value})`);
  if (value > cap) fail(`${where} is ${value}, more than mme reads (at most ${cap}); the file is damaged or not a model`);
  return value;
}

/** The model's declared shape, checked: features, classes, targets. */
export function checkShape(shape: { numFeature: number; numClass: number; numTarget: number }, prefix: string): void {
  checkDeclared(`${prefix}num_feature`, shape.numFeature, MODEL_CAPS.features);
  checkDeclared(`${prefix}num_class`, shape.numClass, MODEL_CAPS.outputs);
  checkDeclared(`${prefix}num_target`, shape.numTarget, MODEL_CAPS.outputs);
}
