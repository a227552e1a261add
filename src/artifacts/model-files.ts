/**
 * What a model file is, defined once for `mme package`, `mme predict` and `mme local`.
 *
 * Serving containers look only at the top of an extracted artifact. The frameworks below are recognised by their file
 * names; the SageMaker XGBoost container then loads every other file at the top as a booster (k-fold artifacts are
 * averaged), except files that are plainly not models (notes, data, code, archives): that is what
 * {@link isXgboostModelFile} accepts, and so a folder with `xgboost-model.ubj` and `weights.bin` is two XGBoost files
 * to every command, as it is to the container.
 */

/** A framework the built-in runtime does not serve, recognised by a file at the top of the artifact. */
export interface ForeignFramework {
  /** e.g. "scikit-learn" */
  framework: string;
  /** The file that names it. */
  file: string;
}

const FOREIGN: readonly { framework: string; pattern: RegExp }[] = [
  { framework: 'tensorflow', pattern: /^saved_model\.pb(txt)?$/i },
  { framework: 'onnx', pattern: /\.onnx$/i },
  { framework: 'pytorch', pattern: /\.(pt|pth|mar|torchscript)$/i },
  { framework: 'scikit-learn', pattern: /\.(joblib|pkl|pickle)$/i },
  { framework: 'lightgbm', pattern: /\.lgb$/i },
  { framework: 'safetensors', pattern: /\.safetensors$/i },
];

/** Files an artifact may carry next to the model that are obviously not models (the container would choke on them). */
const NOT_MODEL = /\.(txt|md|rst|csv|tsv|py|ipynb|log|ya?ml|ini|cfg|toml|sh|html?|parquet|gz|tgz|tar|zip|json\.lock|lock|sig|sha256)$/i;

/** The framework a file at the top of an artifact belongs to when it is not XGBoost's, else undefined. */
export function foreignFramework(name: string): string | undefined {
  return FOREIGN.find((f) => f.pattern.test(name))?.framework;
}

/** Whether the XGBoost container would load this top-level file as a booster. */
export function isXgboostModelFile(name: string): boolean {
  return !name.startsWith('.') && !NOT_MODEL.test(name) && foreignFramework(name) === undefined;
}

/**
 * The first file (by path) of a framework other than XGBoost, if any: at the top of the artifact, or a TensorFlow
 * SavedModel at any depth (TensorFlow Serving keeps it in a version folder, `1/saved_model.pb`).
 */
export function findForeignFramework(paths: readonly string[]): ForeignFramework | undefined {
  for (const file of [...paths].sort()) {
    const base = file.slice(file.lastIndexOf('/') + 1);
    const framework = foreignFramework(base);
    if (framework && (!file.includes('/') || framework === 'tensorflow')) return { framework, file };
  }
  return undefined;
}

/** What `mme package`, `predict` and `local` say about an artifact the built-in runtime cannot serve. */
export function foreignModelMessage(found: ForeignFramework): string {
  return `${found.framework} model ${found.file}: the built-in runtime serves XGBoost; serve it with --handler or --container-url`;
}
