import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SharedBudget } from '../budget.js';
import { ContainerBackend } from './backend.js';
import { ContainerClient } from './client.js';
import { ContainerProcess, shellQuote } from './process.js';

/**
 * How `mme local` reaches a serving container: one running at --container-url, one it starts with --container-cmd,
 * or the Python handler runner (--handler, the mme_handler_server.py shipped in dist/), which is a --container-cmd
 * written for you.
 */

export interface ContainerFlags {
  containerUrl?: string;
  containerCmd?: string;
  handler?: string;
  python?: string;
  containerModelDir?: string;
  containerStartLimitMs: number;
  /** How long an INVOKE may take (SageMaker: 60 s). */
  invokeLimitMs: number;
}

export interface ContainerSetup {
  backend: ContainerBackend;
  client: ContainerClient;
  process?: ContainerProcess;
  /** Where the container's output goes (when mme local started it). */
  logFile?: string;
  /** One line for the start-up announcement. */
  describe: string;
  close(): Promise<void>;
}

export interface ContainerContext {
  cacheDir: string;
  modelDir: string;
  memoryBudget: number;
  /** The disk budget the cache draws on: extracted folders are reserved on it as the built-in runtime's are. */
  disk?: SharedBudget;
  defaultAccept: string;
  region: string;
  evictLeastRecent(): boolean;
  log(message: string): void;
}

/** The Python server shipped with mme: dist/mme_handler_server.py beside the bundle, or the source file under tsx. */
export function handlerServerPath(): string {
  const here = import.meta.url;
  const candidates = here.endsWith('.ts') ? ['../handler/mme_handler_server.py'] : ['./mme_handler_server.py', '../mme_handler_server.py'];
  for (const rel of candidates) {
    const file = fileURLToPath(new URL(rel, here));
    if (fs.existsSync(file)) return file;
  }
  throw new Error('mme_handler_server.py not found next to the bundle; rebuild with `npm run build`.');
}

/** The command that runs a handler with the shipped server. */
export function handlerCommand(handler: string, python: string): string {
  return `${shellQuote(python)} -u ${shellQuote(handlerServerPath())} --host {host} --port {port} --handler ${shellQuote(path.resolve(handler))}`;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment a SageMaker MME container is started with. */
export function sagemakerEnv(port: number, ctx: Pick<ContainerContext, 'defaultAccept' | 'region'>): Record<string, string> {
  return {
    SAGEMAKER_BIND_TO_PORT: String(port),
    SAGEMAKER_SAFE_PORT_RANGE: `${port}-${port}`,
    SAGEMAKER_MULTI_MODEL: 'true',
    SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: ctx.defaultAccept,
    SAGEMAKER_REGION: ctx.region,
    SAGEMAKER_CONTAINER_LOG_LEVEL: '20',
    PYTHONUNBUFFERED: '1',
  };
}

/** Reaches or starts the container; throws ContainerStartError when it does not answer /ping. */
export async function setUpContainer(flags: ContainerFlags, ctx: ContainerContext): Promise<ContainerSetup> {
  const containerModelDir = flags.containerModelDir ?? ctx.modelDir;
  const backendOf = (client: ContainerClient, process?: ContainerProcess) =>
    new ContainerBackend({
      client,
      process,
      modelDir: ctx.modelDir,
      containerModelDir,
      memoryBudget: ctx.memoryBudget,
      invokeLimitMs: flags.invokeLimitMs,
      disk: ctx.disk,
      evictLeastRecent: ctx.evictLeastRecent,
      log: ctx.log,
    });
  if (flags.containerUrl) {
    const client = new ContainerClient(flags.containerUrl);
    const backend = backendOf(client);
    return {
      backend,
      client,
      describe: `models served by the container at ${flags.containerUrl} (memory: its 507 answers)`,
      close: async () => client.close(),
    };
  }
  const command = flags.containerCmd ?? handlerCommand(flags.handler!, flags.python ?? 'python3');
  const host = '127.0.0.1';
  const port = await freePort(host);
  const logFile = path.join(ctx.cacheDir, 'container.log');
  const proc = new ContainerProcess({
    command,
    port,
    host,
    modelDir: ctx.modelDir,
    containerModelDir,
    logFile,
    env: sagemakerEnv(port, ctx),
    startLimitMs: flags.containerStartLimitMs,
  });
  await proc.start().catch(async (err) => {
    await proc.stop(1000);
    throw err;
  });
  const backend = backendOf(proc.client, proc);
  const what = flags.handler ? `handler ${flags.handler} (mme's Python server, pid ${proc.pid})` : `container \`${proc.commandLine()}\` (pid ${proc.pid})`;
  return {
    backend,
    client: proc.client,
    process: proc,
    logFile,
    describe: `models served by ${what} on port ${port}; its output: ${logFile}`,
    close: () => proc.stop(),
  };
}
