/**
 * `mme predict` off the main thread: each model (an artifact, a model file or an extracted folder) is unpacked if
 * need be, loaded and scored on a worker thread (predict.worker.ts), so that the main thread stays free to honour
 * Ctrl-C / SIGTERM at any point (the worker is terminated, its scratch folder removed). Outcomes come back as data;
 * the command turns them into output and errors.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerScript } from './pool.js';

export interface PredictJob {
  models: string[];
  body: Uint8Array;
  contentType: string;
  accept: string | undefined;
  /** Folder the worker may unpack artifacts into (removed by the caller). */
  scratch: string;
}

export type PredictOutcome =
  | {
      ok: true;
      model: string;
      kind: 'artifact' | 'folder' | 'file';
      description: Record<string, unknown> & { objective: string; booster: string; trees: number; features: number; files: string[]; footprintBytes: number };
      response: { contentType: string; rows: number; body: Uint8Array };
      loadMs: number;
      predictMs: number;
    }
  | {
      ok: false;
      model: string;
      kind?: 'artifact' | 'folder' | 'file';
      /** not-found: no such path; artifact: could not be unpacked; load: the model could not be loaded; request: the
       * model refused the request (an HTTP status); internal: a bug. */
      failure: 'not-found' | 'artifact' | 'load' | 'request' | 'internal';
      message: string;
      /** load: the file inside the model, and the reason. */
      file?: string;
      reason?: string;
      extractedTo?: string;
      status?: number;
    };

/** Scores every model of the job on a worker thread; `signal` stops it at once (rejecting with the signal's reason). */
export async function runPredict(job: Omit<PredictJob, 'scratch'>, signal: AbortSignal): Promise<PredictOutcome[]> {
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'mme-predict-'));
  const worker = new Worker(workerScript('predict'), { workerData: { ...job, scratch } satisfies PredictJob });
  try {
    return await new Promise<PredictOutcome[]>((resolve, reject) => {
      const outcomes: PredictOutcome[] = [];
      const onAbort = () => reject(new Error('interrupted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (o: PredictOutcome) => {
        outcomes.push(o);
        if (outcomes.length === job.models.length) resolve(outcomes);
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (outcomes.length < job.models.length) reject(new Error(`the scoring thread stopped (exit code ${code})`));
      });
    });
  } finally {
    await worker.terminate();
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
