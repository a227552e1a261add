import fs from 'node:fs';
import { LEGACY_HEAD_BYTES, legacyBinaryHeadProblem } from '../local/runtimes/xgboost/binary-reader.js';
import { findForeignFramework, foreignModelMessage, isXgboostModelFile } from './model-files.js';

/** What `mme package` recognises in a model folder, so it can say what it found and warn about surprises. */
export interface Layout {
  framework: string;
  /** The files the serving container will treat as models. */
  modelFiles: { path: string; format?: string }[];
  warnings: string[];
}

/**
 * Reads the first bytes, as xgboost itself does (and as the local runtime's detectFormat), to tell its three formats
 * apart, and pickles from all of them; the names are the runtime's: json, ubj, binary. What is neither JSON, UBJSON
 * nor a pickle is a legacy binary model only if its header reads as one (parameters within the readers' caps,
 * objective and booster names): random bytes or gzip data are `invalid`, with the reason.
 */
export function sniffXgboostFormat(file: string): { format: string; problem?: string } | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(LEGACY_HEAD_BYTES);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n === 0) return undefined;
    if (n >= 2 && head[0] === 0x7b && head[1] === 0x22) return { format: 'json' };
    // JSON with blanks or a byte order mark before the document (xgboost's reader skips them too)
    const text = head
      .subarray(0, n)
      .toString('latin1')
      .replace(/^(\xef\xbb\xbf)?\s*/, '');
    if (text.startsWith('{') && !text.startsWith('{L')) return { format: 'json' };
    if (n >= 2 && head[0] === 0x7b && head[1] === 0x4c) return { format: 'ubj' };
    if (n >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return { format: 'pickle' };
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { format: 'invalid', problem: 'gzip-compressed data, not an XGBoost model (extract it first)' };
    const problem = legacyBinaryHeadProblem(head.subarray(0, n));
    return problem ? { format: 'invalid', problem } : { format: 'binary' };
  } finally {
    fs.closeSync(fd);
  }
}

/** The model files of a folder to package, by the same rule the local endpoint and `mme predict` load them (model-files.ts). */
export function detectLayout(files: { path: string; full: string }[]): Layout {
  const warnings: string[] = [];
  const foreign = findForeignFramework(files.map((f) => f.path));
  if (foreign) {
    const pattern = foreign.framework === 'tensorflow' ? /(^|\/)saved_model\.pb(txt)?$/i : undefined;
    const modelFiles = files.filter((f) => (pattern ? pattern.test(f.path) : f.path === foreign.file)).map((f) => ({ path: f.path }));
    warnings.push(`${foreignModelMessage(foreign)} (mme local; SageMaker serves it with that framework's container).`);
    return { framework: foreign.framework, modelFiles, warnings };
  }
  const modelFiles = files.flatMap((f) => {
    const sniffed = !f.path.includes('/') && isXgboostModelFile(f.path) ? sniffXgboostFormat(f.full) : undefined;
    if (sniffed?.problem)
      warnings.push(
        `${f.path} is ${sniffed.problem.startsWith('gzip') ? sniffed.problem : `not an XGBoost model: ${sniffed.problem}`}; the endpoint will fail to load it.`,
      );
    return sniffed ? [{ path: f.path, format: sniffed.format }] : [];
  });
  if (modelFiles.length) {
    if (modelFiles.length > 1) {
      warnings.push(
        `${modelFiles.length} XGBoost model files (${modelFiles.map((m) => m.path).join(', ')}): the SageMaker XGBoost container loads every file at the top of the artifact and averages their predictions (k-fold). Keep one file unless that is what you want.`,
      );
    }
    for (const m of modelFiles) {
      if (m.format === 'pickle')
        warnings.push(
          `${m.path} is a pickled Python booster; it needs Python to load (mme local cannot). Save it with booster.save_model("xgboost-model.json").`,
        );
    }
    return { framework: 'xgboost', modelFiles, warnings };
  }
  return {
    framework: 'unknown',
    modelFiles: [],
    warnings: ['no known model file found at the top of the folder (xgboost-model, *.json, *.ubj, saved_model.pb, *.onnx, *.pt, *.joblib); packaged as is.'],
  };
}
