import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { modelNameProblem } from '../artifacts/names.js';
import { clientSettings, isLoopback } from '../aws/clients.js';
import { successDocument, type Output } from '../output/output.js';
import { requireSetting, type ResolvedConfig } from '../config/load.js';
import { describeOrigin } from '../config/validate.js';
import { MmeError, ExitCode, usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { userCacheDir } from '../util/cache-dir.js';
import { duration, size, wholeNumber } from '../util/units.js';
import { openStore } from '../store/index.js';
import { SharedBudget } from './budget.js';
import { ModelCache, type CacheEvent } from './cache.js';
import { handleMetricsRequest, MetricsRecorder } from './metrics/index.js';
import { LoadingPool, ScoringPool } from './pool.js';
import { createEndpointServer } from './server.js';
import { ContainerStartError } from './container/process.js';
import { setUpContainer, type ContainerFlags, type ContainerSetup } from './container/setup.js';
import { makeDirs } from '../util/make-dirs.js';

const DEFAULT_ENDPOINT_NAME = 'local-mme';
const DEFAULT_PORT = 8080;
const LOCATOR = 'endpoint.json';
const MARKER = '.mme-local-cache';
/** Bodies at least this large are scored on a worker thread (a few hundred CSV rows). */
const WORKER_THRESHOLD = 64 * 1024;
/** How long in-flight requests may take to finish after Ctrl-C / SIGTERM. */
const SHUTDOWN_GRACE_MS = 30_000;
/** Loads that can run at once (each on its own thread); more wait for a thread. */
const MAX_LOADING_THREADS = 8;
/** Model files that loads under way may hold in memory at once: the memory budget, but at least this. */
const LOADING_MEMORY_FLOOR = 64 * 1024 * 1024;

/** What `mme local --json` prints (one line) once it accepts requests; also the locator file's content. */
export interface LocalEndpointInfo {
  url: string;
  host: string;
  port: number;
  pid: number;
  endpointName: string;
  variant: string;
  prefix: string;
  cacheDir: string;
  memoryBudget: number;
  diskBudget: number;
  startedAt: string;
}

/** What the endpoint needs from the command that starts it. */
export interface LocalContext {
  out: Output;
  config(): ResolvedConfig;
  /** Aborted on Ctrl-C / SIGTERM: the endpoint then stops cleanly. */
  signal: AbortSignal;
}

/** `mme local`'s flags, as text: parsed and checked here, before anything starts. */
export interface LocalOptions {
  port?: string;
  host: string;
  memory: string;
  disk: string;
  cacheDir?: string;
  modelsPreload?: string;
  waitLimit: string;
  loadLimit: string;
  workers?: string;
  defaultAccept: string;
  containerUrl?: string;
  containerCmd?: string;
  containerModelDir?: string;
  containerStartLimit: string;
  invokeLimit: string;
  handler?: string;
  python?: string;
  check?: boolean;
  checkBody?: string;
}

/** Runs `mme local` until ctx.signal is aborted (Ctrl-C / SIGTERM), then stops cleanly. */
export async function startLocalEndpoint(ctx: LocalContext, opts: LocalOptions): Promise<number | void> {
  const config = ctx.config();
  const containerFlags = containerOptions(opts);
  const defaultAccept = mediaType(opts.defaultAccept);
  if (opts.check) {
    if (!containerFlags)
      throw usageError(
        '--check tests a serving container: give --container-url, --container-cmd or --handler.',
        'e.g. mme local --check --container-cmd "docker run --rm -p {port}:8080 my-image serve".',
      );
    const { runContractCheck } = await import('./check/check.js');
    const first = (opts.modelsPreload ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)[0];
    return runContractCheck({
      out: ctx.out,
      flags: containerFlags,
      memoryBudget: size(opts.memory, '--memory'),
      defaultAccept,
      region: config.settings.region.value ?? 'us-east-1',
      store: await openStore(requireSetting(config, 'prefix'), clientSettings(config)),
      model: first,
      body: opts.checkBody,
    });
  }
  const s = config.settings;
  const prefix = requireSetting(config, 'prefix');
  const served = localEndpointOf(config);
  // A flag or variable names this endpoint; a fleet's own endpointName only when the fleet points at mme local.
  const chosenName = s.endpointName.origin.kind === 'flag' || s.endpointName.origin.kind === 'env' || served ? s.endpointName.value : undefined;
  const endpointName = chosenName ?? DEFAULT_ENDPOINT_NAME;
  const variant = s.variant.value ?? 'AllTraffic';
  const memoryBudget = size(opts.memory, '--memory');
  const diskBudget = size(opts.disk, '--disk');
  const waitLimitMs = duration(opts.waitLimit, '--wait-limit', { maxMs: 3_600_000 });
  const loadLimitMs = duration(opts.loadLimit, '--load-limit', { maxMs: 3_600_000 });
  const host = opts.host;
  const port =
    opts.port !== undefined ? wholeNumber(opts.port, '--port', 0, 65535, 'Use e.g. --port 8080, or --port 0 for a free port.') : (served?.port ?? DEFAULT_PORT);
  if (!served && s.endpointUrl.value && isLoopback(s.endpointUrl.value) && opts.port === undefined) {
    ctx.out.info(
      `mme local: ${describeOrigin(s.endpointUrl.origin, 'endpointUrl')} points at ${new URL(s.endpointUrl.value).host}, which serves the fleet's S3 prefix too, so it is ` +
        `not taken as this endpoint: serving on port ${port} as ${endpointName} (pass --port / --endpoint-name to choose).`,
    );
  }
  const workers = opts.workers !== undefined ? wholeNumber(opts.workers, '--workers', 0, 64) : Math.max(1, Math.min(4, os.availableParallelism() - 1));
  // Loads always run on their own threads (the event loop never unpacks or compiles), each on an idle one: a model
  // that takes long to compile does not hold up the others. Threads start as loads need them.
  const loaders = MAX_LOADING_THREADS;
  const preload = (opts.modelsPreload ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const name of preload) {
    if (modelNameProblem(name))
      throw usageError(`--models-preload: "${name}" is not a valid model name.`, 'Give names relative to the prefix, e.g. m1.tar.gz,v2/m2.tar.gz.');
  }
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir(endpointName));
  await claimCacheDir(cacheDir);

  // The fleet's endpointUrl usually points at this very server: the store must not send S3 calls here.
  const storeSettings = clientSettings(config);
  if (storeSettings.endpointUrl && pointsAtUs(storeSettings.endpointUrl, host, port)) {
    storeSettings.endpointUrl = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ??= 'true';
  }
  const store = await openStore(prefix, storeSettings);

  const metrics = new MetricsRecorder({ endpointName, variantName: variant });
  // One disk budget for the cache and every loading thread, and one for the model files that loads under way hold in
  // memory (the memory budget, at least LOADING_MEMORY_FLOOR): reserved before anything is written or kept.
  const budgets = { disk: new SharedBudget('disk', diskBudget), memory: new SharedBudget('memory', Math.max(memoryBudget, LOADING_MEMORY_FLOOR)) };
  const stamp = () => new Date().toISOString().slice(11, 19);
  // A serving container (--container-url, --container-cmd, --handler) loads and scores instead of the built-in runtime.
  let cache: ModelCache | undefined;
  let container: ContainerSetup | undefined;
  if (containerFlags) {
    try {
      container = await setUpContainer(containerFlags, {
        cacheDir,
        modelDir: path.join(cacheDir, 'models'),
        memoryBudget,
        disk: budgets.disk,
        defaultAccept,
        region: s.region.value ?? 'us-east-1',
        evictLeastRecent: () => cache?.evictLeastRecent() ?? false,
        log: (message) => ctx.out.info(`[${stamp()}] ${message}`),
      });
    } catch (err) {
      if (err instanceof ContainerStartError)
        throw new MmeError(err.message, ExitCode.failed, 'Check the command (mme local --check tests a container against the contract).');
      throw err;
    }
    container.process?.on('died', ({ how }: { how: string }) => {
      ctx.out.warn(`[${stamp()}] the container exited (${how}); restarting it. Its models reload on demand; see ${container!.logFile}`);
      cache?.dropAllLoaded();
    });
    container.process?.on('restarted', () => ctx.out.info(`[${stamp()}] the container answers /ping again`));
    container.process?.on('failed', (err: Error) => ctx.out.warn(`[${stamp()}] the container did not come back: ${err.message}`));
  }
  const pool = workers > 0 && !container ? new ScoringPool(workers) : undefined;
  const loader = container?.backend ?? new LoadingPool(loaders, undefined, budgets);
  // Started now, so that the first cold model does not also wait for a thread to start.
  if (loader instanceof LoadingPool) loader.warm();
  cache = new ModelCache({
    store,
    cacheDir,
    memoryBudget,
    diskBudget,
    loader,
    diskShared: budgets.disk,
    loadTimeoutMs: loadLimitMs,
    record: (metric, value) => metrics.record(metric, value),
    onUnload: (model) => {
      if (model.compiled) pool?.drop(model.compiled);
    },
    onEvent: (e) => ctx.out.info(`[${stamp()}] ${describeEvent(e)}`),
  });
  await cache.init();
  metrics.watch(() => cache!.stats());

  const endpoint = createEndpointServer({
    endpointName,
    variant,
    region: s.region.value ?? 'us-east-1',
    cache,
    waitLimitMs,
    defaultAccept,
    workerThreshold: WORKER_THRESHOLD,
    pool,
    record: (metric, value) => metrics.record(metric, value),
    extraHandler: (req, res, body) => handleMetricsRequest(metrics, req, res, body),
    log: (message) => ctx.out.warn(message),
  });
  const { server } = endpoint;

  const shutdown = async () => {
    metrics.stop();
    await cache!.close();
    await Promise.all([pool?.close(), loader instanceof LoadingPool ? loader.close() : undefined, container?.close()]);
    await fsp.rm(path.join(cacheDir, LOCATOR), { force: true });
  };

  try {
    await listen(server, port, host);
  } catch (err) {
    await shutdown();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new MmeError(
        `port ${port} on ${host} is already in use.`,
        ExitCode.failed,
        'Stop what uses it, or pass --port 0 for a free port (or another --port).',
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw usageError(`--host ${host} is not an address of this machine.`, 'Use 127.0.0.1 (the default) or 0.0.0.0.');
    if (code === 'EACCES') throw usageError(`not allowed to listen on port ${port}.`, 'Ports below 1024 need privileges: pick another --port.');
    throw err;
  }
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  const info: LocalEndpointInfo = {
    url,
    host,
    port: actualPort,
    pid: process.pid,
    endpointName,
    variant,
    prefix,
    cacheDir,
    memoryBudget,
    diskBudget,
    startedAt: new Date().toISOString(),
  };

  // The server already answers requests while these load; the ready message (and the --json line) waits for them.
  for (const name of preload) {
    try {
      await cache.load(name);
    } catch (err) {
      ctx.out.warn(`--models-preload: ${name}: ${(err as Error).message}`);
    }
  }

  await fsp.writeFile(path.join(cacheDir, LOCATOR), JSON.stringify(info, null, 2) + '\n');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    ctx.out.warn(`listening on ${host}: anyone who can reach this machine can call the endpoint and its management API (there is no authentication).`);
  }
  announce(ctx, info, s.endpointUrl.value === url ? describeOrigin(s.endpointUrl.origin, 'endpointUrl') : undefined, container?.describe);

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const busy = endpoint.inFlight();
  ctx.out.info(busy ? `stopping: letting ${busy} request(s) in flight finish (Ctrl-C again to stop now)…` : 'stopping…');
  const stopped = endpoint.stop(SHUTDOWN_GRACE_MS);
  // Loads under way stop now (their threads are terminated): a request waiting for one is answered at once (503)
  // instead of holding the endpoint for the grace period or the load limit.
  await cache.close();
  await stopped;
  await shutdown();
  ctx.out.info('mme local stopped.');
}

function announce(ctx: LocalContext, info: LocalEndpointInfo, configuredAt: string | undefined, container: string | undefined): void {
  const lines = [
    `mme local: endpoint ${info.endpointName} (variant ${info.variant}) listening on ${info.url}`,
    ...(container ? [`  ${container}`] : []),
    `  models from ${info.prefix}; memory budget ${formatBytes(info.memoryBudget)}, disk budget ${formatBytes(info.diskBudget)}, cache ${info.cacheDir}`,
    configuredAt
      ? `  the fleet already points here (endpointUrl from ${configuredAt}): mme invoke, mme stats, … work as they are`
      : `  point the CLI at it: --endpoint-url ${info.url} (or AWS_ENDPOINT_URL=${info.url}, or "endpointUrl" in the fleet)`,
    `  models in memory: curl ${info.url}/models · Prometheus: ${info.url}/metrics · Ctrl-C stops`,
  ];
  ctx.out.info(lines.join('\n'));
  if (ctx.out.json) {
    // One line, written last, once requests are accepted: a script reads the port from it and goes on.
    ctx.out.raw(successDocument(info, { oneLine: true }));
  }
}

function describeEvent(e: CacheEvent): string {
  switch (e.type) {
    case 'loaded': {
      const steps = e.downloadMs !== undefined ? `download+extract ${ms(e.downloadMs)}, load ${ms(e.loadMs)}` : `load from disk ${ms(e.loadMs)}`;
      return `loaded ${e.name} (${formatBytes(e.footprint)} in memory, ${formatBytes(e.diskBytes)} on disk; ${steps})`;
    }
    case 'unloaded':
      return `unloaded ${e.name} (${e.reason === 'memory' ? 'least recently used; memory budget' : e.reason === 'disk' ? 'deleted from disk; disk budget' : e.reason === 'container' ? 'its container exited' : 'DELETE /models'})`;
    case 'deleted':
      return `deleted ${e.name} from the disk cache (${formatBytes(e.diskBytes)})`;
    case 'failed':
      return `failed to load ${e.name}: ${e.message}`;
    case 'unwritten':
      return `could not write ${e.name} to the disk cache (it stays in memory): ${e.message}`;
  }
}

const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;

function listen(server: import('node:http').Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function defaultCacheDir(endpointName: string): string {
  return path.join(userCacheDir(), 'local', endpointName);
}

/**
 * A cache folder is emptied at start, so it must be one of ours (marked) or empty: `--cache-dir ~` must never lose
 * anything. And one server per folder: a second one would delete the first one's models.
 */
async function claimCacheDir(dir: string): Promise<void> {
  try {
    makeDirs(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(
      `--cache-dir ${dir} cannot be used as a folder (${code === 'EEXIST' || code === 'ENOTDIR' ? 'it, or a parent, is a file or device' : code}).`,
      'Give a new or empty folder, or leave --cache-dir out.',
    );
  }
  const entries = await fsp.readdir(dir);
  if (entries.length && !entries.includes(MARKER)) {
    throw usageError(
      `--cache-dir ${dir} is not empty and is not an mme local cache (it would be emptied).`,
      'Give a new or empty folder, or leave --cache-dir out.',
    );
  }
  await fsp.writeFile(path.join(dir, MARKER), 'mme local model cache: its models/ and downloads/ folders are emptied at every start.\n');
  const locator = path.join(dir, LOCATOR);
  let other: Partial<LocalEndpointInfo> | undefined;
  try {
    other = JSON.parse(fs.readFileSync(locator, 'utf8')) as Partial<LocalEndpointInfo>;
  } catch {
    return;
  }
  if (typeof other.pid === 'number' && other.pid !== process.pid && alive(other.pid)) {
    throw usageError(
      `the cache folder ${dir} is in use by another mme local (pid ${other.pid}, ${other.url ?? 'unknown URL'}).`,
      'Stop it, or give this one its own --cache-dir (or --endpoint-name).',
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pointsAtUs(url: string, host: string, port: number): boolean {
  if (!isLoopback(url) && !url.includes(`//${host}:`)) return false;
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80)) === port;
}

/**
 * The fleet's endpointUrl, when it is an `mme local` endpoint: http on this machine, with the models somewhere that
 * URL does not serve (a file:// prefix, or S3 sent elsewhere by AWS_ENDPOINT_URL_S3). A loopback URL that also
 * serves the fleet's S3 prefix is an emulator such as moto, whose port `mme local` must not take.
 */
function localEndpointOf(config: ResolvedConfig): { port: number } | undefined {
  const url = config.settings.endpointUrl.value;
  if (!url || !isLoopback(url)) return undefined;
  const u = new URL(url);
  if (u.protocol !== 'http:') return undefined;
  const modelsElsewhere = config.settings.prefix.value?.startsWith('file://') || Boolean(process.env.AWS_ENDPOINT_URL_S3);
  return modelsElsewhere ? { port: u.port ? Number(u.port) : 80 } : undefined;
}

/** --container-url, --container-cmd or --handler (one of them), checked; undefined for the built-in runtime. */
function containerOptions(opts: LocalOptions): ContainerFlags | undefined {
  // Checked whether or not a container is given: a wrong value is refused, never silently ignored.
  const containerStartLimitMs = duration(opts.containerStartLimit, '--container-start-limit', { maxMs: 3_600_000 });
  const invokeLimitMs = duration(opts.invokeLimit, '--invoke-limit', { maxMs: 3_600_000 });
  const given = (['containerUrl', 'containerCmd', 'handler'] as const).filter((k) => opts[k] !== undefined);
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (given.length > 1) throw usageError(`${given.map(flag).join(' and ')} cannot be combined.`, 'Give one way to reach the serving container.');
  if (opts.python !== undefined && opts.handler === undefined)
    throw usageError('--python goes with --handler.', 'e.g. mme local --handler inference.py --python .venv/bin/python.');
  if (opts.containerModelDir !== undefined && given.length === 0)
    throw usageError(
      '--container-model-dir goes with --container-url or --container-cmd.',
      'It names the model folder as the container sees it, e.g. /opt/ml/models.',
    );
  if (given.length === 0) return undefined;
  if (opts.containerUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(opts.containerUrl);
    } catch {
      u = undefined;
    }
    if (u?.protocol !== 'http:')
      throw usageError(`--container-url "${opts.containerUrl}" is not an http:// URL.`, 'e.g. --container-url http://127.0.0.1:8081');
  }
  if (opts.containerCmd !== undefined && opts.containerCmd.trim() === '')
    throw usageError('--container-cmd is empty.', 'e.g. --container-cmd "python3 serve.py --port {port}"');
  if (opts.handler !== undefined) {
    if (!fs.existsSync(opts.handler) || !fs.statSync(opts.handler).isFile())
      throw usageError(`--handler ${opts.handler}: no such file.`, 'Give the path of your inference.py (model_fn, input_fn, predict_fn, output_fn).');
  }
  return {
    containerUrl: opts.containerUrl,
    containerCmd: opts.containerCmd,
    handler: opts.handler,
    python: opts.python,
    containerModelDir: opts.containerModelDir,
    containerStartLimitMs,
    invokeLimitMs,
  };
}

function mediaType(text: string): string {
  const t = text.trim();
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(t) || t === '*/*')
    throw usageError(`--default-accept "${text}" is not a media type.`, 'Use e.g. --default-accept application/json or --default-accept text/csv.');
  return t;
}
