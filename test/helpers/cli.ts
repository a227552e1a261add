import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MME = path.join(ROOT, 'bin', 'mme.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as the --json envelope, when it is one */
  json?: any;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string | Buffer;
  timeoutMs?: number;
}

/**
 * A clean environment: fake credentials, a fixed region, a HOME without ~/.aws, and none of the caller's
 * MME_* or AWS_* settings leaking into the test.
 */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|MME_|CI$|NO_COLOR$)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: emptyHome(),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

let home: string | undefined;
function emptyHome(): string {
  return (home ??= fs.mkdtempSync(path.join(os.tmpdir(), 'mme-home-')));
}

/** Runs the built `mme` as a user would: a child process, argv, environment, stdin. */
export function mme(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MME, ...args], {
      cwd: options.cwd ?? ROOT,
      env: baseEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    // A hang guard only (a busy machine may take minutes): tests never rely on it firing.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr: Buffer.concat(err).toString(), json });
    });
    child.stdin.end(options.input ?? '');
  });
}

export function tempDir(prefix = 'mme-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
