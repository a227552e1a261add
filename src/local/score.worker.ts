/**
 * A scoring thread of the local endpoint: large requests are scored here so that the server's event loop keeps
 * answering other requests. A model arrives with the first request for it as compiled data whose arrays are the
 * main thread's own (SharedArrayBuffers): this thread reads no file and holds no copy, only the small wrapper
 * objects, until the main thread drops the model.
 */
import { parentPort } from 'node:worker_threads';
import { instantiateModel } from './runtime.js';
import { ModelLoadError, ModelRequestError, type InProcessModel } from './runtimes/types.js';
import type { ScoreReply, ScoreRequest } from './pool.js';

const port = parentPort!;
const models = new Map<number, InProcessModel>();

port.on('message', (msg: ScoreRequest) => {
  if (msg.type === 'drop') {
    models.delete(msg.key);
    return;
  }
  let reply: ScoreReply;
  const transfer: ArrayBuffer[] = [];
  try {
    let model = models.get(msg.key);
    if (!model && msg.model) models.set(msg.key, (model = instantiateModel(msg.model)));
    if (!model) throw new ModelLoadError(`model ${msg.key}`, 'this scoring thread was not given the model');
    const out = model.invoke(new Uint8Array(msg.body), msg.contentType, msg.accept);
    const body =
      out.body.byteOffset === 0 && out.body.byteLength === out.body.buffer.byteLength && out.body.buffer instanceof ArrayBuffer
        ? out.body.buffer
        : (out.body.slice().buffer as ArrayBuffer);
    transfer.push(body);
    reply = { id: msg.id, ok: true, body, contentType: out.contentType };
  } catch (err) {
    const kind = err instanceof ModelRequestError ? 'request' : err instanceof ModelLoadError ? 'load' : 'internal';
    reply = { id: msg.id, ok: false, kind, status: err instanceof ModelRequestError ? err.status : 500, message: (err as Error)?.message ?? String(err) };
  }
  port.postMessage(reply, transfer);
});
