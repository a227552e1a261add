// Messages under hostile input (issue 10): one line, the right exit code, no secret echoed. The built binary only;
// where a server is needed it is a closed port (nothing listens on 127.0.0.1:9) or a folder fleet.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { mme, ROOT, tempDir } from './helpers/cli.js';

const CLOSED = 'http://127.0.0.1:9';
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  return lines[0];
};

describe('messages', () => {
  test('stats --since 99999999999w is refused as input (exit 2, one line)', async () => {
    const r = await mme(['stats', '--since', '99999999999w', '--endpoint-name', 'fraud-mme', '--endpoint-url', CLOSED]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /^mme: --since 99999999999w reaches back further than the 455 days/);
  });

  test('a file name that is not UTF-8 does not break a folder listing: it is skipped and said', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'fleet', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'fleet', 'good.tar.gz'), 'x');
    fs.writeFileSync(Buffer.concat([Buffer.from(path.join(dir, 'fleet', 'sub') + '/bad'), Buffer.from([0xff, 0xfe]), Buffer.from('.tar.gz')]), 'y');
    fs.mkdirSync(Buffer.concat([Buffer.from(path.join(dir, 'fleet') + '/dir'), Buffer.from([0xc3])]));
    const r = await mme(['ls', '--prefix', `file://${dir}/fleet/`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.result.models.map((m: { name: string }) => m.name),
      ['good.tar.gz'],
    );
    const warnings = r.stderr.trim().split('\n');
    assert.equal(warnings.length, 2, r.stderr);
    for (const w of warnings) assert.match(w, /^warning: skipped ".*": its name is not valid UTF-8/);
  });

  test('a set but failing profile (credential_process) is reported as such, not as "no credentials found"', async () => {
    const home = tempDir();
    fs.mkdirSync(path.join(home, '.aws'));
    fs.writeFileSync(path.join(home, '.aws', 'config'), '[profile broken]\ncredential_process = /bin/false\nregion = us-east-1\n');
    const env = { HOME: home, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined };
    for (const [how, args, extra] of [
      ['--profile', ['--profile', 'broken'], {}],
      ['AWS_PROFILE', [], { AWS_PROFILE: 'broken' }],
    ] as const) {
      const r = await mme(['ls', '--prefix', 's3://fleet/models/', '--endpoint-url', CLOSED, ...args], { env: { ...env, ...extra } });
      assert.equal(r.code, 2, `${how}: ${r.stderr}`);
      const line = oneLine(r.stderr);
      assert.match(line, /^mme: AWS profile "broken" could not provide credentials/, how);
      assert.doesNotMatch(line, /no AWS credentials found/, how);
    }
  });

  test('--cache-dir /dev/null is one clear line (exit 2)', async () => {
    const r = await mme(['local', '--cache-dir', '/dev/null', '--prefix', `file://${tempDir()}/`, '--port', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /^mme: --cache-dir \/dev\/null cannot be used as a folder/);
  });

  // Node's recursive mkdir never returns for a path under /proc (ENOENT below a parent that exists): every folder
  // mme makes is made level by level (src/util/make-dirs.ts). The timeouts are hang guards only.
  test('a folder that cannot be made under /proc is one line, not a hang: --cache-dir, package -o, the SDK and hash caches', {
    skip: !fs.existsSync('/proc/self') && 'no /proc',
  }, async () => {
    const local = await mme(['local', '--cache-dir', '/proc/mme-test/cache', '--prefix', `file://${tempDir()}/`, '--port', '0'], { timeoutMs: 120_000 });
    assert.equal(local.code, 2, local.stderr);
    assert.match(oneLine(local.stderr), /^mme: --cache-dir \/proc\/mme-test\/cache cannot be used as a folder \(ENOENT\)/);
    const pkg = await mme(['package', path.join(ROOT, 'examples', 'merchants', 'm01'), '-o', '/proc/mme-test/m01.tar.gz'], { timeoutMs: 120_000 });
    assert.equal(pkg.code, 1, pkg.stderr);
    assert.match(oneLine(pkg.stderr), /^mme: cannot write -o \/proc\/mme-test\/m01\.tar\.gz: ENOENT/);
    // the hash cache of sync and the SDK's code cache cannot be written: the command does its work all the same
    const prefix = tempDir();
    const sync = await mme(['sync', path.join(ROOT, 'examples', 'merchants'), '--prefix', `file://${prefix}/`, '--json'], {
      env: { XDG_CACHE_HOME: '/proc/mme-test' },
      timeoutMs: 120_000,
    });
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.json.result.added, 70);
  });

  test('credentials in an endpoint URL are never printed: stderr, the JSON document, --debug', async () => {
    const url = 'http://admin:hunter2-secret@127.0.0.1:9';
    for (const extra of [[], ['--json'], ['--debug']]) {
      const r = await mme(['ls', '--prefix', 's3://fleet/models/', '--endpoint-url', url, '--connect-timeout', '2s', ...extra]);
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2|admin:/, extra.join(' '));
      assert.match(r.stderr, /http:\/\/\*\*\*@127\.0\.0\.1:9/);
      if (extra[0] === '--json') assert.match(r.json.error.message, /\*\*\*@127\.0\.0\.1:9/);
    }
    const config = await mme(['config', '--json', '--endpoint-url', url]);
    assert.doesNotMatch(config.stdout, /hunter2/);
  });

  test('a newline or control character in a file name never makes a multi-line error', async () => {
    const dir = tempDir();
    const r = await mme(['push', 'evil\nname\u001b[31m.tar.gz', '--prefix', `file://${dir}/fleet/`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /evil\\nname\\x1b\[31m\.tar\.gz/);
    // A real file with a newline in its name, refused by package (already gzip): the same one line.
    const gz = path.join(dir, 'two\nlines.gz');
    fs.writeFileSync(gz, zlib.gzipSync('x'));
    const p = await mme(['package', gz, '-o', path.join(dir, 'out.tar.gz')]);
    assert.equal(p.code, 2, p.stderr);
    assert.match(oneLine(p.stderr), /two\\nlines\.gz is already a gzip file/);
  });

  test('push of gzip data that is not a tar archive is one line (exit 2), not a tar parser error', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'noise.tar.gz');
    // A size field in base-256 too large for a number: tar's header parser throws on it.
    const block = Buffer.alloc(4096);
    block[124] = 0x80;
    block.fill(0xff, 125, 136);
    fs.writeFileSync(file, zlib.gzipSync(block));
    const r = await mme(['push', file, '--prefix', `file://${dir}/fleet/`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /noise\.tar\.gz is not a gzip-compressed tar archive/);
  });

  test('timeouts come from flag, env or config key, with documented defaults; a bad one is refused (exit 2)', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'mme.config.json'), JSON.stringify({ fleets: { tail: { prefix: 's3://fleet/models/', requestTimeout: '5s' } } }));
    const show = async (args: string[], env: Record<string, string> = {}) => {
      const r = await mme(['config', '--json', ...args], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      return Object.fromEntries(r.json.result.settings.map((x: { key: string; value: string; source: string }) => [x.key, `${x.value} (${x.source})`]));
    };
    const file = await show([]);
    assert.match(file.requestTimeout, /^5s \(.*fleets\.tail\.requestTimeout\)\)$/);
    assert.equal(file.connectTimeout, '10s (default)');
    assert.equal((await show([], { MME_REQUEST_TIMEOUT: '2m' })).requestTimeout, '2m (env MME_REQUEST_TIMEOUT)');
    assert.equal((await show(['--connect-timeout', '500ms'])).connectTimeout, '500ms (flag --connect-timeout)');
    const bad = await mme(['ls', '--request-timeout', 'forever'], { cwd: dir });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(oneLine(bad.stderr), /^mme: flag --request-timeout: "forever" is not a timeout between 1ms and 1h\./);
  });
});
