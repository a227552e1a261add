import { ExitCode, MmeError, notFound, usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';
import type { PredictOutcome } from '../local/predict-run.js';

export default defineCommand({
  name: 'predict',
  summary: 'score a request with an artifact, model file or folder in process, printing what the endpoint would answer',
  configure: (cmd) =>
    cmd
      .argument(
        '<model...>',
        'an artifact (.tar.gz), a model file (xgboost-model, *.json, *.ubj) or an extracted artifact folder; several are scored one by one',
      )
      .option('--body <text>', 'request body (else --body-file, else stdin)')
      .option('--body-file <file>', 'read the request body from a file')
      .option('--content-type <type>', 'request content type: text/csv, text/libsvm (default: from the --body-file extension, else text/csv)')
      .option('--accept <type>', 'response content type: text/csv (default) or application/json'),
  examples: [
    "mme predict m37.tar.gz --body '412.5,3,0.82,14,6,,1,5.3'",
    'mme predict ./models/m37/xgboost-model --body-file rows.csv --accept application/json',
    'mme predict m37.tar.gz --body-file rows.libsvm --json | jq .result.model',
    "printf '412.5,3,0.82,14,6,,1,5.3\\n23.9,14,0.05,1460,1,2.4,0,0.9' | mme predict m37.tar.gz",
  ],
  async run(ctx, [models], opts) {
    const [{ readBody, contentTypeFor }, fs, { runPredict }] = await Promise.all([
      import('../invoke/request.js'),
      import('node:fs/promises'),
      import('../local/predict-run.js'),
    ]);
    const path = await import('node:path');

    if (models.length === 1) {
      await fs.stat(models[0]).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'ENOENT' ? notFound(`${models[0]}: no such file or folder.`, 'Pass an artifact (.tar.gz), a model file or a folder.') : e;
      });
    }
    // The body is read before the model is loaded: a usage mistake should not wait for a large model.
    const { body, from } = await readBody({ body: opts.body, bodyFile: opts.bodyFile, stdin: process.stdin });
    const contentType = contentTypeFor(opts.contentType, opts.bodyFile);
    const accept = opts.accept;

    // Loading and scoring run on a thread of their own: Ctrl-C and SIGTERM stop them at once (exit 130).
    let outcomes: PredictOutcome[];
    try {
      outcomes = await runPredict({ models, body, contentType, accept }, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) return ExitCode.interrupted;
      throw err;
    }
    const request = { contentType, accept: accept ?? null, bytes: body.length, from };

    if (models.length === 1) {
      const o = outcomes[0];
      if (!o.ok) throw failureOf(o, path.join);
      if (ctx.out.json) return void ctx.out.result(resultOf(o, request));
      ctx.out.raw(o.response.body);
      // Like `mme invoke`: a terminal prompt should not glue itself to the body; pipes get the bytes untouched.
      if (ctx.out.stdoutIsTTY) ctx.out.raw('\n');
      ctx.out.info(summaryOf(o));
      return;
    }

    // Several models: each one scored on its own (a folder of several files is what averages them). A model that
    // cannot be scored is reported, in one line, and does not stop the others; the exit code is 2 if any failed.
    const failed = outcomes.filter((o) => !o.ok).length;
    if (ctx.out.json) {
      ctx.out.result({
        request,
        models: outcomes.map((o) =>
          o.ok ? { ok: true, ...resultOf(o, request), request: undefined } : { ok: false, path: o.model, error: named(o, failureOf(o, path.join).message) },
        ),
      });
    } else {
      for (const o of outcomes) {
        if (o.ok) {
          ctx.out.raw(`==> ${o.model} <==\n`);
          ctx.out.raw(o.response.body);
          ctx.out.raw('\n');
          ctx.out.info(`${o.model}: ${summaryOf(o)}`);
        } else {
          ctx.out.warn(named(o, failureOf(o, path.join).message));
        }
      }
    }
    if (failed) {
      ctx.out.info(`${failed} of ${outcomes.length} models could not be scored.`);
      return ExitCode.usage;
    }
  },
});

/** A message that starts with the model's path (most do already). */
function named(o: PredictOutcome, message: string): string {
  return message.startsWith(o.model) ? message : `${o.model}: ${message}`;
}

type Scored = Extract<PredictOutcome, { ok: true }>;

function resultOf(o: Scored, request: Record<string, unknown>) {
  return {
    model: { path: o.model, kind: o.kind, ...o.description },
    request,
    response: { contentType: o.response.contentType, rows: o.response.rows, body: Buffer.from(o.response.body).toString('utf8') },
    timings: { loadMs: round(o.loadMs), predictMs: round(o.predictMs) },
  };
}

function summaryOf(o: Scored): string {
  const d = o.description;
  return (
    `${o.response.rows} row(s) scored by ${d.objective} ${d.booster} (${d.trees} trees, ${d.features} features` +
    `${d.files.length > 1 ? `, ${d.files.length} files averaged` : ''}, ${formatBytes(d.footprintBytes)} in memory); ` +
    `load ${o.loadMs.toFixed(1)} ms, predict ${o.predictMs.toFixed(2)} ms`
  );
}

/** The one-line error for a model that could not be scored. */
function failureOf(o: Extract<PredictOutcome, { ok: false }>, join: (...parts: string[]) => string): MmeError {
  switch (o.failure) {
    case 'not-found':
      return notFound(o.message, 'Pass an artifact (.tar.gz), a model file or a folder.');
    case 'artifact':
      return usageError(`${o.model}: ${o.message}.`, 'Build the artifact with `mme package`.');
    case 'unsupported':
      return new MmeError(
        `${o.model}: ${o.message}.`,
        ExitCode.usage,
        'mme local --handler inference.py serves it with your own Python code; mme local --container-url with your serving container.',
      );
    case 'load':
      return loadFailure({ file: o.file!, reason: o.reason! }, o.model, o.kind!, o.extractedTo, join);
    case 'request':
      return new MmeError(`the endpoint would answer HTTP ${o.status}: ${o.message}.`, ExitCode.usage, hintFor(o.status!, o.message));
    case 'internal':
      return new MmeError(`${o.model}: ${o.message}`, ExitCode.failed);
  }
}

/** A load failure named as the user knows the file: the path passed, or the file inside the artifact or folder. */
function loadFailure(
  err: { file: string; reason: string },
  model: string,
  kind: 'artifact' | 'folder' | 'file',
  extractedTo: string | undefined,
  join: (...parts: string[]) => string,
): MmeError {
  let where: string;
  if (kind === 'file') where = model;
  else if (kind === 'folder') where = err.file === model ? model : join(model, err.file);
  else where = err.file === extractedTo ? model : `${model}: ${err.file}`;
  const hint = /pickled/.test(err.reason)
    ? 'The SageMaker XGBoost container can unpickle it (with a matching xgboost version); mme reads only the formats save_model() writes.'
    : 'mme reads XGBoost models saved with Booster.save_model(): JSON, UBJSON or the legacy binary format.';
  return new MmeError(`${where}: ${err.reason}.`, ExitCode.usage, hint);
}

function hintFor(status: number, message: string): string {
  if (status === 415) return /^Accept/.test(message) ? 'Pass --accept text/csv or application/json.' : 'Pass --content-type text/csv or text/libsvm.';
  if (status === 204) return 'Pass a request body: CSV rows or libsvm lines.';
  return 'CSV rows have one value per feature and no header; libsvm rows are "label index:value ...".';
}

const round = (ms: number) => Math.round(ms * 100) / 100;
