import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerClient } from './client.js';

/**
 * A serving container started by `mme local` (--container-cmd, or the --handler runner): the command run through the
 * shell with its placeholders filled in and the SageMaker environment set, its output appended to a log file, ready
 * once GET /ping answers 200, restarted when it dies (its models are then gone: the endpoint reloads them on demand),
 * and stopped (SIGTERM, then SIGKILL) on shutdown.
 */

/** Placeholders of --container-cmd, filled in before the command runs (documented in the README). */
export const PLACEHOLDERS = ['{port}', '{host}', '{model_dir}', '{container_model_dir}', '{log}'] as const;

export interface ContainerProcessOptions {
  /** The command with placeholders; run with `sh -c`. */
  command: string;
  port: number;
  host: string;
  /** Where the extracted artifacts are (the cache's models folder), as seen from here. */
  modelDir: string;
  /** The same folder as the container sees it (differs under `docker run -v`). */
  containerModelDir: string;
  logFile: string;
  /** Extra environment (the SageMaker variables); the rest is inherited. */
  env: Record<string, string>;
  /** How long the container may take to answer /ping after starting. */
  startLimitMs: number;
}

export class ContainerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

export class ContainerProcess extends EventEmitter {
  readonly client: ContainerClient;
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Bumped at every (re)start: a model loaded in an earlier generation is gone. */
  generation = 0;
  /** Resolves when the current generation answers /ping; replaced at every restart. */
  ready: Promise<void> = Promise.resolve();
  restarts = 0;

  constructor(private readonly options: ContainerProcessOptions) {
    super();
    this.client = new ContainerClient(`http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The command as run: placeholders filled in. */
  commandLine(): string {
    const o = this.options;
    const values: Record<(typeof PLACEHOLDERS)[number], string> = {
      '{port}': String(o.port),
      '{host}': o.host,
      '{model_dir}': shellQuote(o.modelDir),
      '{container_model_dir}': shellQuote(o.containerModelDir),
      '{log}': shellQuote(o.logFile),
    };
    return o.command.replace(/\{(port|host|model_dir|container_model_dir|log)\}/g, (m) => values[m as keyof typeof values]);
  }

  /** Starts the container and waits for /ping. Throws ContainerStartError (with the log's last lines) on failure. */
  async start(): Promise<void> {
    this.ready = this.launch();
    await this.ready;
  }

  private async launch(): Promise<void> {
    this.generation++;
    const generation = this.generation;
    const log = fs.openSync(this.options.logFile, 'a');
    fs.writeSync(log, `\n--- mme local: ${new Date().toISOString()} starting (generation ${generation}): ${this.commandLine()}\n`);
    const child = spawn('sh', ['-c', this.commandLine()], {
      env: { ...process.env, ...this.options.env, MME_LOCAL_PID: String(process.pid) },
      stdio: ['ignore', log, log],
      detached: true, // its own process group: stop() ends the whole tree
    });
    fs.closeSync(log);
    this.child = child;
    // Should mme local exit without stopping it (an uncaught error), the container goes with it.
    const orphanGuard = () => killGroup(child.pid!, 'SIGKILL');
    process.once('exit', orphanGuard);
    child.once('exit', () => process.off('exit', orphanGuard));
    let exitInfo: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = err.message;
        resolve();
      });
    });
    void exited.then(() => this.onExit(child, generation, exitInfo!));
    const deadline = Date.now() + this.options.startLimitMs;
    // Polling is the contract: the container says it is ready only by answering /ping.
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      if (exitInfo !== undefined) throw new ContainerStartError(`the container exited (${exitInfo}) before answering GET /ping.${await this.logTail()}`);
      try {
        const answer = await this.client.ping(1000);
        if (answer.status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        throw new ContainerStartError(
          `the container did not answer GET /ping with 200 within ${Math.round(this.options.startLimitMs / 1000)} s.${await this.logTail()}`,
        );
      }
      await Promise.race([sleep(delay), exited]);
    }
  }

  private onExit(child: ChildProcess, generation: number, how: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.stopping) return;
    this.restarts++;
    // launch() moves to the next generation at once, so that the listeners of 'died' see the old models as gone.
    this.ready = this.launch();
    this.emit('died', { generation, how });
    this.ready.then(
      () => this.emit('restarted', { generation: this.generation }),
      (err: Error) => this.emit('failed', err),
    );
  }

  /** The last lines of the log, to quote in an error. */
  async logTail(lines = 8): Promise<string> {
    const text = await fsp.readFile(this.options.logFile, 'utf8').catch(() => '');
    const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
    return tail ? `\n  last lines of ${this.options.logFile}:\n  ${tail.split('\n').join('\n  ')}` : '';
  }

  /** Resident memory of the container's process tree, from /proc (undefined where /proc is not available). */
  treeRss(): number | undefined {
    const pid = this.child?.pid;
    return pid === undefined ? undefined : processTreeRss(pid);
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.client.close();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
    // Anything the command left behind in its group.
    killGroup(child.pid!, 'SIGKILL');
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const PAGE = 4096;

/** Sum of VmRSS over a process and all its descendants (Linux /proc). */
export function processTreeRss(root: number): number | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid … ; comm may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    const ppid = Number(fields[1]);
    rss.set(pid, Number(fields[21]) * PAGE);
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  if (!rss.has(root)) return undefined;
  let total = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    total += rss.get(pid) ?? 0;
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return total;
}
