/**
 * The format-neutral description of an XGBoost model that the three readers (JSON, UBJSON, legacy binary) produce
 * and the compiler turns into flat arrays. Arrays are ArrayLike so readers can hand over what they parsed (plain
 * arrays from JSON.parse, typed arrays from UBJSON/binary) without another copy.
 */

export type ModelFormat = 'json' | 'ubj' | 'binary';
export type BoosterName = 'gbtree' | 'dart' | 'gblinear';

/** One tree as xgboost stores it: parallel per-node arrays, node 0 is the root. */
export interface TreeSource {
  left: ArrayLike<number>;
  right: ArrayLike<number>;
  splitIndex: ArrayLike<number>;
  /** Threshold of a split node, value of a leaf. */
  splitCondition: ArrayLike<number>;
  /** 1/true = missing values go left. */
  defaultLeft: ArrayLike<number | boolean>;
  /** 1 = categorical split (absent in models without categorical features). */
  splitType?: ArrayLike<number>;
  categories?: ArrayLike<number>;
  categoriesNodes?: ArrayLike<number>;
  categoriesSegments?: ArrayLike<number>;
  categoriesSizes?: ArrayLike<number>;
}

export interface ModelSource {
  format: ModelFormat;
  objective: string;
  booster: BoosterName;
  /** base_score values as stored (probability space), one per output group or a single shared value. */
  baseScore: number[];
  /** Legacy binaries written before xgboost 1.0 store base_score already as a margin. */
  baseScoreIsMargin: boolean;
  numFeature: number;
  numClass: number;
  numTarget: number;
  trees: TreeSource[];
  /** Output group of each tree. */
  treeInfo: ArrayLike<number>;
  /** dart only: weight of each tree. */
  weightDrop?: ArrayLike<number>;
  /** gblinear only: (numFeature + 1) * groups weights, feature-major, bias row last. */
  linearWeights?: ArrayLike<number>;
}

/** Raised by readers for anything structurally wrong; the loader adds the file name. */
export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

export function fail(message: string): never {
  throw new ModelFormatError(message);
}
