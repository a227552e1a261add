// `mme local` as a child process, started as a user would (`--port 0 --json`), its one stdout line read for the URL.
// stderr is kept and can be waited on (event driven, never a delay); its peak memory is read from /proc. Every test
// file starts its endpoints here; `stopAll` in an `after` kills what a failed test left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import fs from 'node:fs';
import { baseEnv, MME } from './cli.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LocalProcess {
  url: string;
  /** The JSON document's `result` (url, endpointName, cacheDir, …). */
  info: any;
  child: ChildProcess;
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects if the process exits first. */
  waitForStderr(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<Exit>;
  /** Peak resident memory of the process so far, in bytes (Linux /proc). */
  peakRss(): number;
  /** Sends the signal (unless it has exited) and resolves with how it exited. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<LocalProcess>();

/** @param launcher a command that runs the node process, e.g. `['prlimit', '--fsize=65536']` */
export function startLocal(args: string[], cwd: string, env: Record<string, string | undefined> = {}, launcher: string[] = []): Promise<LocalProcess> {
  return new Promise((resolve, reject) => {
    const command = [...launcher, process.execPath, MME, 'local', '--port', '0', '--json', ...args];
    const child = spawn(command[0], command.slice(1), { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const waiters = new Set<{ pattern: RegExp; resolve(m: RegExpExecArray): void; reject(e: Error): void }>();
    const exited = new Promise<Exit>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.stderr!.on('data', (c) => {
      err += c;
      for (const w of waiters) {
        const m = w.pattern.exec(err);
        if (m) {
          waiters.delete(w);
          w.resolve(m);
        }
      }
    });
    const hangGuard = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hang guard only
    void exited.then(({ code }) => {
      clearTimeout(hangGuard);
      for (const w of waiters) w.reject(new Error(`mme local exited (${code}) before saying ${w.pattern}: ${err}`));
      reject(new Error(`mme local exited with ${code}: ${err}`));
    });
    child.stdout!.on('data', (c) => {
      const first = !out.includes('\n');
      out += c;
      const nl = out.indexOf('\n');
      if (nl < 0 || !first) return;
      clearTimeout(hangGuard);
      const info = JSON.parse(out.slice(0, nl)).result;
      const local: LocalProcess = {
        url: info.url,
        info,
        child,
        stderr: () => err,
        waitForStderr: (pattern) =>
          new Promise((res, rej) => {
            const m = pattern.exec(err);
            if (m) return res(m);
            if (child.exitCode !== null || child.signalCode !== null) return rej(new Error(`mme local exited before saying ${pattern}: ${err}`));
            waiters.add({ pattern, resolve: res, reject: rej });
          }),
        exited,
        peakRss: () => vmHwm(child.pid!),
        stop: async (signal = 'SIGTERM') => {
          running.delete(local);
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      running.add(local);
      void exited.then(() => running.delete(local));
      resolve(local);
    });
  });
}

/** Kills every endpoint still running (for an `after` hook). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop('SIGKILL')));
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

/**
 * A metric's SampleCount and Sum since the endpoint started (its own `startedAt`), read back through the CloudWatch
 * API the endpoint speaks: however long the test has run, no sample falls outside the window.
 */
export async function metricTotals(local: LocalProcess, name: string): Promise<{ count: number; sum: number }> {
  const cw = new CloudWatchClient({
    endpoint: local.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  try {
    const started = Date.parse(local.info.startedAt);
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/SageMaker',
        MetricName: name,
        Dimensions: [
          { Name: 'EndpointName', Value: local.info.endpointName },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        // the endpoint's whole life, as far as it keeps metrics (3 hours): no reading of this process's clock
        StartTime: new Date(started - 60_000),
        EndTime: new Date(started + 3 * 3600_000),
        Period: 60,
        Statistics: ['SampleCount', 'Sum'],
      }),
    );
    return (out.Datapoints ?? []).reduce((a, d) => ({ count: a.count + (d.SampleCount ?? 0), sum: a.sum + (d.Sum ?? 0) }), { count: 0, sum: 0 });
  } finally {
    cw.destroy();
  }
}
