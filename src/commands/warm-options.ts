import type { Command } from 'commander';
import { usageError } from '../output/errors.js';
import type { Context } from './command.js';

/** `--warm N` and its body: shared by release and promote. */
export function addWarmOptions(cmd: Command): Command {
  return cmd
    .option('--warm <n>', 'first invoke the new version N times through the fleet\'s endpoint; move the alias only if every call succeeded')
    .option('--warm-body <text>', 'request body of the warm-up calls')
    .option('--warm-body-file <file>', 'read the warm-up request body from a file (content type from its extension)')
    .option('--wait-ready <seconds>', 'how long a warm-up call waits for the model to load (ModelNotReadyException)', '120');
}

export interface WarmPlan {
  times: number;
  run(targetModel: string): Promise<{ calls: number; latenciesMs: number[] }>;
}

/** Checks the warm-up options before anything is uploaded; undefined without --warm. */
export async function warmPlan(ctx: Context, opts: Record<string, unknown>): Promise<WarmPlan | undefined> {
  if (opts.warm === undefined) {
    if (opts.warmBody !== undefined || opts.warmBodyFile !== undefined) throw usageError('--warm-body and --warm-body-file apply to --warm only.', 'Add --warm 3, say.');
    return undefined;
  }
  const times = Number(opts.warm);
  if (!Number.isInteger(times) || times < 1 || times > 1000) throw usageError(`--warm "${String(opts.warm)}" is not a whole number from 1 to 1000.`, 'E.g. --warm 3.');
  const wait = Number(opts.waitReady);
  if (!Number.isFinite(wait) || wait < 0 || wait > 3600) throw usageError(`--wait-ready "${String(opts.waitReady)}" is not a number of seconds from 0 to 3600.`, 'E.g. --wait-ready 120.');
  if (opts.warmBody === undefined && opts.warmBodyFile === undefined) {
    throw usageError('--warm needs a request body the model accepts.', "Pass --warm-body '0.5,1.2,…' or --warm-body-file rows.csv.");
  }
  const [{ readBody, contentTypeFor, buildRequest }, { requireSetting }, { clientSettings, runtimeClient }, { warmVersion }] = await Promise.all([
    import('../invoke/request.js'), import('../config/load.js'), import('../aws/clients.js'), import('../releases/warm.js'),
  ]);
  const config = ctx.config();
  const endpointName = requireSetting(config, 'endpointName');
  const warmBodyFile = opts.warmBodyFile as string | undefined;
  const { body } = await readBody({ body: opts.warmBody as string | undefined, bodyFile: warmBodyFile, stdin: process.stdin });
  const contentType = contentTypeFor(undefined, warmBodyFile);
  return {
    times,
    async run(targetModel) {
      const client = await runtimeClient(clientSettings(config));
      const request = buildRequest({ endpointName, targetModel, body, contentType });
      ctx.out.info(`warming ${targetModel} on ${endpointName}: ${times} call(s)…`);
      const latenciesMs = await warmVersion(client, {
        request, times, waitReadyMs: wait * 1000, endpointUrl: config.settings.endpointUrl.value, signal: ctx.signal,
        onNotReady: () => ctx.out.info(`${targetModel} is still loading on ${endpointName}; waiting.`),
      });
      ctx.out.info(`${targetModel} answered ${times} warm-up call(s) (${latenciesMs.map((l) => `${l.toFixed(1)} ms`).join(', ')}).`);
      return { calls: times, latenciesMs };
    },
  };
}
