import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type WorkerRequest =
  | { type: 'invoke'; id: number; dir: string; body: ArrayBuffer; contentType: string | undefined; accept: string | undefined }
  | { type: 'drop'; dir: string };

export type WorkerReply =
  | { id: number; ok: true; body: ArrayBuffer; contentType: string }
  | { id: number; ok: false; kind: 'request' | 'load' | 'internal'; status: number; message: string };

/** What a worker answered when scoring failed: `kind` says whose fault it was. */
export class WorkerScoringError extends Error {
  constructor(readonly kind: 'request' | 'load' | 'internal', readonly status: number, message: string) {
    super(message);
    this.name = 'WorkerScoringError';
  }
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(v: { body: Buffer; contentType: string }): void; reject(e: Error): void }>;
}

/**
 * A small pool of scoring threads for large requests. Workers start on first use; each request goes to the worker
 * with the fewest requests in flight. A worker that dies fails only its own requests and is replaced on next use.
 */
export class ScoringPool {
  private readonly slots: (Slot | undefined)[];
  private nextId = 1;
  private closed = false;

  constructor(size: number, private readonly script: URL = workerScript()) {
    this.slots = new Array(Math.max(1, size)).fill(undefined);
  }

  invoke(dir: string, body: Uint8Array, contentType: string | undefined, accept: string | undefined): Promise<{ body: Buffer; contentType: string }> {
    if (this.closed) return Promise.reject(new WorkerScoringError('internal', 500, 'the endpoint is shutting down'));
    const slot = this.pick();
    const id = this.nextId++;
    // The worker gets its own copy of the bytes (transferred, not cloned twice).
    const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: 'invoke', id, dir, body: copy, contentType, accept };
      slot.worker.postMessage(msg, [copy]);
    });
  }

  /** Tells every worker to forget a model the cache has unloaded. */
  drop(dir: string): void {
    const msg: WorkerRequest = { type: 'drop', dir };
    for (const slot of this.slots) slot?.worker.postMessage(msg);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }

  private pick(): Slot {
    let best = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (!s) {
        best = i;
        break;
      }
      if (best < 0 || s.pending.size < this.slots[best]!.pending.size) best = i;
    }
    return (this.slots[best] ??= this.spawn(best));
  }

  private spawn(index: number): Slot {
    const worker = new Worker(this.script, { name: `mme-score-${index}` });
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      const waiter = slot.pending.get(reply.id);
      if (!waiter) return;
      slot.pending.delete(reply.id);
      if (reply.ok) waiter.resolve({ body: Buffer.from(reply.body), contentType: reply.contentType });
      else waiter.reject(new WorkerScoringError(reply.kind, reply.status, reply.message));
    });
    const fail = (err: Error) => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const w of slot.pending.values()) w.reject(new WorkerScoringError('internal', 500, `scoring thread failed: ${err.message}`));
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    return slot;
  }
}

/**
 * The bundled worker is dist/score.worker.js, beside the entry; this module may sit in dist/ or dist/chunks/.
 * Run from source (tsx), it is the .ts file next to this one.
 */
function workerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./score.worker.ts', here);
  for (const rel of ['./score.worker.js', '../score.worker.js']) {
    const url = new URL(rel, here);
    if (fs.existsSync(fileURLToPath(url))) return url;
  }
  throw new Error('score.worker.js not found next to the bundle; rebuild with `npm run build`.');
}
