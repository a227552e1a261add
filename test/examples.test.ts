// Every example a user is shown runs as written: the README's ```sh blocks and `$ ` lines of its ```console blocks,
// and the "Examples:" of every command's --help (commands found from `mme --help`, so new ones are picked up).
// Each block, and each command's examples, runs in order, by bash, in a fresh copy of one scratch world: the committed
// example fleet (examples/merchants, 8-feature rows) packaged into a file:// fleet that a `mme local` serves, the
// files the examples name, and a mme.config.json with the fleets they name. A ```console block's output lines are
// compared too, unless they hold "…".
//
// Conventions (also in the README's development section):
// - A README block is skipped when the line before its fence is `<!-- examples: not run (why) -->` (real AWS, the
//   installation, or steps another test runs).
// - A `mme local` line starts a server that runs until the next `mme local` line or the end of the block; it gets a
//   free port (`--port P` when the line names none) and "127.0.0.1:8080"/"localhost:8080" in later lines mean P.
// - A line naming an s3:// prefix runs with AWS_ENDPOINT_URL set to a moto_server where the buckets it names exist.
// - Exit code 0 is a pass; 4 too for a line with --fail-if (the threshold check did its job).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseEnv, MME, mme, ROOT, tempDir } from './helpers/cli.js';
import { freePort, motoAvailable, startMoto, type Moto } from './helpers/moto.js';

interface Example {
  line: string;
  /** Output shown under the command in a ```console block, when it is meant literally. */
  expected?: string;
}
interface Group {
  name: string;
  examples: Example[];
}

// ---- extraction -----------------------------------------------------------------------------------------------

/** The marker that skips a README block; it must say why. */
const SKIP = /^<!--\s*examples:\s*not run\s*\(.+\)\s*-->$/;

/** The README's runnable blocks, in order. */
export function readmeGroups(text: string): { groups: Group[]; skipped: string[] } {
  const lines = text.split('\n');
  const groups: Group[] = [];
  const skipped: string[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)$/.exec(lines[i]);
    if (h) heading = h[1];
    const fence = /^```(\w*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `README.md:${i + 1}: unclosed code block`);
    const body = lines.slice(i + 1, end);
    const lang = fence[1];
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const where = `README.md:${i + 1} (${heading})`;
    i = end;
    if (lang !== 'sh' && lang !== 'console') continue;
    if (before >= 0 && SKIP.test(lines[before].trim())) {
      skipped.push(where);
      continue;
    }
    const examples: Example[] = [];
    if (lang === 'sh') {
      for (const cmd of joinContinuations(body)) if (cmd.trim() && !cmd.trim().startsWith('#')) examples.push({ line: cmd.trim() });
    } else {
      let current: Example | undefined;
      let output: string[] = [];
      const flush = () => {
        if (current && output.length && !output.some((o) => o.includes('…'))) current.expected = output.join('\n');
        output = [];
      };
      for (const cmd of joinContinuations(body)) {
        if (cmd.startsWith('$ ')) {
          flush();
          current = { line: cmd.slice(2).trim() };
          examples.push(current);
        } else output.push(cmd);
      }
      flush();
    }
    if (examples.length) groups.push({ name: where, examples });
  }
  return { groups, skipped };
}

function joinContinuations(lines: string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const l of lines) {
    if (l.endsWith('\\')) pending += l.slice(0, -1) + ' ';
    else {
      out.push(pending + (pending ? l.trim() : l));
      pending = '';
    }
  }
  if (pending) out.push(pending);
  return out;
}

/** The commands `mme --help` lists, and the "Examples:" of each one's --help. */
async function helpGroups(): Promise<Group[]> {
  const top = await mme(['--help']);
  assert.equal(top.code, 0, top.stderr);
  const commands = top.stdout
    .slice(top.stdout.indexOf('Commands:'))
    .split('\n')
    .slice(1)
    .map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1])
    .filter((c): c is string => !!c && c !== 'help');
  assert.ok(commands.length >= 5, `commands found in mme --help: ${commands.join(', ')}`);
  return Promise.all(
    commands.map(async (c) => {
      const r = await mme([c, '--help']);
      assert.equal(r.code, 0, r.stderr);
      const at = r.stdout.indexOf('Examples:');
      const examples =
        at < 0
          ? []
          : r.stdout
              .slice(at)
              .split('\n')
              .map((l) => /^\s+\$ (.*)$/.exec(l)?.[1])
              .filter((l): l is string => !!l)
              .map((line) => ({ line }));
      return { name: `mme ${c} --help`, examples };
    }),
  );
}

// ---- the scratch world ----------------------------------------------------------------------------------------

const MERCHANTS = path.join(ROOT, 'examples', 'merchants');
const template = tempDir('mme-examples-template-');
const world = tempDir('mme-examples-world-');
const scratch = tempDir('mme-examples-');
let fleetServer: Server | undefined;
let moto: Moto | undefined;
const haveMoto = motoAvailable();

async function ok(args: string[], cwd: string) {
  const r = await mme(args, { cwd });
  assert.equal(r.code, 0, `mme ${args.join(' ')}: ${r.stderr}`);
}

/** The files and fleets the examples name, made once. */
async function buildTemplate(tailUrl: string): Promise<void> {
  const t = template;
  fs.cpSync(path.join(ROOT, 'examples'), path.join(t, 'examples'), { recursive: true });
  // Model folders: m37 (in the fleet) and m71, a new merchant's model to package and push; a model file; artifacts
  // of both, and of two more new merchants in artifacts/.
  for (const [name, from] of [
    ['m37', 'm37'],
    ['m71', 'm05'],
  ])
    fs.cpSync(path.join(MERCHANTS, from), path.join(t, 'models', name), { recursive: true });
  fs.copyFileSync(path.join(MERCHANTS, 'm37', 'xgboost-model'), path.join(t, 'xgboost-model'));
  fs.mkdirSync(path.join(t, 'artifacts'));
  await Promise.all([
    ok(['package', 'models/m37', '-o', 'm37.tar.gz'], t),
    ok(['package', 'models/m71', '-o', 'm71.tar.gz'], t),
    ok(['package', path.join(MERCHANTS, 'm38'), '-o', 'artifacts/m72.tar.gz'], t),
    ok(['package', path.join(MERCHANTS, 'm39'), '-o', 'artifacts/m73.tar.gz'], t),
  ]);
  // The fleet: the 70 merchants, and a second version of m37 under v2/.
  const names = fs
    .readdirSync(MERCHANTS)
    .filter((d) => /^m\d+$/.test(d))
    .map((d) => path.join(MERCHANTS, d));
  await ok(['package', ...names, '--out-dir', 'fleet'], t);
  fs.mkdirSync(path.join(t, 'fleet', 'v2'));
  fs.copyFileSync(path.join(t, 'm37.tar.gz'), path.join(t, 'fleet', 'v2', 'm37.tar.gz'));
  // Releases: the alias m37, live at the committed m37 (version 9303a078058a, the examples' hash prefix 9303a0), and
  // an earlier version before it to roll back to.
  const release = (source: string, note: string) => ok(['release', 'm37', source, '--prefix', 'file://./fleet/', '--note', note], t);
  await release('models/m71', 'last week');
  await release(path.join(MERCHANTS, 'm37'), 'nightly retrain');
  // Request files: the committed rows as CSV and as libsvm, and a weighted targets file.
  fs.copyFileSync(path.join(MERCHANTS, 'rows.csv'), path.join(t, 'rows.csv'));
  const libsvm = fs
    .readFileSync(path.join(MERCHANTS, 'rows.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((row) =>
      row
        .split(',')
        .map((v, i) => (v === '' ? '' : `${i}:${v}`))
        .filter(Boolean)
        .join(' '),
    );
  fs.writeFileSync(path.join(t, 'rows.libsvm'), libsvm.join('\n') + '\n');
  fs.writeFileSync(path.join(t, 'hot-models.txt'), '# name weight\nm37.tar.gz 3\nm12.tar.gz 1\nm05.tar.gz 1\n');
  // The fleets the examples name, all served by the test's `mme local` (head under another endpoint name, so with no
  // data); tail is the default.
  fs.writeFileSync(
    path.join(t, 'mme.config.json'),
    JSON.stringify(
      {
        defaultFleet: 'tail',
        fleets: {
          tail: { prefix: 'file://./fleet/', endpointName: 'local-mme', endpointUrl: tailUrl },
          head: { prefix: 'file://./fleet/', endpointName: 'fraud-head-mme', endpointUrl: tailUrl },
          dev: { prefix: 'file://./fleet/', endpointName: 'local-mme', endpointUrl: tailUrl },
        },
      },
      null,
      2,
    ),
  );
  // `mme` on PATH, as after `npm link`.
  fs.mkdirSync(path.join(t, '.bin'));
  fs.writeFileSync(path.join(t, '.bin', 'mme'), `#!/bin/sh\nexec "${process.execPath}" "${MME}" "$@"\n`, { mode: 0o755 });
}

/** The world as the template has it, whatever the previous group did to it. */
function resetWorld(): void {
  for (const entry of fs.readdirSync(world)) fs.rmSync(path.join(world, entry), { recursive: true, force: true });
  fs.cpSync(template, world, { recursive: true });
}

function envFor(line: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    PATH: `${path.join(world, '.bin')}:${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(scratch, 'xdg'),
  };
  if (/s3:\/\//.test(line)) env.AWS_ENDPOINT_URL = moto!.url;
  return env;
}

async function createBuckets(line: string): Promise<void> {
  for (const [, bucket] of line.matchAll(/s3:\/\/([a-z0-9.-]+)/g)) await fetch(`${moto!.url}/${bucket}`, { method: 'PUT' });
}

interface Server {
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts a server line and resolves once it listens (its --json line, or its "listening on" message). */
function startServer(line: string, env: Record<string, string | undefined>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `exec ${line}`], { cwd: world, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const server: Server = {
      child,
      stderr: () => err,
      stop: async () => {
        if (child.exitCode === null) child.kill('SIGINT');
        return exited;
      },
    };
    const check = () => {
      if (out.includes('\n') || /listening on/.test(err)) resolve(server);
    };
    child.stdout!.on('data', (c) => ((out += c), check()));
    child.stderr!.on('data', (c) => ((err += c), check()));
    void exited.then((code) => reject(new Error(`\`${line}\` exited with ${code} before it listened:\n${err}`)));
  });
}

function run(line: string, env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -o pipefail\n${line}`], { cwd: world, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const isServer = (line: string) => /^mme local\b/.test(line);
const needsMoto = (line: string) => /s3:\/\//.test(line);

async function runGroup(group: Group, t: { diagnostic(msg: string): void }): Promise<void> {
  resetWorld();
  let server: Server | undefined;
  const port = await freePort();
  const stopServer = async () => {
    if (!server) return;
    const s = server;
    server = undefined;
    assert.equal(await s.stop(), 0, `the server of ${group.name} did not stop cleanly:\n${s.stderr()}`);
  };
  try {
    for (const { line, expected } of group.examples) {
      const missing = ['aws', 'jq', 'curl'].find((tool) => new RegExp(`(^|[|;&]\\s*)${tool}\\b`).test(line) && !onPath(tool));
      if (missing) {
        t.diagnostic(`not run (${missing} not installed): ${line}`);
        continue;
      }
      if (needsMoto(line) && !moto) {
        t.diagnostic(`not run (moto_server not installed): ${line}`);
        continue;
      }
      const env = envFor(line);
      if (needsMoto(line)) await createBuckets(line);
      if (isServer(line)) {
        await stopServer();
        server = await startServer(/\s--port\b/.test(line) ? line : line.replace(/^mme local\b/, `mme local --port ${port}`), env);
        continue;
      }
      const cmd = line.replace(/\b(127\.0\.0\.1|localhost):8080\b/g, `127.0.0.1:${port}`);
      const r = await run(cmd, env);
      const fine = r.code === 0 || (r.code === 4 && /--fail-if\b/.test(line));
      assert.ok(fine, `${group.name}: \`${line}\` exited with ${r.code}\n--- stderr\n${r.stderr}--- stdout\n${r.stdout.slice(0, 2000)}`);
      if (expected !== undefined) assert.equal(r.stdout.trimEnd(), expected, `${group.name}: \`${line}\` printed something else than the README shows`);
    }
  } finally {
    await stopServer();
  }
}

// ---- the tests ----------------------------------------------------------------------------------------------------

describe('every example runs as written', () => {
  before(async () => {
    if (haveMoto) moto = await startMoto();
    // The endpoint of the fleets tail and head: one `mme local` serving the world's fleet folder.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await buildTemplate(url);
    resetWorld();
    fleetServer = await startServer(
      `"${process.execPath}" "${MME}" local --port ${port} --prefix file://${world}/fleet/ --endpoint-name local-mme --cache-dir ${path.join(scratch, 'cache')}`,
      envFor(''),
    );
  });
  after(async () => {
    await fleetServer?.stop();
    await moto?.stop();
    for (const dir of [template, world, scratch]) fs.rmSync(dir, { recursive: true, force: true });
  });

  const { groups, skipped } = readmeGroups(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

  test('the README has examples to run; the blocks not run are marked with a reason', (t) => {
    assert.ok(groups.length >= 5, `${groups.length} runnable blocks`);
    t.diagnostic(`not run: ${skipped.join('; ')}`);
  });

  for (const group of groups) {
    test(group.name, async (t) => runGroup(group, t));
  }

  test('the examples of every command in mme --help', async (t) => {
    for (const group of await helpGroups()) {
      await t.test(group.name, async (tt) => {
        assert.ok(group.examples.length > 0, `${group.name} shows no examples`);
        await runGroup(group, tt);
      });
    }
  });
});
