/**
 * A loaded XGBoost artifact: one or several compiled model files. Several files (k-fold `xgboost-model-<n>`)
 * are averaged like the container's `np.mean(ensemble, axis=0)`: float32 sum in file order, then divided by the
 * count in float32.
 */
import type { CompiledModel } from './compile.js';
import { loadModelBytes, loadModelPath } from './load.js';
import { predictCompiled } from './predict.js';
import { decodeRequest, requestKind } from './request.js';
import { encodeResponse, responseKind } from './response.js';
import { isXgboostModelFile } from '../../../artifacts/model-files.js';
import { readArtifactFiles } from '../files.js';
import { ModelLoadError, ModelRequestError, type ArtifactFiles, type CompiledArtifact, type LoadedModel, type ModelDescription } from '../types.js';

export class XGBoostModel implements LoadedModel {
  readonly footprintBytes: number;
  readonly numFeature: number;
  readonly outputsPerRow: number;
  /** The compiled files as data (another thread's XGBoostModel over the same arrays: `fromCompiled`). */
  readonly compiled: CompiledArtifact;

  /** @param shared whether the models' arrays are SharedArrayBuffer-backed (compiled with `shared`) */
  constructor(
    readonly models: readonly CompiledModel[],
    shared = false,
  ) {
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
    this.compiled = { runtime: 'xgboost', shared, data: models };
  }

  /** The model for data made by `compileArtifact` (possibly on another thread): no parsing, no copy. */
  static fromCompiled(compiled: CompiledArtifact): XGBoostModel {
    if (compiled.runtime !== 'xgboost') throw new Error(`not an xgboost model: ${compiled.runtime}`);
    return new XGBoostModel(compiled.data as CompiledModel[], compiled.shared);
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
    responseKind(accept); // 415 likewise
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

/** The one definition of an XGBoost model file (shared with `mme package`). */
export const isModelFileName = isXgboostModelFile;

/** Numeric-aware order, so xgboost-model-10 follows xgboost-model-9. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Parse and compile the model files at the top of an artifact, as the container's get_loaded_booster does
 * (sub-folders such as code/ are ignored). Several files (k-fold) are loaded in natural name order.
 * `artifact.files` holds only model files (see ArtifactFiles: readArtifactFiles and the loading thread filter them).
 */
export function compileArtifact(artifact: ArtifactFiles, options: { shared?: boolean } = {}): CompiledArtifact {
  const files = [...artifact.files].sort((a, b) => naturalCompare(a.name, b.name));
  if (files.length === 0) {
    // SageMaker extracts the archive as is and the container only looks at the top: a nested model is not found
    const folders = [...artifact.folders].sort(naturalCompare).map((f) => `${f}/`);
    const nested = folders.length
      ? `; it has ${folders.slice(0, 3).join(', ')}${folders.length > 3 ? ', …' : ''}, but model files must be at the top of the artifact (mme package puts them there)`
      : '';
    throw new ModelLoadError(
      artifact.dir,
      `no model file found at the top of the folder (expected e.g. xgboost-model, xgboost-model.json or xgboost-model.ubj)${nested}`,
    );
  }
  // Built once here so that files that cannot be averaged together fail the load, not the first request.
  const models = files.map((f) => (f.early as CompiledModel | undefined) ?? loadModelBytes(f.bytes, f.name, options));
  return new XGBoostModel(models, options.shared ?? false).compiled;
}

/** Load every model file at the top of an extracted artifact folder (see compileArtifact). */
export async function loadModelDir(dir: string): Promise<XGBoostModel> {
  return XGBoostModel.fromCompiled(compileArtifact(await readArtifactFiles(dir, isModelFileName)));
}

/** Load a single model file. */
export async function loadModelFile(file: string): Promise<XGBoostModel> {
  return new XGBoostModel([loadModelPath(file)]);
}
