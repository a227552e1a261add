import type { Command, OptionValues } from '@commander-js/extra-typings';
import { usageError } from '../output/errors.js';
import { duration, wholeNumber } from '../util/units.js';
import type { Context } from './command.js';

/** `--warm N` and its body: shared by release and promote. */
export function addWarmOptions<Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) {
  return cmd
    .option('--warm <n>', "first invoke the new version N times through the fleet's endpoint; move the alias only if every call succeeded")
    .option('--warm-body <text>', 'request body of the warm-up calls')
    .option('--warm-body-file <file>', 'read the warm-up request body from a file (content type from its extension)')
    .option('--wait-ready <duration>', 'how long a warm-up call waits for the model to load (ModelNotReadyException): 120s, 5m', '120s');
}

export interface WarmPlan {
  times: number;
  run(targetModel: string): Promise<{ calls: number; latenciesMs: number[] }>;
}

export interface WarmOptions {
  warm?: string;
  warmBody?: string;
  warmBodyFile?: string;
  waitReady: string;
}

/** Checks the warm-up options before anything is uploaded; undefined without --warm. */
export async function warmPlan(ctx: Context, opts: WarmOptions): Promise<WarmPlan | undefined> {
  if (opts.warm === undefined) {
    if (opts.warmBody !== undefined || opts.warmBodyFile !== undefined)
      throw usageError('--warm-body and --warm-body-file apply to --warm only.', 'Add --warm 3, say.');
    return undefined;
  }
  const times = wholeNumber(opts.warm, '--warm', 1, 1000);
  const waitReadyMs = duration(opts.waitReady, '--wait-ready', { minMs: 0, maxMs: 3_600_000 });
  if (opts.warmBody === undefined && opts.warmBodyFile === undefined) {
    throw usageError('--warm needs a request body the model accepts.', "Pass --warm-body '0.5,1.2,…' or --warm-body-file rows.csv.");
  }
  const [{ readBody, contentTypeFor, buildRequest }, { requireSetting }, { clientSettings, runtimeClient }, { warmVersion }] = await Promise.all([
    import('../invoke/request.js'),
    import('../config/load.js'),
    import('../aws/clients.js'),
    import('../releases/warm.js'),
  ]);
  const config = ctx.config();
  const endpointName = requireSetting(config, 'endpointName');
  const warmBodyFile = opts.warmBodyFile;
  const { body } = await readBody({ body: opts.warmBody, bodyFile: warmBodyFile, stdin: process.stdin });
  const contentType = contentTypeFor(undefined, warmBodyFile);
  return {
    times,
    async run(targetModel) {
      const client = await runtimeClient(clientSettings(config));
      const request = buildRequest({ endpointName, targetModel, body, contentType });
      ctx.out.info(`warming ${targetModel} on ${endpointName}: ${times} call(s)…`);
      const latenciesMs = await warmVersion(client, {
        request,
        times,
        waitReadyMs,
        endpointUrl: config.settings.endpointUrl.value,
        signal: ctx.signal,
        onNotReady: () => ctx.out.info(`${targetModel} is still loading on ${endpointName}; waiting.`),
      });
      ctx.out.info(`${targetModel} answered ${times} warm-up call(s) (${latenciesMs.map((l) => `${l.toFixed(1)} ms`).join(', ')}).`);
      return { calls: times, latenciesMs };
    },
  };
}
