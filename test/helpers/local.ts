// `mme local` as a child process for the reliability and fuzz tests: started with --json, its one line read for the
// URL; stderr kept; its own peak memory (VmHWM) read from /proc while it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { baseEnv, MME } from './cli.js';

export interface LocalProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Peak resident memory of the process so far, in bytes (Linux /proc). */
  peakRss(): number;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startLocal(args: string[], cwd: string, env: Record<string, string> = {}): Promise<LocalProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MME, 'local', '--port', '0', '--json', ...args], { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.stderr!.on('data', (c) => (err += c));
    const onExit = ({ code }: { code: number | null }) => reject(new Error(`mme local exited with ${code}: ${err}`));
    void exited.then(onExit);
    child.stdout!.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const doc = JSON.parse(out.slice(0, nl));
      resolve({
        url: doc.result.url,
        child,
        stderr: () => err,
        exited,
        peakRss: () => vmHwm(child.pid!),
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

export function vmHwm(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb * 1024;
}

/** InvokeEndpoint as plain HTTP (no SDK retries): status, error type and body text. */
export async function invokeRaw(
  url: string,
  target: string,
  body: string,
  endpoint = 'local-mme',
): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${url}/endpoints/${endpoint}/invocations`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/csv', 'X-Amzn-SageMaker-Target-Model': target },
    body,
  });
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), text: await res.text() };
}

export async function modelStates(url: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/models`);
  const doc = (await res.json()) as { models: { modelName: string; state: string }[] };
  return Object.fromEntries(doc.models.map((m) => [m.modelName, m.state]));
}
