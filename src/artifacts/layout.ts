import fs from 'node:fs';

/** What `mme package` recognises in a model folder, so it can say what it found and warn about surprises. */
export interface Layout {
  framework: string;
  /** The files the serving container will treat as models. */
  modelFiles: { path: string; format?: string }[];
  warnings: string[];
}

const XGBOOST_NAME = /^(xgboost-model.*|.*\.(json|ubj|bst|model|xgb))$/i;

/** Reads the first bytes, as xgboost itself does, to tell its three formats apart (and pickles from all of them). */
export function sniffXgboostFormat(file: string): string | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = fs.readSync(fd, head, 0, 4, 0);
    if (n >= 2 && head[0] === 0x7b && head[1] === 0x22) return 'json';
    if (n >= 2 && head[0] === 0x7b && head[1] === 0x4c) return 'ubjson';
    if (n >= 1 && head[0] === 0x80) return 'pickle';
    if (n >= 4 && head.toString('latin1') === 'binf') return 'binary';
    return n > 0 ? 'binary' : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

export function detectLayout(files: { path: string; full: string }[]): Layout {
  const names = files.map((f) => f.path);
  const root = (p: string) => !p.includes('/');
  const has = (re: RegExp) => names.some((n) => re.test(n));
  const warnings: string[] = [];
  if (has(/(^|\/)saved_model\.pb$/)) return { framework: 'tensorflow', modelFiles: files.filter((f) => /saved_model\.pb$/.test(f.path)), warnings };
  if (has(/\.onnx$/i)) return { framework: 'onnx', modelFiles: files.filter((f) => /\.onnx$/i.test(f.path)), warnings };
  if (has(/\.(pt|pth|mar)$/i)) return { framework: 'pytorch', modelFiles: files.filter((f) => /\.(pt|pth|mar)$/i.test(f.path)), warnings };
  if (has(/\.(joblib|pkl)$/i)) return { framework: 'scikit-learn', modelFiles: files.filter((f) => /\.(joblib|pkl)$/i.test(f.path)), warnings };
  const modelFiles = files.flatMap((f) => {
    const format = root(f.path) && XGBOOST_NAME.test(f.path) ? sniffXgboostFormat(f.full) : undefined;
    return format ? [{ path: f.path, format }] : [];
  });
  if (modelFiles.length) {
    if (modelFiles.length > 1) {
      warnings.push(`${modelFiles.length} XGBoost model files (${modelFiles.map((m) => m.path).join(', ')}): the SageMaker XGBoost container loads every one and averages their predictions (k-fold). Keep one file unless that is what you want.`);
    }
    for (const m of modelFiles) {
      if (m.format === 'pickle') warnings.push(`${m.path} is a pickled Python booster; it needs Python to load (mme local cannot). Save it with booster.save_model("xgboost-model.json").`);
    }
    return { framework: 'xgboost', modelFiles, warnings };
  }
  return { framework: 'unknown', modelFiles: [], warnings: ['no known model file found (xgboost-model, *.json, *.ubj, saved_model.pb, *.onnx, *.pt, *.joblib); packaged as is.'] };
}
