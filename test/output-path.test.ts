// One guard for every file a command writes (issue 10): never its own input, never a folder, never a rename over
// a device or pipe. Runs the built binary; checks the files with fs, GNU tar and cat.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mme, tempDir } from './helpers/cli.js';

function modelFolder(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'xgboost-model.json'), '{"learner":{}}');
  return dir;
}
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  return lines[0];
};

describe('output paths', () => {
  test('package refuses to write over its own input, by any spelling or hard link (exit 2, the model untouched)', async () => {
    const dir = tempDir();
    const model = path.join(dir, 's', 'xgboost-model');
    fs.mkdirSync(path.dirname(model));
    fs.writeFileSync(model, Buffer.from([1, 2, 3, 4]));
    fs.linkSync(model, path.join(dir, 'hard-link'));
    for (const out of ['s/xgboost-model', './s/../s/xgboost-model', 'hard-link']) {
      const r = await mme(['package', 's/xgboost-model', '-o', out], { cwd: dir });
      assert.equal(r.code, 2, `${out}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), /^mme: -o .* is s\/xgboost-model, an input of this command; writing it would replace it\./);
      assert.deepEqual([...fs.readFileSync(model)], [1, 2, 3, 4]);
    }
  });

  test('-o naming an existing folder is one clear line, not a raw EISDIR (exit 2)', async () => {
    const dir = tempDir();
    modelFolder(path.join(dir, 'm1'));
    fs.mkdirSync(path.join(dir, 'out'));
    const r = await mme(['package', 'm1', '-o', 'out'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /^mme: -o out is a folder, not a file\. Name a file in it/);
    assert.doesNotMatch(r.stderr, /EISDIR|mme-tmp/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'out')), []);
  });

  test('-o /dev/full writes to the device (ENOSPC, exit 1) and never replaces it', async () => {
    const r = await mme(['package', modelFolder(path.join(tempDir(), 'm1')), '-o', '/dev/full']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r.stderr), /^mme: cannot write -o \/dev\/full: no space left \(ENOSPC\)\./);
    assert.ok(fs.statSync('/dev/full').isCharacterDevice(), '/dev/full is still a device');
    assert.deepEqual(
      fs.readdirSync('/dev').filter((n) => n.startsWith('.mme-tmp-')),
      [],
    );
  });

  test('-o a named pipe streams the artifact into it; the pipe stays a pipe', async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c) => chunks.push(c));
    const readerDone = new Promise((r) => reader.on('close', r));
    const r = await mme(['package', modelFolder(path.join(dir, 'm1')), '-o', fifo]);
    await readerDone;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.statSync(fifo).isFIFO(), 'still a FIFO');
    const got = path.join(dir, 'got.tar.gz');
    fs.writeFileSync(got, Buffer.concat(chunks));
    assert.match(execFileSync('tar', ['tzf', got]).toString(), /^xgboost-model\.json$/m);
  });

  test('invoke --out refuses a folder and its own --body-file before sending anything (exit 2)', async () => {
    const dir = tempDir();
    const rows = path.join(dir, 'rows.csv');
    fs.writeFileSync(rows, '1,2,3,4,5,6,7,8\n');
    // Port 9 (discard) is never listened on here: had a request been sent, the failure would be exit 1, not 2.
    const base = ['invoke', '--target', 'm1.tar.gz', '--endpoint-name', 'fraud-mme', '--endpoint-url', 'http://127.0.0.1:9'];
    const folder = await mme([...base, '--body-file', rows, '--out', dir]);
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(oneLine(folder.stderr), /^mme: --out .* is a folder, not a file\./);
    const self = await mme([...base, '--body-file', rows, '--out', rows]);
    assert.equal(self.code, 2, self.stderr);
    assert.match(oneLine(self.stderr), /is .*rows\.csv, an input of this command/);
    assert.equal(fs.readFileSync(rows, 'utf8'), '1,2,3,4,5,6,7,8\n');
  });
});
