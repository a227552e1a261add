import { ExitCode, MmeError, notFound, usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';

/** Extraction limits for a local check: generous, but a decompression bomb still stops. */
const MAX_EXTRACTED_BYTES = 8 * 1024 ** 3;

export default defineCommand({
  name: 'predict',
  summary: 'score a request with an artifact, model file or folder in process, printing what the endpoint would answer',
  configure: (cmd) =>
    cmd
      .argument('<model>', 'an artifact (.tar.gz), a model file (xgboost-model, *.json, *.ubj) or an extracted artifact folder')
      .option('--body <text>', 'request body (else --body-file, else stdin)')
      .option('--body-file <file>', 'read the request body from a file')
      .option('--content-type <type>', 'request content type: text/csv, text/libsvm (default: from the --body-file extension, else text/csv)')
      .option('--accept <type>', 'response content type: text/csv (default) or application/json'),
  examples: [
    "mme predict m37.tar.gz --body '0.5,1.2,3.4'",
    'mme predict ./model/xgboost-model --body-file rows.csv --accept application/json',
    'mme predict m37.tar.gz --body-file rows.libsvm --json | jq .result.model',
    "printf '0.5,1.2,3.4\\n0.1,0.2,0.3' | mme predict m37.tar.gz",
  ],
  async run(ctx, [model], opts) {
    const [{ readBody, contentTypeFor }, fs, os, path] = await Promise.all([
      import('../invoke/request.js'),
      import('node:fs/promises'),
      import('node:os'),
      import('node:path'),
    ]);
    const { ModelLoadError, ModelRequestError } = await import('../local/runtimes/types.js');
    const xgboost = await import('../local/runtimes/xgboost/index.js');
    const { loadArtifactDir, UnsupportedModelError } = await import('../local/runtime.js');
    const { foreignFramework } = await import('../artifacts/model-files.js');
    // The registry picks the runtime from the artifact's files; XGBoost is the built-in one (others fail naming theirs).
    const loadDir = async (dir: string) => (await loadArtifactDir(dir)) as InstanceType<typeof xgboost.XGBoostModel>;

    const info = await fs.stat(model).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? notFound(`${model}: no such file or folder.`, 'Pass an artifact (.tar.gz), a model file or a folder.') : e;
    });
    // The body is read before the model is loaded: a usage mistake should not wait for a large model.
    const { body, from } = await readBody({ body: opts.body as string | undefined, bodyFile: opts.bodyFile as string | undefined, stdin: process.stdin });
    const contentType = contentTypeFor(opts.contentType as string | undefined, opts.bodyFile as string | undefined);
    const accept = opts.accept as string | undefined;

    const started = performance.now();
    let scratch: string | undefined;
    let loaded: import('../local/runtimes/xgboost/index.js').XGBoostModel;
    let kind: 'artifact' | 'folder' | 'file';
    try {
      if (info.isDirectory()) {
        kind = 'folder';
        loaded = await loadDir(model);
      } else if (await (await import('../artifacts/bytes.js')).isGzip(model)) {
        kind = 'artifact';
        // Extracted as the endpoint would (safe paths only, no links, size limits) into a private temp folder.
        const { extractArtifact, ArtifactError, DEFAULT_MAX_ENTRIES } = await import('../local/extract.js');
        scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'mme-predict-'));
        const dir = path.join(scratch, 'model');
        try {
          await extractArtifact(model, dir, { maxBytes: MAX_EXTRACTED_BYTES, maxEntries: DEFAULT_MAX_ENTRIES }, ctx.signal);
        } catch (err) {
          if (err instanceof ArtifactError) throw usageError(`${model}: ${err.message}.`, 'Build the artifact with `mme package`.');
          throw err;
        }
        loaded = await loadDir(dir);
      } else {
        kind = 'file';
        const framework = foreignFramework(path.basename(model));
        if (framework) throw new UnsupportedModelError(framework, path.basename(model));
        loaded = await xgboost.loadModelFile(model);
      }
    } catch (err) {
      if (err instanceof UnsupportedModelError) throw new MmeError(`${model}: ${err.message}.`, ExitCode.usage, 'mme local --handler inference.py serves it with your own Python code; mme local --container-url with your serving container.');
      if (err instanceof ModelLoadError) throw loadFailure(err, model, kind!, scratch && path.join(scratch, 'model'), path.join);
      throw err;
    } finally {
      if (scratch) await fs.rm(scratch, { recursive: true, force: true });
    }
    const loadMs = performance.now() - started;

    const scored = performance.now();
    let response;
    try {
      response = loaded.invoke(body, contentType, accept);
    } catch (err) {
      if (err instanceof ModelRequestError) {
        throw new MmeError(`the endpoint would answer HTTP ${err.status}: ${err.message}.`, ExitCode.usage, hintFor(err.status, err.message));
      }
      throw err;
    }
    const predictMs = performance.now() - scored;
    const description = loaded.describe();
    const summary =
      `${response.rows} row(s) scored by ${description.objective} ${description.booster} (${description.trees} trees, ${description.features} features` +
      `${description.files.length > 1 ? `, ${description.files.length} files averaged` : ''}, ${formatBytes(description.footprintBytes)} in memory); ` +
      `load ${loadMs.toFixed(1)} ms, predict ${predictMs.toFixed(2)} ms`;

    if (ctx.out.json) {
      ctx.out.result({
        model: { path: model, kind, ...description },
        request: { contentType, accept: accept ?? null, bytes: body.length, from },
        response: { contentType: response.contentType, rows: response.rows, body: Buffer.from(response.body).toString('utf8') },
        timings: { loadMs: round(loadMs), predictMs: round(predictMs) },
      });
      return;
    }
    ctx.out.raw(response.body);
    // Like `mme invoke`: a terminal prompt should not glue itself to the body; pipes get the bytes untouched.
    if (ctx.out.stdoutIsTTY) ctx.out.raw('\n');
    ctx.out.info(summary);
  },
});

/** A load failure named as the user knows the file: the path passed, or the file inside the artifact or folder. */
function loadFailure(
  err: import('../local/runtimes/types.js').ModelLoadError,
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
