/**
 * A scoring thread of the local endpoint: large requests are scored here so that the server's event loop keeps
 * answering other requests. Each worker loads the models it is asked for from their extracted folders (the same
 * files the main thread loaded) and drops them when the main thread unloads them.
 */
import { parentPort } from 'node:worker_threads';
import { loadModelDir } from './runtime.js';
import { ModelLoadError, ModelRequestError, type LoadedModel } from './runtimes/types.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const port = parentPort!;
const models = new Map<string, Promise<LoadedModel>>();

function modelFor(dir: string): Promise<LoadedModel> {
  let model = models.get(dir);
  if (!model) {
    model = loadModelDir(dir);
    models.set(dir, model);
    model.catch(() => models.delete(dir));
  }
  return model;
}

port.on('message', async (msg: WorkerRequest) => {
  if (msg.type === 'drop') {
    models.delete(msg.dir);
    return;
  }
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const model = await modelFor(msg.dir);
    const out = model.invoke(new Uint8Array(msg.body), msg.contentType, msg.accept);
    const body = out.body.byteOffset === 0 && out.body.byteLength === out.body.buffer.byteLength && out.body.buffer instanceof ArrayBuffer
      ? out.body.buffer
      : out.body.slice().buffer as ArrayBuffer;
    transfer.push(body);
    reply = { id: msg.id, ok: true, body, contentType: out.contentType };
  } catch (err) {
    const kind = err instanceof ModelRequestError ? 'request' : err instanceof ModelLoadError ? 'load' : 'internal';
    reply = { id: msg.id, ok: false, kind, status: err instanceof ModelRequestError ? err.status : 500, message: (err as Error)?.message ?? String(err) };
  }
  port.postMessage(reply, transfer);
});
