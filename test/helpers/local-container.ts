// `mme local --port 0 --json` started as a user would, for the container tests, and called through boto3 (an independent client).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { baseEnv, MME } from './cli.js';

export interface Local {
  url: string;
  info: any;
  child: ChildProcess;
  stderr(): string;
  /** Resolves when stderr has matched `pattern` (event driven: each chunk is checked as it arrives). */
  waitForStderr(pattern: RegExp): Promise<RegExpExecArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const running = new Set<Local>();

/** Starts `mme local --port 0 --json …` and waits for its one line on stdout. */
export function startLocal(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<Local> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MME, 'local', '--port', '0', '--json', ...args], { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const waiters: { pattern: RegExp; resolve(m: RegExpExecArray): void }[] = [];
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mme local did not start: ${err}`));
    }, 60_000);
    child.stderr!.on('data', (c) => {
      err += c;
      for (const w of [...waiters]) {
        const m = w.pattern.exec(err);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    child.stdout!.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl < 0 || out.length - c.length > nl) return;
      clearTimeout(timer);
      const doc = JSON.parse(out.slice(0, nl));
      const local: Local = {
        url: doc.result.url,
        info: doc.result,
        child,
        stderr: () => err,
        waitForStderr: (pattern) =>
          new Promise((res) => {
            const m = pattern.exec(err);
            if (m) res(m);
            else waiters.push({ pattern, resolve: res });
          }),
        exited,
        stop: async (signal = 'SIGTERM') => {
          running.delete(local);
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      running.add(local);
      resolve(local);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mme local exited with ${code}: ${err}`));
    });
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop('SIGKILL')));
}

export const hasBoto3 = spawnSync('python3', ['-c', 'import boto3']).status === 0;

/**
 * One InvokeEndpoint call made by boto3, as an application would. Returns what boto3 saw: the body, content type and
 * custom attributes, or the error code, HTTP status and the ModelError's OriginalStatusCode / OriginalMessage.
 */
export function boto3Invoke(
  url: string,
  endpoint: string,
  args: { target: string; body: string; contentType?: string; accept?: string; customAttributes?: string },
): any {
  const script = `
import boto3, json, sys
from botocore.config import Config
a = json.loads(sys.argv[1])
c = boto3.client('sagemaker-runtime', endpoint_url=a['url'], region_name='us-east-1', aws_access_key_id='testing',
                 aws_secret_access_key='testing', config=Config(retries={'max_attempts': 0}))
kw = dict(EndpointName=a['endpoint'], TargetModel=a['target'], Body=a['body'].encode())
for k, n in (('contentType', 'ContentType'), ('accept', 'Accept'), ('customAttributes', 'CustomAttributes')):
    if a.get(k) is not None: kw[n] = a[k]
try:
    r = c.invoke_endpoint(**kw)
    print(json.dumps({'ok': True, 'body': r['Body'].read().decode(), 'contentType': r.get('ContentType'), 'customAttributes': r.get('CustomAttributes')}))
except c.exceptions.ClientError as e:
    r = e.response
    print(json.dumps({'ok': False, 'code': r['Error'].get('Code'), 'status': r['ResponseMetadata']['HTTPStatusCode'],
                      'originalStatusCode': r.get('OriginalStatusCode'), 'originalMessage': r.get('OriginalMessage'), 'message': r['Error'].get('Message')}))
`;
  const r = spawnSync('python3', ['-c', script, JSON.stringify({ url, endpoint, ...args })], { encoding: 'utf8', env: baseEnv() });
  if (r.status !== 0) throw new Error(`boto3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
