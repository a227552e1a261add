// One output contract for every failure, commander's own included: one `mme:` line on stderr with the fix, a
// documented exit code, and under --json exactly one JSON document on stdout. Colour only for a person at a terminal.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { baseEnv, MME, mme, tempDir } from './helpers/cli.js';

function assertOneUsageLine(r: { code: number | null; stdout: string; stderr: string; json?: any }, json: boolean, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.match(lines[0], /^mme: /);
  assert.match(lines[0], pattern);
  assert.match(lines[0], /--help/);
  if (json) {
    assert.equal(r.json?.status, 'error', `stdout is one JSON document: ${r.stdout}`);
    assert.equal(r.json.error.code, 'usage');
    assert.equal(r.json.error.exitCode, 2);
  } else {
    assert.equal(r.stdout, '');
  }
}

describe('argument errors', () => {
  const cases: [string[], RegExp][] = [
    [['pus'], /unknown command 'pus'.*Did you mean push\?/],
    [['ls', '--sort', 'bogus'], /argument 'bogus' is invalid.*name, size, modified/],
    [['push'], /missing required argument 'artifact'.*mme push --help/],
    [['invoke', '--bogus'], /unknown option '--bogus'/],
    [['invoke', '--target'], /argument missing/],
    [['stats', '--output', 'xml'], /argument 'xml' is invalid/],
  ];
  for (const [args, pattern] of cases) {
    it(`mme ${args.join(' ')}: one line, exit 2, and one JSON document under --json`, async () => {
      assertOneUsageLine(await mme(args), false, pattern);
      assertOneUsageLine(await mme([...args, '--json']), true, pattern);
    });
  }

  it('help and version still succeed', async () => {
    assert.equal((await mme(['--version'])).code, 0);
    const help = await mme(['push', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:/);
  });
});

// A pseudo-terminal, so that only the environment decides about colour. `script` comes with util-linux.
const haveScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

describe('colour', { skip: haveScript ? false : 'util-linux script is not installed' }, () => {
  const onTerminal = (env: Record<string, string | undefined>) => {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${MME} ls --prefix bogus://x`, '/dev/null'], {
      env: baseEnv({ TERM: 'xterm', ...env }),
      encoding: 'utf8',
    });
    return r.stdout;
  };
  it('a terminal gets a coloured mme: label', () => {
    assert.match(onTerminal({}), /\u001b\[31mmme:/);
  });
  for (const env of [{ CI: 'true' }, { NO_COLOR: '1' }, { TERM: 'dumb' }]) {
    it(`no colour under ${Object.entries(env)[0].join('=')}`, () => {
      const text = onTerminal(env);
      assert.match(text, /mme: /);
      assert.doesNotMatch(text, /\u001b\[/);
    });
  }
});

describe('confirmation on a terminal', { skip: haveScript ? false : 'util-linux script is not installed' }, () => {
  // The answer is typed into the pseudo-terminal: the terminal holds it until mme asks.
  const rmOnTerminal = (dir: string, answer: string) =>
    spawnSync('script', ['-qec', `${process.execPath} ${MME} rm m1.tar.gz --prefix file://${dir}/`, '/dev/null'], {
      env: baseEnv({ TERM: 'dumb' }),
      input: answer,
      encoding: 'utf8',
      timeout: 120_000, // a hang guard only
    });
  it('rm asks, and deletes only on "y"', () => {
    const dir = tempDir('mme-confirm-');
    try {
      fs.writeFileSync(path.join(dir, 'm1.tar.gz'), 'x');
      const no = rmOnTerminal(dir, 'n\n');
      assert.match(no.stdout, /delete 1 model\(s\) from file:\/\/.* \(m1\.tar\.gz\)\? \[y\/N\]/);
      assert.match(no.stdout, /nothing deleted/);
      assert.equal(fs.existsSync(path.join(dir, 'm1.tar.gz')), true);
      const yes = rmOnTerminal(dir, 'y\n');
      assert.equal(fs.existsSync(path.join(dir, 'm1.tar.gz')), false, yes.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mme local and the fleet', () => {
  /** Starts `mme local --json` and resolves with its announcement once it listens. */
  function announced(args: string[], cwd: string): Promise<{ info: any; stop(): Promise<number | null> }> {
    const child = spawn(process.execPath, [MME, 'local', '--json', ...args], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      child.stdout.on('data', (c) => {
        out += c;
        if (!out.includes('\n')) return;
        resolve({ info: JSON.parse(out).result, stop: () => (child.kill('SIGTERM'), exited) });
      });
      exited.then((code) => reject(new Error(`mme local exited ${code}: ${err}`)));
    });
  }

  it("an emulator's URL (it serves the fleet's S3 prefix) lends neither its port nor the fleet's endpoint name", async () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'mme.config.json'),
      JSON.stringify({
        defaultFleet: 'moto',
        fleets: { moto: { prefix: 's3://fleet-bucket/models/', endpointName: 'fraud-mme', endpointUrl: 'http://127.0.0.1:5999' } },
      }),
    );
    const local = await announced(['--port', '0', '--cache-dir', path.join(dir, 'cache')], dir);
    try {
      assert.equal(local.info.endpointName, 'local-mme');
      assert.notEqual(local.info.port, 5999);
    } finally {
      assert.equal(await local.stop(), 0);
    }
  });
});
