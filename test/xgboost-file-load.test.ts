// Loading a model from its file (loadModelPath): a legacy binary file is read in parts (parameters through a small
// window, node records straight to where they are compiled from, statistics skipped), which must give exactly what
// loadModelBytes gives for the whole file, including its errors.
// Run: npm run build && node --import tsx --test test/xgboost-file-load.test.ts
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadModelBytes, loadModelPath, type CompiledModel } from '../src/local/runtimes/xgboost/index.js';
import { tempDir } from './helpers/cli.js';
import { bigLegacyModel, FIXTURES, MODELS } from './helpers/models.js';

const work = tempDir('mme-file-load-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Every scalar and every array of a compiled model, comparable with assert.equal. */
function plain(model: CompiledModel): string {
  return JSON.stringify(model, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isNaN(x) ? 'NaN' : x)) : v));
}

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** The error message of a load, or 'loaded'. */
function outcome(load: () => CompiledModel): string {
  try {
    load();
    return 'loaded';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('loadModelPath: a model from its file', () => {
  test('every fixture, in every format, compiles exactly as from its bytes', () => {
    let files = 0;
    for (const dir of fs.readdirSync(MODELS)) {
      for (const name of fs.readdirSync(path.join(MODELS, dir)).filter((n) => n.startsWith('xgboost-model'))) {
        const file = path.join(MODELS, dir, name);
        assert.equal(plain(loadModelPath(file)), plain(loadModelBytes(fs.readFileSync(file), name)), `${dir}/${name}`);
        files++;
      }
    }
    assert.ok(files >= 30, `${files} fixture files`);
  });

  test('legacy binaries of many trees, and of trees larger than a read of the window', () => {
    for (const [name, bytes] of [
      ['many-trees', bigLegacyModel(200, 8, 20)], // 18 KB trees, 3.7 MB
      ['wide-trees', bigLegacyModel(3, 15, 50)], // 2.4 MB trees
    ] as const) {
      assert.equal(plain(loadModelPath(write(name, bytes), 'xgboost-model')), plain(loadModelBytes(bytes, 'xgboost-model')), name);
    }
  });

  test('a truncated or damaged legacy binary gives the same one-line error as from its bytes', () => {
    const good = bigLegacyModel(60, 10, 20); // 4.4 MB
    const broken = {
      'cut-in-a-tree': good.subarray(0, 3_000_017),
      'cut-before-tree-info': good.subarray(0, good.length - 8),
      'garbage-after-the-head': Buffer.concat([good.subarray(0, 300), Buffer.alloc(good.length - 300, 0xff)]),
    };
    for (const [name, bytes] of Object.entries(broken)) {
      const fromFile = outcome(() => loadModelPath(write(name, bytes), 'xgboost-model'));
      assert.match(fromFile, /^xgboost-model: legacy binary model: /, name);
      assert.equal(
        fromFile,
        outcome(() => loadModelBytes(bytes, 'xgboost-model')),
        name,
      );
    }
  });

  test('every broken fixture fails with the same message as from its bytes', () => {
    const dir = path.join(FIXTURES, 'errors');
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => fs.statSync(path.join(dir, name)).isFile());
    assert.ok(files.length >= 4, `${files.length} broken fixtures`);
    for (const name of files) {
      const file = path.join(dir, name);
      assert.equal(
        outcome(() => loadModelPath(file)),
        outcome(() => loadModelBytes(fs.readFileSync(file), path.basename(name))),
        name,
      );
    }
  });

  test('a model through a named pipe (no size to read by) loads as from a file', () => {
    const file = path.join(MODELS, 'binary_logistic', 'xgboost-model');
    const fifo = path.join(work, 'model.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', file, fifo], { stdio: 'ignore' });
    const piped = loadModelPath(fifo, 'xgboost-model');
    writer.kill();
    assert.equal(plain(piped), plain(loadModelPath(file)));
  });

  test('a missing file or a folder: cannot read the file', () => {
    assert.match(
      outcome(() => loadModelPath(path.join(work, 'absent'))),
      /absent: cannot read the file \(ENOENT\)/,
    );
    assert.match(
      outcome(() => loadModelPath(work)),
      /cannot read the file \(EISDIR\)/,
    );
  });
});
