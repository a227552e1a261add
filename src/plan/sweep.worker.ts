/** A simulation thread of `mme plan`: reads the shared trace, runs the jobs it is sent one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { runTask, type SharedConfig, type SweepTask } from './sweep.js';
import type { Trace } from './simulate.js';

const data = workerData as Trace & { shared: SharedConfig };
const trace: Trace = { times: data.times, models: data.models, length: data.length, durationMs: data.durationMs };

parentPort!.on('message', (m: { i: number; task: SweepTask }) => {
  parentPort!.postMessage({ i: m.i, result: runTask(trace, data.shared, m.task) });
});
