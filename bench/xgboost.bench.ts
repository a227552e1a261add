/**
 * XGBoost runtime vs xgboost itself, measured in the same run (needs Debian's python3-xgboost under
 * /usr/bin/python3; skipped with a note when it is missing). Run: node --import tsx bench/xgboost.bench.ts
 *
 * The model is a 300-tree, depth-10 (2047 nodes per tree), 50-feature binary:logistic model, written as an xgboost
 * JSON document by a Python script (training one on 2 cores takes minutes), loaded by xgboost (which validates it)
 * and re-saved by xgboost as UBJSON and legacy binary. Every format is >= 20 MB. Scoring data: 10,000 rows,
 * N(0,1), 5% missing. Nothing is committed: everything lives in a temp folder removed at the end.
 *
 * Reported ratios (ours / reference):
 *   batch       predict() on 10,000 rows, single thread   vs  xgboost inplace_predict, nthread=1     goal <= 1.5
 *   single row  predict() on one row, in process          vs  xgboost inplace_predict on one row     goal <= 0.2
 *               invoke() CSV in → CSV out, one row        vs  xgboost DMatrix + predict on one row    goal <= 0.2
 *   load        read + parse + compile, per format        vs  xgboost Booster(model_file=JSON)        goal <= 1.5 (JSON)
 *               UBJ and binary                            vs  our own JSON load                       goal <= 1.0
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelBytes, predict, XGBoostModel } from '../src/local/runtimes/xgboost/index.js';
import { printTable, type Row } from './lib/measure.js';

const PYTHON = '/usr/bin/python3';
const LIB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
const N_ROWS = 10_000;
const N_FEATURES = 50;

const PY_SCRIPT = String.raw`
import json, os, sys, time
import numpy as np
import xgboost as xgb

out = sys.argv[1]
rng = np.random.default_rng(42)
TREES, DEPTH, F = 300, 10, 50
sys.path.insert(0, ${JSON.stringify(LIB_DIR)})
from synthetic_model import synthetic_booster
booster = synthetic_booster(rng, TREES, DEPTH, F, out)
files = {"json": "model.json", "ubj": "model.ubj", "binary": "xgboost-model"}
for name in files.values():
    booster.save_model(os.path.join(out, name))

X = rng.normal(size=(${N_ROWS}, F)).astype(np.float32)
X[rng.random(X.shape) < 0.05] = np.nan
X.tofile(os.path.join(out, "rows.f32"))

booster = xgb.Booster(model_file=os.path.join(out, files["binary"]))
booster.set_param({"nthread": 1})

def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2]

def per_call_us(fn, calls, batches=5):
    results = []
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        results.append((time.perf_counter() - t) * 1e6 / calls)
    results.sort()
    return results[len(results) // 2]

preds = booster.inplace_predict(X)
batch_ms = median_ms(lambda: booster.inplace_predict(X), 7)
row = X[1:2]
inplace_us = per_call_us(lambda: booster.inplace_predict(row), 300)
dmatrix_us = per_call_us(lambda: booster.predict(xgb.DMatrix(row, missing=np.nan)), 300)
load_ms = {fmt: median_ms(lambda: xgb.Booster(model_file=os.path.join(out, name)), 5) for fmt, name in files.items()}
preds.astype(np.float32).tofile(os.path.join(out, "expected.f32"))
json.dump({"batch_ms": batch_ms, "inplace_us": inplace_us, "dmatrix_us": dmatrix_us, "load_ms": load_ms,
           "files": files, "version": xgb.__version__}, open(os.path.join(out, "python.json"), "w"))
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function medianMs(fn: () => void, runs: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

function perCallUs(fn: () => void, calls: number, batches = 7): number {
  for (let i = 0; i < calls; i++) fn(); // warm up the JIT
  const results: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    results.push(Number(process.hrtime.bigint() - t) / 1e3 / calls);
  }
  return median(results);
}

function xgboostAvailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import xgboost, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import xgboost (apt-get install -y python3-xgboost): ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

function main(): void {
  const missing = xgboostAvailable();
  if (missing) {
    console.log(`xgboost benchmark skipped: ${missing}`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'mme-xgb-bench-'));
  try {
    writeFileSync(path.join(dir, 'gen.py'), PY_SCRIPT);
    const py = spawnSync(PYTHON, [path.join(dir, 'gen.py'), dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (py.status !== 0) throw new Error(`python side failed:\n${py.stderr}`);
    const ref = JSON.parse(readFileSync(path.join(dir, 'python.json'), 'utf8')) as {
      batch_ms: number;
      inplace_us: number;
      dmatrix_us: number;
      load_ms: Record<string, number>;
      files: Record<string, string>;
      version: string;
    };
    const rowsBytes = readFileSync(path.join(dir, 'rows.f32'));
    const rows = new Float32Array(rowsBytes.buffer.slice(rowsBytes.byteOffset, rowsBytes.byteOffset + rowsBytes.byteLength));
    const expectedBytes = readFileSync(path.join(dir, 'expected.f32'));
    const expected = new Float32Array(expectedBytes.buffer.slice(expectedBytes.byteOffset, expectedBytes.byteOffset + expectedBytes.byteLength));

    const sizes: Record<string, number> = {};
    const loadMs: Record<string, number> = {};
    for (const [format, name] of Object.entries(ref.files)) {
      const file = path.join(dir, name);
      sizes[format] = statSync(file).size / 1e6;
      loadMs[format] = medianMs(() => loadModelBytes(readFileSync(file), name), 5);
    }
    const model = loadModelBytes(readFileSync(path.join(dir, ref.files.binary)), ref.files.binary);

    // agreement with xgboost on the bench data, so a fast wrong answer cannot pass unnoticed
    const ours = predict(model, rows, N_ROWS, N_FEATURES);
    let worst = 0;
    for (let i = 0; i < N_ROWS; i++) worst = Math.max(worst, Math.abs(ours[i] - expected[i]));

    const batchMs = medianMs(() => predict(model, rows, N_ROWS, N_FEATURES), 9);
    const oneRow = rows.slice(N_FEATURES, 2 * N_FEATURES);
    const rowUs = perCallUs(() => predict(model, oneRow, 1, N_FEATURES), 2000);
    const loaded = new XGBoostModel([model]);
    const csvRow = Buffer.from(Array.from(oneRow, (v) => (Number.isNaN(v) ? '' : String(v))).join(','));
    const invokeUs = perCallUs(() => loaded.invoke(csvRow, 'text/csv', 'text/csv'), 2000);

    console.log(
      `model: ${model.trees!.count} trees, ${model.trees!.nodeCount} nodes, max depth ${model.trees!.maxDepth}, ${N_FEATURES} features; ` +
        `files ${Object.entries(sizes)
          .map(([f, mb]) => `${f} ${mb.toFixed(1)} MB`)
          .join(', ')}; footprint ${(model.footprintBytes / 1e6).toFixed(1)} MB; ` +
        `xgboost ${ref.version}; max |ours - xgboost| on ${N_ROWS} rows = ${worst.toExponential(1)}`,
    );
    const table: Row[] = [
      { name: `batch ${N_ROWS} rows, 1 thread`, ours: batchMs, reference: ref.batch_ms, referenceName: 'inplace_predict nthread=1', goal: 1.5 },
      { name: 'single row predict()', ours: rowUs, reference: ref.inplace_us, referenceName: 'inplace_predict 1 row', goal: 0.2, unit: 'us' },
      { name: 'single row invoke() CSV→CSV', ours: invokeUs, reference: ref.dmatrix_us, referenceName: 'DMatrix + predict 1 row', goal: 0.2, unit: 'us' },
      { name: `load JSON (${sizes.json.toFixed(0)} MB)`, ours: loadMs.json, reference: ref.load_ms.json, referenceName: 'xgboost JSON load', goal: 1.5 },
      { name: `load UBJ (${sizes.ubj.toFixed(0)} MB)`, ours: loadMs.ubj, reference: loadMs.json, referenceName: 'our JSON load', goal: 1.0 },
      { name: `load binary (${sizes.binary.toFixed(0)} MB)`, ours: loadMs.binary, reference: loadMs.json, referenceName: 'our JSON load', goal: 1.0 },
    ];
    printTable(table);
    console.log(`(xgboost's own UBJ load ${ref.load_ms.ubj.toFixed(1)} ms, binary load ${ref.load_ms.binary.toFixed(1)} ms)`);
    if (worst > 1e-6) {
      console.log('ERROR: predictions disagree with xgboost');
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
