import { ExitCode, type MmeError, usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { duration, wholeNumber } from '../util/units.js';
import { collect, defineCommand, type Context } from './command.js';

/** The SDK's Node HTTP handler keeps at most 50 sockets per host; more in flight would only queue inside the SDK. */
const MAX_CONCURRENCY = 50;

export default defineCommand({
  name: 'invoke',
  summary: "call one model of the fleet's endpoint (InvokeEndpoint with TargetModel), or load-test it with --repeat",
  configure: (cmd) =>
    cmd
      .option('--target <name>', 'TargetModel: a model name as `mme ls` prints it (repeat it for a load run over several)', collect)
      .option('--targets-file <file>', 'load run: models to call, one "name [weight]" per line')
      .option('--body <text>', 'request body (else --body-file, else stdin)')
      .option('--body-file <file>', 'read the request body from a file')
      .option('--content-type <type>', 'request content type (default: from the --body-file extension, else text/csv)')
      .option('--accept <type>', 'desired response content type')
      .option('--custom-attributes <text>', 'X-Amzn-SageMaker-Custom-Attributes, passed to the container as is')
      .option('--variant-target <variant>', 'send the request to this production variant (TargetVariant)')
      .option('--inference-id <id>', 'an id recorded with the request in data capture')
      .option('--out <file>', 'write the response body to a file (atomically) instead of stdout')
      .option(
        '--wait-ready <duration>',
        'keep retrying while the model is still loading (ModelNotReadyException), up to this long: 120s, 5m, 0 to fail at once',
        '120s',
      )
      .option('--repeat <n>', 'load run: send n requests and print a latency report')
      .option('--concurrency <n>', `load run: requests in flight at once (1-${MAX_CONCURRENCY})`, '1')
      .option('--duration <duration>', 'load run: stop starting requests after this long: 60s, 5m (a bare number is seconds)'),
  examples: [
    "mme invoke --target m37.tar.gz --body '412.5,3,0.82,14,6,,1,5.3'",
    'mme invoke --target v2/m37.tar.gz --body-file rows.csv --accept application/json --out scores.json',
    "printf '412.5,3,0.82,14,6,,1,5.3' | mme invoke --target m37.tar.gz --json | jq -r .result.body",
    "mme invoke --target m37.tar.gz --body '412.5,3,0.82,14,6,,1,5.3' --repeat 500 --concurrency 8",
    "mme invoke --targets-file hot-models.txt --body '412.5,3,0.82,14,6,,1,5.3' --duration 5 --concurrency 4 --json",
  ],
  async run(ctx, _args, opts) {
    const [{ readBody, contentTypeFor, buildRequest }, { resolveTargets }] = await Promise.all([
      import('../invoke/request.js'),
      import('../invoke/targets.js'),
    ]);
    const waitReadyMs = duration(opts.waitReady, '--wait-ready', { minMs: 0, maxMs: 3_600_000 });
    const waitReadySeconds = waitReadyMs / 1000;
    const repeat = opts.repeat === undefined ? undefined : wholeNumber(opts.repeat, '--repeat', 1, 10_000_000);
    const durationMs = opts.duration === undefined ? undefined : duration(opts.duration, '--duration', { maxMs: 86_400_000 });
    const concurrency = wholeNumber(opts.concurrency, '--concurrency', 1, MAX_CONCURRENCY);
    const load = repeat !== undefined || durationMs !== undefined;
    if (!load && concurrency !== 1) throw usageError('--concurrency applies to load runs only.', 'Add --repeat N or --duration S.');
    if (!load && opts.targetsFile !== undefined)
      throw usageError('--targets-file applies to load runs only.', 'Add --repeat N or --duration S, or call one --target.');
    if (load && opts.out !== undefined)
      throw usageError('--out writes one response body; a load run prints a latency report instead.', 'Drop --out, or drop --repeat/--duration.');

    const outTarget =
      opts.out === undefined
        ? undefined
        : await (await import('../store/output-path.js')).checkOutputPath(opts.out, '--out', opts.bodyFile !== undefined ? [opts.bodyFile] : []);
    const named = await resolveTargets(opts.target ?? [], opts.targetsFile);
    if (!load && named.length > 1)
      throw usageError(`one call takes one --target (${named.length} given).`, 'Pass --repeat N to spread a load run over several targets.');

    const [{ requireSetting }, { resolveAliases }, { clientSettings, runtimeClient }] = await Promise.all([
      import('../config/load.js'),
      import('../releases/resolve.js'),
      import('../aws/clients.js'),
    ]);
    const config = ctx.config();
    const endpointName = requireSetting(config, 'endpointName');
    // An alias (`m37`) is called through the version it points at, read once for the whole run.
    const aliases = await resolveAliases(
      named.map((t) => t.name),
      config.settings.prefix.value,
      clientSettings(config),
      (m) => ctx.out.warn(m),
    );
    const targets = named.map((t) => ({ ...t, name: aliases.get(t.name) ?? t.name }));
    const aliasJson = aliases.size ? { aliases: Object.fromEntries(aliases) } : {};
    const { body, from } = await readBody({ body: opts.body, bodyFile: opts.bodyFile, stdin: process.stdin });
    const request = buildRequest({
      endpointName,
      targetModel: targets[0].name,
      body,
      contentType: contentTypeFor(opts.contentType, opts.bodyFile),
      accept: opts.accept,
      customAttributes: opts.customAttributes,
      targetVariant: opts.variantTarget,
      inferenceId: opts.inferenceId,
    });

    const client = await runtimeClient(clientSettings(config));
    const waitReady = { waitReadyMs };
    const explainContext = {
      endpointName,
      endpointUrl: config.settings.endpointUrl.value,
      profile: config.settings.profile.value,
      prefix: config.settings.prefix.value,
      waitReadySeconds,
    };

    if (load) {
      const [{ runLoad }, { loadReportJson, renderLoadReport }, { explainInvokeFailure }] = await Promise.all([
        import('../invoke/load.js'),
        import('../invoke/report.js'),
        import('../invoke/errors.js'),
      ]);
      let toldNotReady = false;
      const progress = await ctx.out.progress(`invoking ${request.targetModel} on ${endpointName}`);
      const report = await runLoad(client, {
        request,
        targets,
        repeat,
        durationMs,
        concurrency,
        signal: ctx.signal,
        waitReady: {
          ...waitReady,
          onNotReady: () => {
            // With several calls in flight, say it once per run rather than once per retry.
            if (toldNotReady) return;
            toldNotReady = true;
            progress.stop();
            ctx.out.info(`a model is still loading on ${endpointName} (ModelNotReadyException); retrying for up to ${waitReadySeconds} s.`);
          },
        },
        // Failures that every later request would hit too end the run at once instead of hammering the endpoint.
        onError: (err) => FATAL.has(err.failure.kind),
      }).finally(() => progress.stop());
      const first = report.firstError
        ? await explain(ctx, explainInvokeFailure, report.firstError.error.failure, { ...explainContext, targetModel: report.firstError.target })
        : undefined;
      // Nothing succeeded: the failure is the answer, with its own exit code (3 for a missing endpoint, …).
      if (first && report.ok === 0) throw first;
      const { table, header, notes } = renderLoadReport(report, ctx.out.stdoutIsTTY);
      ctx.out.result({ ...loadReportJson(report), ...aliasJson }, () => {
        if (ctx.out.stdoutIsTTY) return [header, table, ...notes].join('\n');
        ctx.out.info(header);
        notes.forEach((n) => ctx.out.info(n));
        return table;
      });
      if (first) {
        ctx.out.warn(`${report.errors} of ${report.requests} request(s) failed; the first: ${first.message}`);
        return ExitCode.failed;
      }
      return;
    }

    const [{ invokeWhenReady, InvokeError }, { explainInvokeFailure }] = await Promise.all([import('../invoke/invoke.js'), import('../invoke/errors.js')]);
    let result: Awaited<ReturnType<typeof invokeWhenReady>>;
    try {
      result = await invokeWhenReady(client, request, {
        ...waitReady,
        signal: ctx.signal,
        onNotReady: ({ delayMs, waitedMs, budgetMs }) =>
          ctx.out.info(
            `${request.targetModel} is still loading on ${endpointName} (ModelNotReadyException); ` +
              `retrying in ${(delayMs / 1000).toFixed(1)} s (waited ${(waitedMs / 1000).toFixed(1)} s of ${budgetMs / 1000} s).`,
          ),
      });
    } catch (err) {
      if (!(err instanceof InvokeError)) throw err;
      throw await explain(ctx, explainInvokeFailure, err.failure, { ...explainContext, targetModel: request.targetModel });
    }

    const latencyMs = Math.round(result.totalMs * 100) / 100;
    const meta = {
      targetModel: request.targetModel,
      alias: aliases.size ? named[0].name : null,
      endpointName,
      contentType: result.contentType ?? null,
      invokedProductionVariant: result.invokedProductionVariant ?? null,
      customAttributes: result.customAttributes ?? null,
      latencyMs,
      notReadyRetries: result.notReadyRetries,
      bytes: result.body.length,
    };
    const out = opts.out;
    if (out !== undefined) {
      const [{ writeOutput }, fs] = await Promise.all([import('../store/output-path.js'), import('node:fs/promises')]);
      await writeOutput(outTarget!, (file) => fs.writeFile(file, result.body));
    }
    const summary =
      `${formatBytes(result.body.length)} ${meta.contentType ?? '(no content type)'} from ${request.targetModel}${meta.alias ? ` (alias ${meta.alias})` : ''}` +
      `${meta.invokedProductionVariant ? ` via ${meta.invokedProductionVariant}` : ''} in ${latencyMs.toFixed(1)} ms` +
      `${meta.customAttributes ? `, custom attributes "${meta.customAttributes}"` : ''}${out !== undefined ? `, written to ${out}` : ''}`;
    if (ctx.out.json) {
      const text = decodeUtf8(result.body);
      const bodyFields =
        out !== undefined
          ? { out }
          : text !== undefined
            ? { body: text, bodyEncoding: 'utf8' }
            : { body: Buffer.from(result.body).toString('base64'), bodyEncoding: 'base64' };
      ctx.out.result({ ...meta, ...bodyFields, requestBytes: request.body.length, requestFrom: from });
      return;
    }
    if (out === undefined) {
      ctx.out.raw(result.body);
      // A terminal prompt should not glue itself to a body without a final newline; pipes get the bytes untouched.
      if (ctx.out.stdoutIsTTY && result.body.length && result.body[result.body.length - 1] !== 0x0a) ctx.out.raw('\n');
    }
    ctx.out.info(summary);
  },
});

/** Failures that do not depend on the request's timing: once seen, every later request would fail the same way. */
const FATAL = new Set(['EndpointNotFound', 'NotMultiModel', 'Unreachable', 'Credentials', 'AccessDenied', 'ValidationError', 'ModelDownloadFailed']);

/** Explains a failure; for a model the endpoint could not download, first looks under the fleet's prefix. */
async function explain(
  ctx: Context,
  explainInvokeFailure: typeof import('../invoke/errors.js').explainInvokeFailure,
  failure: import('../invoke/errors.js').InvokeFailure,
  c: import('../invoke/errors.js').ExplainContext,
): Promise<MmeError> {
  if (failure.kind === 'ModelDownloadFailed' && c.prefix) c = { ...c, modelExists: await modelExists(ctx, c.targetModel) };
  const err = explainInvokeFailure(failure, c);
  if (ctx.out.debug && failure.cause instanceof Error) err.stack = failure.cause.stack;
  return err;
}

/** Whether the model is under the prefix; undefined when that cannot be told (no access, no network). */
async function modelExists(ctx: Context, name: string): Promise<boolean | undefined> {
  try {
    const store = await (await import('./fleet-store.js')).fleetStore(ctx);
    return (await store.head(name)) !== undefined;
  } catch {
    return undefined;
  }
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
