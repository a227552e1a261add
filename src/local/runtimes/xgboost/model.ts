/**
 * A loaded XGBoost artifact: one or several compiled model files. Several files (k-fold `xgboost-model-<n>`)
 * are averaged like the container's `np.mean(ensemble, axis=0)`: float32 sum in file order, then divided by the
 * count in float32.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CompiledModel } from './compile.js';
import { loadModelBytes } from './load.js';
import { predictCompiled } from './predict.js';
import { decodeRequest, requestKind } from './request.js';
import { encodeResponse, responseKind } from './response.js';
import { ModelLoadError, ModelRequestError, type LoadedModel, type ModelDescription } from '../types.js';

export class XGBoostModel implements LoadedModel {
  readonly footprintBytes: number;
  readonly numFeature: number;
  readonly outputsPerRow: number;

  constructor(readonly models: readonly CompiledModel[]) {
    if (models.length === 0) throw new Error('XGBoostModel needs at least one compiled model');
    const first = models[0];
    for (const other of models.slice(1)) {
      if (other.numFeature !== first.numFeature || other.outputsPerRow !== first.outputsPerRow) {
        throw new ModelLoadError(
          other.fileName,
          `cannot be averaged with ${first.fileName}: ${other.numFeature} features / ${other.outputsPerRow} outputs vs ${first.numFeature} / ${first.outputsPerRow}`,
        );
      }
    }
    this.numFeature = first.numFeature;
    this.outputsPerRow = first.outputsPerRow;
    this.footprintBytes = models.reduce((sum, m) => sum + m.footprintBytes, 0);
  }

  /** Predictions for `nRows` rows of `numFeature` float32 values (NaN = missing), `outputsPerRow` per row. */
  predictRows(rows: Float32Array, nRows: number): Float32Array {
    if (rows.length < nRows * this.numFeature) throw new ModelRequestError(400, `expected ${nRows * this.numFeature} values, got ${rows.length}`);
    const first = predictCompiled(this.models[0], rows, nRows);
    if (this.models.length === 1) return first;
    const sum = first; // Float32Array: every += rounds to float32, like numpy's float32 reduction
    for (let m = 1; m < this.models.length; m++) {
      const next = predictCompiled(this.models[m], rows, nRows);
      for (let i = 0; i < sum.length; i++) sum[i] += next[i];
    }
    const count = this.models.length;
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i] / count;
    return sum;
  }

  /** LoadedModel.invoke, plus the number of rows scored. */
  invoke(body: Uint8Array, contentType: string | undefined, accept: string | undefined): { body: Uint8Array; contentType: string; rows: number } {
    requestKind(contentType); // 415 before any other work
    responseKind(accept); // 406 likewise
    const { rows, nRows } = decodeRequest(body, contentType, this.numFeature);
    return { ...encodeResponse(this.predictRows(rows, nRows), nRows, this.outputsPerRow, accept), rows: nRows };
  }

  describe(): ModelDescription {
    const first = this.models[0];
    const formats = new Set(this.models.map((m) => m.format));
    return {
      runtime: 'xgboost',
      format: formats.size === 1 ? first.format : 'mixed',
      booster: first.booster,
      objective: first.objective,
      trees: this.models.reduce((sum, m) => sum + (m.trees ? m.trees.count : 0), 0),
      features: this.numFeature,
      classes: first.numClass,
      outputsPerRow: this.outputsPerRow,
      footprintBytes: this.footprintBytes,
      files: this.models.map((m) => m.fileName),
    };
  }
}

/** Files an artifact may carry next to the model that are obviously not models (the container would choke on them). */
const NOT_MODEL = /\.(txt|md|rst|csv|tsv|py|ipynb|log|ya?ml|ini|cfg|toml|sh|html?|parquet|gz|tgz|tar|zip)$/i;

export function isModelFileName(name: string): boolean {
  return !name.startsWith('.') && !NOT_MODEL.test(name);
}

/** Numeric-aware order, so xgboost-model-10 follows xgboost-model-9. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Load every model file at the top of an extracted artifact folder, as the container's get_loaded_booster does
 * (sub-folders such as code/ are ignored), skipping obvious non-model files.
 */
export async function loadModelDir(dir: string): Promise<XGBoostModel> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new ModelLoadError(dir, `cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const files: string[] = [];
  const folders: string[] = [];
  for (const name of entries.sort(naturalCompare)) {
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    if (info?.isDirectory()) folders.push(`${name}/`);
    else if (info?.isFile() && isModelFileName(name)) files.push(name);
  }
  if (files.length === 0) {
    // SageMaker extracts the archive as is and the container only looks at the top: a nested model is not found
    const nested = folders.length ? `; it has ${folders.slice(0, 3).join(', ')}${folders.length > 3 ? ', …' : ''}, but model files must be at the top of the artifact (mme package puts them there)` : '';
    throw new ModelLoadError(dir, `no model file found at the top of the folder (expected e.g. xgboost-model, xgboost-model.json or xgboost-model.ubj)${nested}`);
  }
  const models: CompiledModel[] = [];
  for (const name of files) models.push(loadModelBytes(await readFile(path.join(dir, name)), name));
  return new XGBoostModel(models);
}

/** Load a single model file. */
export async function loadModelFile(file: string): Promise<XGBoostModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ModelLoadError(file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return new XGBoostModel([loadModelBytes(bytes, path.basename(file))]);
}
