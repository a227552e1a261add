/**
 * The thread of `mme predict` (see predict-run.ts): unpacks, loads and scores each model in turn, posting one outcome
 * per model. Artifacts are unpacked with every check of extract.ts and the same entry limit as `mme local`.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { isGzip } from '../artifacts/bytes.js';
import { ArtifactError, DEFAULT_MAX_ENTRIES, extractArtifact } from './extract.js';
import type { PredictJob, PredictOutcome } from './predict-run.js';
import { foreignFramework } from '../artifacts/model-files.js';
import { isModelFile, loadArtifactDir, UnsupportedModelError } from './runtime.js';
import { ModelLoadError, ModelRequestError } from './runtimes/types.js';
import { loadModelFile, type XGBoostModel } from './runtimes/xgboost/index.js';

/** Extraction limit for a local check: generous, but a decompression bomb still stops. */
const MAX_EXTRACTED_BYTES = 8 * 1024 ** 3;
/**
 * A model file is read whole into memory to be loaded: larger ones are refused from their size (an artifact's from
 * its tar header, before a byte of it is inflated) rather than exhausting the machine's memory.
 */
const MAX_MODEL_FILE_BYTES = Math.min(4 * 1024 ** 3, Math.floor(os.totalmem() / 4));

function checkModelFileSize(name: string, size: number): void {
  if (size > MAX_MODEL_FILE_BYTES) {
    throw new ArtifactError(
      `model file ${name} is ${size} bytes; mme predict loads model files of at most ${MAX_MODEL_FILE_BYTES} bytes (a quarter of this machine's memory, 4 GiB at most)`,
    );
  }
}

const job = workerData as PredictJob;
const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);

for (let i = 0; i < job.models.length; i++) parentPort!.postMessage(await predictOne(job.models[i], i));

async function predictOne(model: string, index: number): Promise<PredictOutcome> {
  const info = await fsp.stat(model).catch(() => undefined);
  if (!info) return { ok: false, model, failure: 'not-found', message: `${model}: no such file or folder.` };
  const started = performance.now();
  let kind: 'artifact' | 'folder' | 'file' = 'file';
  let dir: string | undefined;
  let loaded: XGBoostModel;
  try {
    if (info.isDirectory()) {
      kind = 'folder';
      loaded = (await loadArtifactDir(model)) as XGBoostModel;
    } else if (await isGzip(model)) {
      kind = 'artifact';
      dir = path.join(job.scratch, String(index));
      await extractArtifact(model, dir, { maxBytes: MAX_EXTRACTED_BYTES, maxEntries: DEFAULT_MAX_ENTRIES }, undefined, {
        onFile: (rel, size) => {
          if (!rel.includes('/') && isModelFile(rel)) checkModelFileSize(rel, size);
        },
      });
      loaded = (await loadArtifactDir(dir)) as XGBoostModel;
    } else {
      // The registry picks the runtime from the artifact's files; a lone file of another framework is named as such.
      const framework = foreignFramework(path.basename(model));
      if (framework) throw new UnsupportedModelError(framework, path.basename(model));
      checkModelFileSize(model, info.size);
      loaded = await loadModelFile(model);
    }
  } catch (err) {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
    if (err instanceof ArtifactError) return { ok: false, model, kind, failure: 'artifact', message: err.message };
    if (err instanceof UnsupportedModelError) return { ok: false, model, kind, failure: 'unsupported', message: err.message };
    if (err instanceof ModelLoadError)
      return { ok: false, model, kind, failure: 'load', message: err.message, file: err.file, reason: err.reason, extractedTo: dir };
    return { ok: false, model, kind, failure: 'internal', message: (err as Error)?.message ?? String(err) };
  }
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
  const loadMs = performance.now() - started;
  const scored = performance.now();
  try {
    const response = await loaded.invoke(body, job.contentType, job.accept);
    const predictMs = performance.now() - scored;
    return {
      ok: true,
      model,
      kind,
      description: loaded.describe() as unknown as Extract<PredictOutcome, { ok: true }>['description'],
      response: { contentType: response.contentType, rows: response.rows, body: response.body },
      loadMs,
      predictMs,
    };
  } catch (err) {
    if (err instanceof ModelRequestError) return { ok: false, model, kind, failure: 'request', message: err.message, status: err.status };
    return { ok: false, model, kind, failure: 'internal', message: (err as Error)?.message ?? String(err) };
  }
}
