/**
 * XGBoost runtime for the local endpoint: scores SageMaker XGBoost artifacts in pure TypeScript, agreeing with
 * xgboost's own predictions (float32 arithmetic, same traversal rules; see shared/reference/xgboost-formats.md).
 *
 * High level (what the local endpoint's cache uses, see ../types.ts):
 *   xgboostRuntime.loadDir(dir)      → LoadedModel      every model file at the top of an extracted artifact;
 *                                                         several files (k-fold) are averaged like the container
 *   model.invoke(body, contentType, accept) → { body, contentType }   one InvokeEndpoint request
 *   model.describe(), model.footprintBytes
 *   loadModelDir(dir), loadModelFile(file) → XGBoostModel   the same LoadedModel, plus predictRows(rows, nRows)
 *                                                        and the row count in invoke()'s result (for mme predict)
 *   xgboostRuntime.compile(files, { shared }) → CompiledArtifact   the same load in two steps, for loading threads:
 *   xgboostRuntime.instantiate(compiled) → LoadedModel      compile (bytes in, plain data with typed arrays out,
 *                                                        SharedArrayBuffer-backed when shared), then wrap (no copy)
 *   xgboostRuntime.compileEarly(name, bytes, options)    a legacy binary file compiled tree by tree while it is
 *                                                        unpacked; its result() rides into compile
 *
 * Lower level:
 *   loadModelBytes(bytes, fileName)  → CompiledModel    JSON, UBJSON or legacy binary, detected from the bytes;
 *                                                        throws ModelLoadError("<file>: <reason>")
 *   loadModelPath(file)              → CompiledModel    the same from a file (a legacy binary one read in pieces)
 *   predict(model, rows, nRows, nCols) → Float32Array   rows: row-major float32, NaN = missing;
 *                                                        returns model.outputsPerRow values per row
 *   decodeRequest(body, contentType, numFeatures) → { rows, nRows, nCols }   text/csv, text/libsvm, text/x-libsvm
 *   encodeResponse(predictions, nRows, outputsPerRow, accept) → { body, contentType }  text/csv, application/json
 *
 * Errors: ModelRequestError (status 204 empty body, 400 bad input, 415 unsupported Content-Type or Accept) and
 * ModelLoadError (file + reason), both from ../types.ts.
 */
import type { CompiledModel } from './compile.js';
import { compileArtifact, isModelFileName, loadModelDir, loadModelFile, XGBoostModel } from './model.js';
import { predictCompiled } from './predict.js';
import { EarlyCompile } from './stream.js';
import { ModelLoadError, ModelRequestError, type Runtime } from '../types.js';

export type { CompiledModel } from './compile.js';
export { loadModelBytes, loadModelPath, detectFormat } from './load.js';
export { decodeRequest, sniffDelimiter } from './request.js';
export { encodeResponse, pythonFloatRepr } from './response.js';
export { XGBoostModel, loadModelDir, loadModelFile };
export { ModelLoadError, ModelRequestError };

/** Predictions for `nRows` rows of `nCols` float32 values (nCols must equal the model's feature count). */
export function predict(model: CompiledModel, rows: Float32Array, nRows: number, nCols: number): Float32Array {
  if (nCols !== model.numFeature) throw new ModelRequestError(400, `rows have ${nCols} columns; the model expects ${model.numFeature} features`);
  if (rows.length < nRows * nCols) throw new ModelRequestError(400, `expected ${nRows * nCols} values, got ${rows.length}`);
  return predictCompiled(model, rows, nRows);
}

export const xgboostRuntime: Runtime = {
  name: 'xgboost',
  loadDir: (dir: string) => loadModelDir(dir),
  isModelFile: isModelFileName,
  compile: (files, options) => compileArtifact(files, options),
  instantiate: (compiled) => XGBoostModel.fromCompiled(compiled),
  compileEarly: (name, bytes, options) => new EarlyCompile(bytes, name, options),
};
