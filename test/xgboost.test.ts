// XGBoost runtime vs xgboost 1.7's own predictions (fixtures from test/fixtures/xgboost/generate.py; no Python
// needed here). Run: node --import tsx --test test/xgboost.test.ts
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  decodeRequest,
  detectFormat,
  encodeResponse,
  loadModelBytes,
  loadModelDir,
  ModelLoadError,
  ModelRequestError,
  predict,
  pythonFloatRepr,
  sniffDelimiter,
  XGBoostModel,
  xgboostRuntime,
  type CompiledModel,
} from '../src/local/runtimes/xgboost/index.js';
import { parseTolerantJson } from '../src/local/runtimes/xgboost/json-reader.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'xgboost');

interface Case {
  name: string;
  objective: string;
  booster: string;
  num_class: number;
  trees: number;
  files: Record<string, string>;
  data: string;
  expected: (number | number[])[];
  csv_response: string;
  json_response: string;
}
interface Manifest {
  datasets: Record<string, { csv: string; libsvm: string; rows: number; features: number }>;
  cases: Case[];
  kfold: { dir: string; data: string; expected: number[]; csv_response: string; json_response: string };
}

const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;
const bytesOf = (relative: string): Buffer => readFileSync(path.join(FIXTURES, relative));
const textOf = (relative: string): string => bytesOf(relative).toString('utf8');
const loadFixture = (relative: string): CompiledModel => loadModelBytes(bytesOf(relative), relative);
const caseNamed = (name: string): Case => manifest.cases.find((c) => c.name === name)!;

function predictDataset(model: CompiledModel, dataset: string, contentType = 'text/csv'): Float32Array {
  const info = manifest.datasets[dataset];
  const decoded = decodeRequest(bytesOf(contentType === 'text/csv' ? info.csv : info.libsvm), contentType, model.numFeature);
  assert.equal(decoded.nRows, info.rows);
  return predict(model, decoded.rows, decoded.nRows, decoded.nCols);
}

/** Within 1e-6: absolute, or relative when |expected| > 1. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${label}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    const error = Math.abs(a - e) / Math.max(1, Math.abs(e));
    assert.ok(error <= 1e-6, `${label}[${i}]: got ${a}, xgboost ${e} (error ${error})`);
  }
}

/** Response text with every number replaced, to compare the layout of two bodies. */
const shapeOf = (text: string): string => text.replace(/-?(\d+\.?\d*(e[+-]\d+)?|nan|inf|NaN|Infinity)/g, '#');
const numbersOf = (text: string): number[] => (text.match(/-?(\d+\.?\d*(e[+-]\d+)?)/g) ?? []).map(Number);

function expectLoadError(fn: () => unknown, pattern: RegExp): ModelLoadError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ModelLoadError, `expected ModelLoadError, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected a ModelLoadError matching ${pattern}`);
}

function expectRequestError(fn: () => unknown, status: number, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ModelRequestError, `expected ModelRequestError, got ${(error as Error)?.message}`);
    assert.equal(error.status, status, error.message);
    assert.match(error.message, pattern);
    return;
  }
  assert.fail(`expected a ModelRequestError ${status} matching ${pattern}`);
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mme-xgb-test-'));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('predictions agree with xgboost 1.7', () => {
  for (const c of manifest.cases) {
    for (const [format, file] of Object.entries(c.files)) {
      it(`${c.name} (${format})`, () => {
        const model = loadFixture(file);
        assert.equal(model.format, format);
        assert.equal(model.objective, c.objective);
        assert.equal(model.booster, c.booster);
        assertClose(predictDataset(model, c.data), c.expected.flat(), `${c.name}.${format}`);
      });
    }
  }

  it('covers every objective, booster and feature the issue lists', () => {
    const objectives = new Set(manifest.cases.map((c) => c.objective));
    for (const o of [
      'binary:logistic',
      'binary:logitraw',
      'binary:hinge',
      'reg:squarederror',
      'reg:logistic',
      'reg:pseudohubererror',
      'reg:squaredlogerror',
      'count:poisson',
      'reg:gamma',
      'reg:tweedie',
      'multi:softprob',
      'multi:softmax',
      'rank:pairwise',
    ]) {
      assert.ok(objectives.has(o), o);
    }
    const boosters = new Set(manifest.cases.map((c) => c.booster));
    for (const b of ['gbtree', 'dart', 'gblinear']) assert.ok(boosters.has(b), b);
    assert.ok(manifest.cases.some((c) => c.data === 'categorical'));
  });

  it('the three formats of one model give identical output', () => {
    let compared = 0;
    for (const c of manifest.cases) {
      const files = Object.values(c.files);
      if (files.length < 3) continue;
      const [first, ...rest] = files.map((file) => predictDataset(loadFixture(file), c.data));
      for (const other of rest) assert.deepEqual(other, first, c.name);
      compared++;
    }
    assert.ok(compared >= 20);
  });

  it('libsvm input gives the same predictions as CSV input', () => {
    for (const c of manifest.cases) {
      const model = loadFixture(c.files.json);
      assert.deepEqual(predictDataset(model, c.data, 'text/libsvm'), predictDataset(model, c.data, 'text/csv'), c.name);
    }
  });

  it("answers with the container's text/csv and application/json bodies", () => {
    for (const c of manifest.cases) {
      const loaded = new XGBoostModel([loadFixture(c.files.json)]);
      const body = bytesOf(manifest.datasets[c.data].csv);
      const csv = loaded.invoke(body, 'text/csv', 'text/csv');
      const json = loaded.invoke(body, 'text/csv', 'application/json');
      assert.equal(csv.contentType, 'text/csv');
      assert.equal(json.contentType, 'application/json');
      const csvText = Buffer.from(csv.body).toString();
      const jsonText = Buffer.from(json.body).toString();
      assert.equal(shapeOf(csvText), shapeOf(c.csv_response), `${c.name}: csv layout`);
      assert.equal(shapeOf(jsonText), shapeOf(c.json_response), `${c.name}: json layout`);
      assertClose(numbersOf(csvText), numbersOf(c.csv_response), `${c.name}: csv values`);
      // when every prediction is bit-identical to xgboost's, the text must be byte-identical too
      const predictions = predictDataset(loaded.models[0], c.data);
      if (predictions.every((v, i) => v === c.expected.flat()[i])) {
        assert.equal(csvText, c.csv_response, c.name);
        assert.equal(jsonText, c.json_response, c.name);
      }
    }
  });

  it('k-fold folder: averages the fold models like the container', async () => {
    const loaded = await xgboostRuntime.loadDir(path.join(FIXTURES, manifest.kfold.dir));
    const description = loaded.describe();
    assert.deepEqual(description.files, ['xgboost-model-0', 'xgboost-model-1', 'xgboost-model-2']);
    assert.equal(description.format, 'binary');
    assert.equal(description.objective, 'binary:logistic');
    const response = await loaded.invoke(bytesOf(manifest.datasets[manifest.kfold.data].csv), undefined, undefined);
    const text = Buffer.from(response.body).toString();
    assert.equal(shapeOf(text), shapeOf(manifest.kfold.csv_response));
    assertClose(numbersOf(text), manifest.kfold.expected, 'kfold');
  });
});

describe('document variants', () => {
  const jsonOf = (c: Case): string => textOf(c.files.json);
  const reference = (c: Case): Float32Array => predictDataset(loadFixture(c.files.json), c.data);
  const fromText = (text: string, name = 'edited.json'): CompiledModel => loadModelBytes(Buffer.from(text), name);

  it('bracketed base_score vectors (xgboost 3.1+) give the same predictions', () => {
    const binary = caseNamed('binary_logistic');
    const edited = jsonOf(binary).replace('"base_score":"3E-1"', '"base_score":"[3E-1]"');
    assert.notEqual(edited, jsonOf(binary));
    assert.deepEqual(predictDataset(fromText(edited), binary.data), reference(binary));

    const multi = caseNamed('multi_softprob');
    const vector = jsonOf(multi).replace('"base_score":"5E-1"', '"base_score":"[5E-1,5E-1,5E-1,5E-1]"');
    assert.notEqual(vector, jsonOf(multi));
    assert.deepEqual(predictDataset(fromText(vector), multi.data), reference(multi));
    expectLoadError(() => fromText(jsonOf(multi).replace('"base_score":"5E-1"', '"base_score":"[5E-1,5E-1]"')), /base_score has 2 values for 4 outputs/);
  });

  it('per-class base_score vectors shift each class margin', () => {
    const multi = caseNamed('multi_softmax');
    const shifted = fromText(jsonOf(multi).replace('"base_score":"5E-1"', '"base_score":"[5E-1,5E-1,1E3]"'));
    assert.ok(predictDataset(shifted, multi.data).every((v) => v === 2));
  });

  it('default_left as true/false (files before 1.6) and trees out of id order', () => {
    const c = caseNamed('multi_softprob_forest');
    const doc = JSON.parse(jsonOf(c));
    const model = doc.learner.gradient_booster.model;
    for (const tree of model.trees) tree.default_left = tree.default_left.map((v: number) => v === 1);
    model.trees.reverse(); // tree_info stays in id order
    assert.deepEqual(predictDataset(fromText(JSON.stringify(doc)), c.data), reference(c));
  });

  it('the legacy objective name reg:linear', () => {
    const c = caseNamed('reg_squarederror');
    const edited = jsonOf(c).replace('"name":"reg:squarederror"', '"name":"reg:linear"');
    assert.deepEqual(predictDataset(fromText(edited), c.data), reference(c));
  });

  it('categorical models carry bare NaN tokens, which JSON.parse alone rejects', () => {
    const text = jsonOf(caseNamed('categorical'));
    assert.match(text, /\[NaN,/);
    assert.throws(() => JSON.parse(text));
  });

  it('the tolerant reader leaves NaN/Infinity inside strings alone', () => {
    const parsed = parseTolerantJson('{"names":["a,NaN,b","x\\"Infinity","-Infinity"],"v":[NaN,-Infinity,Infinity,1.5]}') as {
      names: string[];
      v: unknown[];
    };
    assert.deepEqual(parsed.names, ['a,NaN,b', 'x"Infinity', '-Infinity']);
    assert.deepEqual(parsed.v, ['NaN', '-Infinity', 'Infinity', 1.5]);
  });

  it('describe() and footprintBytes', async () => {
    const c = caseNamed('multi_softprob');
    const loaded = new XGBoostModel([loadFixture(c.files.ubj)]);
    assert.ok(loaded.footprintBytes > 0);
    const d = loaded.describe();
    assert.equal(d.runtime, 'xgboost');
    assert.equal(d.format, 'ubj');
    assert.equal(d.booster, 'gbtree');
    assert.equal(d.objective, 'multi:softprob');
    assert.equal(d.trees, c.trees);
    assert.equal(d.features, 8);
    assert.equal(d.classes, 4);
    assert.equal(d.outputsPerRow, 4);
    assert.equal(d.footprintBytes, loaded.footprintBytes);
    const linear = loadFixture(caseNamed('gblinear').files.binary);
    assert.ok(linear.footprintBytes > 0);
    assert.equal(linear.trees, null);
  });
});

describe('loading errors name the file and the reason', () => {
  it('a pickled Python booster', () => {
    const error = expectLoadError(() => loadFixture('errors/pickled/xgboost-model'), /pickled Python booster/);
    assert.match(error.message, /^errors\/pickled\/xgboost-model: /);
    assert.match(error.message, /save_model\('xgboost-model\.json'\)/);
  });

  it('the container-style folder with a pickle fails the same way', async () => {
    await assert.rejects(
      () => loadModelDir(path.join(FIXTURES, 'errors', 'pickled')),
      (error: unknown) => {
        assert.ok(error instanceof ModelLoadError);
        assert.equal(error.file, 'xgboost-model');
        assert.match(error.reason, /pickled Python booster/);
        return true;
      },
    );
  });

  it('truncated JSON, UBJSON and legacy binary files', () => {
    expectLoadError(() => loadFixture('errors/truncated.json'), /truncated\.json: JSON model: truncated JSON/);
    expectLoadError(() => loadFixture('errors/truncated.ubj'), /truncated\.ubj: UBJSON model: truncated UBJSON/);
    expectLoadError(() => loadFixture('errors/truncated-binary'), /truncated-binary: legacy binary model: truncated/);
  });

  it('every truncation point of every format fails cleanly (no crash, no hang)', () => {
    const c = caseNamed('dart_multi');
    for (const file of Object.values(c.files)) {
      const bytes = bytesOf(file);
      const step = Math.max(1, Math.floor(bytes.length / 300));
      for (let cut = 0; cut < bytes.length - 1; cut += step) {
        expectLoadError(() => loadModelBytes(bytes.subarray(0, cut), file), /./);
      }
    }
  });

  it('corrupted bytes load or fail with ModelLoadError, nothing else', () => {
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const file of Object.values(caseNamed('categorical').files).concat(Object.values(caseNamed('dart').files))) {
      const original = bytesOf(file);
      for (let trial = 0; trial < 60; trial++) {
        const bytes = Buffer.from(original);
        for (let k = 0; k < 4; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        try {
          const model = loadModelBytes(bytes, file);
          predict(model, new Float32Array(model.numFeature).fill(NaN), 1, model.numFeature);
        } catch (error) {
          assert.ok(error instanceof ModelLoadError, `${file} trial ${trial}: ${(error as Error).stack}`);
        }
      }
    }
  });

  it('unknown objective or booster', () => {
    const text = textOf(caseNamed('reg_squarederror').files.json);
    expectLoadError(
      () => loadModelBytes(Buffer.from(text.replace('"name":"reg:squarederror"', '"name":"reg:madeup"')), 'm.json'),
      /m\.json: JSON model: unsupported objective 'reg:madeup'/,
    );
    expectLoadError(() => loadModelBytes(Buffer.from(text.replace('"name":"gbtree"', '"name":"gbforest"')), 'm.json'), /unsupported booster 'gbforest'/);
    const binary = bytesOf(caseNamed('reg_squarederror').files.binary);
    const at = binary.indexOf('reg:squarederror');
    const edited = Buffer.from(binary);
    edited.write('reg:squarederrox', at);
    expectLoadError(() => loadModelBytes(edited, 'xgboost-model'), /xgboost-model: legacy binary model: unsupported objective 'reg:squarederrox'/);
  });

  it('garbage, empty, gzip and base64 files', () => {
    expectLoadError(() => loadModelBytes(Buffer.from('hello, this is not a model\n'.repeat(20)), 'notes'), /notes: not an XGBoost model: the file is text/);
    expectLoadError(() => loadModelBytes(new Uint8Array(0), 'empty'), /empty: the file is empty/);
    expectLoadError(() => loadModelBytes(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), 'model.tar.gz'), /gzip-compressed/);
    expectLoadError(() => loadModelBytes(Buffer.from('bs64AAAAAAAAAAAAAA'), 'b'), /base64/);
    expectLoadError(() => loadModelBytes(Buffer.from('{"learner": 3}'), 'x.json'), /x\.json: JSON model: 'learner.learner_model_param'|is not an object/);
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    expectLoadError(() => loadModelBytes(random, 'noise'), /noise: /);
  });

  it('format detection looks at the bytes, not the name', () => {
    assert.equal(detectFormat(bytesOf(caseNamed('dart').files.json)), 'json');
    assert.equal(detectFormat(bytesOf(caseNamed('dart').files.ubj)), 'ubj');
    assert.equal(detectFormat(bytesOf(caseNamed('dart').files.binary)), 'binary');
    assert.equal(detectFormat(bytesOf('errors/pickled/xgboost-model')), 'pickle');
    const dir = tempDir();
    copyFileSync(path.join(FIXTURES, caseNamed('dart').files.ubj), path.join(dir, 'model.json')); // misleading name
    assert.equal(loadModelBytes(readFileSync(path.join(dir, 'model.json')), 'model.json').format, 'ubj');
    // a byte order mark and leading whitespace before a JSON document
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n  '), bytesOf(caseNamed('dart').files.json)]);
    assert.equal(loadModelBytes(withBom, 'bom.json').format, 'json');
  });

  it('loadDir skips obvious non-model files and rejects a folder without models', async () => {
    const dir = tempDir();
    copyFileSync(path.join(FIXTURES, caseNamed('binary_logistic').files.binary), path.join(dir, 'xgboost-model'));
    writeFileSync(path.join(dir, 'README.md'), '# notes');
    writeFileSync(path.join(dir, '.DS_Store'), 'junk');
    writeFileSync(path.join(dir, 'requirements.txt'), 'xgboost==1.7');
    const loaded = await loadModelDir(dir);
    assert.deepEqual(loaded.describe().files, ['xgboost-model']);
    const empty = tempDir();
    writeFileSync(path.join(empty, 'README.md'), '# nothing');
    await assert.rejects(() => loadModelDir(empty), /no model file found/);
  });
});

describe('request decoding (as the SageMaker XGBoost container)', () => {
  const csv = (text: string, features = 3) => decodeRequest(Buffer.from(text), 'text/csv', features);
  const libsvm = (text: string, features = 4, type = 'text/libsvm') => decodeRequest(Buffer.from(text), type, features);

  it('sniffs the delimiter from the first line', () => {
    assert.equal(sniffDelimiter('1,2,3'), ',');
    assert.equal(sniffDelimiter('1\t2\t3'), '\t');
    assert.equal(sniffDelimiter('1;2;3'), ';');
    assert.equal(sniffDelimiter('1 2 3'), ' ');
    assert.equal(sniffDelimiter('1|2|3'), '|');
    assert.equal(sniffDelimiter('1.5'), ',');
    assert.deepEqual(Array.from(csv('1\t2\t3\n4\t5\t6').rows), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(csv('1;2;3').rows), [1, 2, 3]);
  });

  it('empty field = missing, whitespace and CRLF tolerated, body stripped', () => {
    const d = csv('\n 1, ,3\r\n,,\r\n0,-0,1e3 \n\n');
    assert.equal(d.nRows, 3);
    const rows = Array.from(d.rows);
    assert.deepEqual(
      rows.map((v) => (Number.isNaN(v) ? 'NaN' : v)),
      [1, 'NaN', 3, 'NaN', 'NaN', 'NaN', 0, -0, 1000],
    );
  });

  it('parses float64 then rounds to float32; accepts nan and inf like Python float()', () => {
    const d = csv('0.1,16777217,1e39\nnan,-inf,Infinity');
    assert.equal(d.rows[0], Math.fround(0.1));
    assert.equal(d.rows[1], 16777216);
    assert.equal(d.rows[2], Infinity);
    assert.ok(Number.isNaN(d.rows[3]));
    assert.equal(d.rows[4], -Infinity);
    assert.equal(d.rows[5], Infinity);
  });

  it('names the row and column of a bad value', () => {
    expectRequestError(() => csv('1,2,3\n4,5,6\n7,8,abc'), 400, /^row 3, column 3: 'abc' is not a number$/);
    expectRequestError(() => csv('1,2,3\n4,0x10,6'), 400, /row 2, column 2: '0x10' is not a number/);
    expectRequestError(() => csv('1,2,3,4,5,6,abc', 7), 400, /row 1, column 7: 'abc' is not a number/);
  });

  it('wrong feature count and empty bodies are client errors', () => {
    expectRequestError(() => csv('1,2,3\n4,5'), 400, /row 2 has 2 values; the model expects 3 features/);
    expectRequestError(() => csv('1,2,3,4'), 400, /row 1 has 4 values; the model expects 3/);
    expectRequestError(() => csv('1,2,3\n\n4,5,6'), 400, /row 2 is empty/);
    expectRequestError(() => csv(''), 204, /request body is empty/);
    expectRequestError(() => csv(' \n\r\n'), 204, /request body is empty/);
    expectRequestError(() => libsvm(''), 204, /request body is empty/);
    expectRequestError(() => decodeRequest(new Uint8Array([0xff, 0xfe, 0x31]), 'text/csv', 1), 400, /not valid UTF-8/);
  });

  it('libsvm: label ignored, 0-based index:value, absent = missing', () => {
    for (const type of ['text/libsvm', 'text/x-libsvm', 'text/libsvm; charset=utf-8']) {
      const d = libsvm('1 0:1.5 3:-2\n0 2:7\n1:0.25', 4, type);
      assert.equal(d.nRows, 3);
      const show = Array.from(d.rows, (v) => (Number.isNaN(v) ? 'NaN' : v));
      assert.deepEqual(show, [1.5, 'NaN', 'NaN', -2, 'NaN', 'NaN', 7, 'NaN', 'NaN', 0.25, 'NaN', 'NaN']);
    }
  });

  it('libsvm errors name the row and item', () => {
    expectRequestError(() => libsvm('0 1:2 x:3'), 400, /row 1, item 3 \('x:3'\): 'x' is not a feature index/);
    expectRequestError(() => libsvm('0 1:2\n0 9:3'), 400, /row 2, item 2 \('9:3'\): feature index 9 is out of range; the model has 4 features/);
    expectRequestError(() => libsvm('0 1:abc'), 400, /row 1, item 2 \('1:abc'\): 'abc' is not a number/);
    expectRequestError(() => libsvm('0 1:'), 400, /'' is not a number/);
    expectRequestError(() => libsvm('0 1:2 1:3'), 400, /feature index 1 appears twice/);
  });

  it('content types: parameters ignored, missing = text/csv, others rejected with 415', () => {
    assert.equal(decodeRequest(Buffer.from('1,2,3'), 'text/csv; charset=utf-8', 3).nRows, 1);
    assert.equal(decodeRequest(Buffer.from('1,2,3'), 'TEXT/CSV', 3).nRows, 1);
    assert.equal(decodeRequest(Buffer.from('1,2,3'), undefined, 3).nRows, 1);
    expectRequestError(
      () => decodeRequest(Buffer.from('[1,2,3]'), 'application/json', 3),
      415,
      /Content-Type 'application\/json' is not supported; use text\/csv, text\/libsvm, text\/x-libsvm/,
    );
    expectRequestError(() => decodeRequest(Buffer.from('x'), 'application/x-recordio-protobuf', 3), 415, /not by mme's local runtime/);
  });
});

describe('response encoding', () => {
  it('prints floats like Python repr', () => {
    const cases: [number, string][] = [
      [1e-5, '1e-05'],
      [1.5e-5, '1.5e-05'],
      [0.0001, '0.0001'],
      [0.00012345, '0.00012345'],
      [1e16, '1e+16'],
      [1.5e16, '1.5e+16'],
      [1e15, '1000000000000000.0'],
      [123456789012345.6, '123456789012345.6'],
      [1, '1.0'],
      [2, '2.0'],
      [-0, '-0.0'],
      [0, '0.0'],
      [0.1, '0.1'],
      [100, '100.0'],
      [1e22, '1e+22'],
      [3.4028234663852886e38, '3.4028234663852886e+38'],
      [1.401298464324817e-45, '1.401298464324817e-45'],
      [-2.5e-7, '-2.5e-07'],
      [Math.fround(0.3), '0.30000001192092896'],
      [12345, '12345.0'],
      [NaN, 'nan'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
    ];
    for (const [value, text] of cases) assert.equal(pythonFloatRepr(value), text, String(value));
  });

  it('text/csv: rows joined by commas, multi-class rows as Python lists', () => {
    const one = encodeResponse(new Float32Array([0.5, 1, 0.25]), 3, 1, 'text/csv');
    assert.equal(Buffer.from(one.body).toString(), '0.5,1.0,0.25');
    const multi = encodeResponse(new Float32Array([0.5, 0.25, 0.25, 1, 0, 0]), 2, 3, undefined);
    assert.equal(multi.contentType, 'text/csv');
    assert.equal(Buffer.from(multi.body).toString(), '[0.5, 0.25, 0.25],[1.0, 0.0, 0.0]');
  });

  it('application/json: a list, nested per row for multi-class', () => {
    const one = encodeResponse(new Float32Array([0.5, NaN]), 2, 1, 'application/json');
    assert.equal(one.contentType, 'application/json');
    assert.equal(Buffer.from(one.body).toString(), '[0.5, NaN]');
    const multi = encodeResponse(new Float32Array([0.5, 0.5, 1, 0]), 2, 2, 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(Buffer.from(multi.body).toString()), [
      [0.5, 0.5],
      [1, 0],
    ]);
  });

  it('Accept: */*, text/*, lists and missing pick text/csv; unsupported is 415', () => {
    const p = new Float32Array([1]);
    for (const accept of [undefined, '', '*/*', 'text/*', 'text/csv', 'application/xml, text/csv;q=0.9']) {
      assert.equal(encodeResponse(p, 1, 1, accept).contentType, 'text/csv', String(accept));
    }
    assert.equal(encodeResponse(p, 1, 1, 'application/xml, application/json').contentType, 'application/json');
    expectRequestError(() => encodeResponse(p, 1, 1, 'application/xml'), 415, /Accept 'application\/xml' is not supported; use text\/csv, application\/json/);
  });

  it('invoke checks Content-Type (415) and Accept (415) before decoding', () => {
    const loaded = new XGBoostModel([loadFixture(caseNamed('binary_logistic').files.json)]);
    expectRequestError(() => loaded.invoke(Buffer.from('garbage'), 'image/png', 'text/csv'), 415, /image\/png/);
    expectRequestError(() => loaded.invoke(Buffer.from('garbage'), 'text/csv', 'image/png'), 415, /image\/png/);
    expectRequestError(() => loaded.invoke(Buffer.from('1,2'), 'text/csv', 'text/csv'), 400, /row 1 has 2 values; the model expects 8 features/);
    expectRequestError(() => loaded.invoke(new Uint8Array(0), 'text/csv', 'text/csv'), 204, /empty/);
  });

  it('predict() checks the column count', () => {
    const model = loadFixture(caseNamed('binary_logistic').files.json);
    expectRequestError(() => predict(model, new Float32Array(7), 1, 7), 400, /rows have 7 columns; the model expects 8 features/);
  });
});
