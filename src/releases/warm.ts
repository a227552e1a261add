import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { explainInvokeFailure } from '../invoke/errors.js';
import { InvokeError, invokeWhenReady } from '../invoke/invoke.js';
import type { InvokeRequest } from '../invoke/request.js';
import { MmeError } from '../output/errors.js';

export interface WarmOptions {
  /** The request to send, its TargetModel set to the new version. */
  request: InvokeRequest;
  times: number;
  waitReadyMs: number;
  endpointUrl?: string;
  signal?: AbortSignal;
  onNotReady?(): void;
}

/**
 * Calls the new version through the fleet's endpoint `times` times, one after another (the first pays the download
 * and load, the rest confirm it answers warm). Any failure throws, so the caller moves the alias only after every
 * call succeeded. Returns each call's latency in ms.
 */
export async function warmVersion(client: SageMakerRuntimeClient, o: WarmOptions): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < o.times; i++) {
    try {
      const r = await invokeWhenReady(client, o.request, { waitReadyMs: o.waitReadyMs, signal: o.signal, onNotReady: o.onNotReady });
      latencies.push(Math.round(r.totalMs * 100) / 100);
    } catch (err) {
      if (!(err instanceof InvokeError)) throw err;
      const e = explainInvokeFailure(err.failure, { endpointName: o.request.endpointName, targetModel: o.request.targetModel, endpointUrl: o.endpointUrl });
      throw new MmeError(
        `warm-up call ${i + 1} of ${o.times} to ${o.request.targetModel} failed, so the alias was not moved: ${e.message}`,
        e.exitCode,
        e.hint,
      );
    }
  }
  return latencies;
}
