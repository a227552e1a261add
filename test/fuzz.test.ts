// Seeded fuzzing of the model readers through the built binary: about 200 mutations of the committed JSON, UBJSON
// and legacy binary fixtures. Each mutation is either refused in one line (`mme predict`: exit 2, one `mme:` line,
// no stack trace; `mme local`: an error answer, not a crash) or scores identically through `mme predict` and
// `mme local`. Mutants are scored in batches (`mme predict` takes several models, each scored on its own). Every
// predict process stays within a memory bound (its peak RSS, from /usr/bin/time when present) and a time
// bound (a hard kill), and the endpoint's own peak RSS stays bounded after all of them.
// Run: npm run build && node --import tsx --test test/fuzz.test.ts      (FUZZ_SEED=n to try other mutations)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, test } from 'node:test';
import { baseEnv, MME, tempDir } from './helpers/cli.js';
import { mapLimit } from '../src/util/map-limit.js';
import { startLocal } from './helpers/local.js';
import { binaryHeaderOffset, DENSE_CSV, fixture, rng, tar, toUbjson } from './helpers/models.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const PER_FORMAT = 66;
const MODELS = ['reg_squarederror', 'binary_logistic', 'multi_softprob', 'dart', 'gblinear', 'categorical'];
const ROWS = DENSE_CSV.split('\n').slice(0, 6).join('\n');
const CATEGORICAL_ROWS = fs
  .readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'xgboost', 'data', 'categorical.csv'), 'utf8')
  .trimEnd()
  .split('\n')
  .slice(0, 6)
  .join('\n');
const PREDICT_TIMEOUT_MS = 25_000;
/** Mutants per predict process. */
const BATCH = 40;
const MiB = 1024 * 1024;
const TIME = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0 ? '/usr/bin/time' : undefined;

const work = tempDir('mme-fuzz-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

interface Mutant {
  name: string;
  file: string;
  what: string;
  rows: string;
}

const WEIRD_NUMBERS = [-1, 0, 1, 2, 3, 7, 8, 9, 255, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1e9, 2e9, -2e9, 1e39, -1e39, 0.5, NaN, Infinity, -Infinity];
const WEIRD_PARAMS = [
  '0',
  '1',
  '3',
  '-1',
  '2000000000',
  '4294967296',
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '',
  'abc',
  '[5E-1,2E-1]',
  '[1e400]',
  '0x10',
  ' 8 ',
  '8.5',
];
const KEYS = [
  'left_children',
  'right_children',
  'split_indices',
  'split_conditions',
  'default_left',
  'split_type',
  'categories',
  'categories_nodes',
  'categories_segments',
  'categories_sizes',
];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

/** A structural mutation of the parsed document (same for JSON and UBJSON). */
function mutateDocument(doc: any, r: () => number): string {
  const params = doc.learner.learner_model_param;
  const gb = doc.learner.gradient_booster;
  const model = gb.model?.trees ? gb.model : (gb.gbtree?.model ?? gb.model);
  const trees: any[] = model?.trees ?? [];
  switch (Math.floor(r() * 8)) {
    case 0: {
      const key = pick(r, ['num_feature', 'num_class', 'num_target', 'base_score']);
      const value = pick(r, WEIRD_PARAMS);
      params[key] = value;
      return `${key}=${JSON.stringify(value)}`;
    }
    case 1:
    case 2: {
      if (!trees.length) return mutateDocument(doc, r);
      const t = Math.floor(r() * trees.length);
      const key = pick(r, KEYS.slice(0, 5));
      const arr = trees[t][key];
      if (!Array.isArray(arr) || !arr.length) return 'nothing';
      const i = Math.floor(r() * arr.length);
      const value = pick(r, WEIRD_NUMBERS);
      arr[i] = Number.isFinite(value) ? value : String(value);
      return `trees[${t}].${key}[${i}]=${value}`;
    }
    case 3: {
      if (!trees.length) return mutateDocument(doc, r);
      const t = Math.floor(r() * trees.length);
      const key = pick(r, KEYS);
      const arr = trees[t][key];
      if (!Array.isArray(arr)) return 'nothing';
      arr.length = Math.floor(r() * arr.length);
      return `trees[${t}].${key} truncated to ${arr.length}`;
    }
    case 4: {
      const where = pick(r, ['objective', 'booster', 'tree_info', 'trees', 'learner_model_param']);
      if (where === 'objective')
        doc.learner.objective.name = pick(r, ['binary:logistic', 'multi:softmax', 'multi:softprob', 'reg:gamma', 'rank:pairwise', 'survival:aft', '']);
      else if (where === 'booster') gb.name = pick(r, ['gbtree', 'dart', 'gblinear', 'foo']);
      else if (where === 'tree_info' && model?.tree_info?.length)
        model.tree_info[Math.floor(r() * model.tree_info.length)] = pick(r, WEIRD_NUMBERS.filter(Number.isFinite));
      else if (where === 'trees' && trees.length) trees.splice(Math.floor(r() * trees.length), 1);
      else if (where === 'learner_model_param') delete params[pick(r, Object.keys(params))];
      return `${where} changed`;
    }
    case 5: {
      if (!trees.length) return mutateDocument(doc, r);
      const t = Math.floor(r() * trees.length);
      trees[t].id = pick(r, [0, -1, trees.length, 1e9, 'x']);
      return `trees[${t}].id=${trees[t].id}`;
    }
    case 6: {
      if (!trees.length) return mutateDocument(doc, r);
      // A cycle or a shared child: node i points back at the root.
      const t = Math.floor(r() * trees.length);
      const internal = trees[t].left_children.findIndex((c: number) => c > 0);
      if (internal < 0) return 'nothing';
      trees[t][pick(r, ['left_children', 'right_children'])][internal] = pick(r, [0, internal, 1]);
      return `trees[${t}] node ${internal} child loops`;
    }
    default: {
      const weights = gb.model?.weights;
      if (Array.isArray(weights) && weights.length) {
        weights[Math.floor(r() * weights.length)] = pick(r, ['NaN', 'Infinity', 1e39, 0]);
        return 'gblinear weight';
      }
      if (Array.isArray(gb.weight_drop) && gb.weight_drop.length) {
        gb.weight_drop[Math.floor(r() * gb.weight_drop.length)] = pick(r, ['NaN', -1, 1e39, 0]);
        return 'dart weight_drop';
      }
      params.num_feature = pick(r, WEIRD_PARAMS);
      return `num_feature=${params.num_feature}`;
    }
  }
}

/** A byte-level mutation: flips, overwrites with a big integer, truncation or an insertion. */
function mutateBytes(bytes: Buffer, r: () => number, headerAt: number): { bytes: Buffer; what: string } {
  const out = Buffer.from(bytes);
  switch (Math.floor(r() * 5)) {
    case 0: {
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) out[Math.floor(r() * out.length)] ^= 1 << Math.floor(r() * 8);
      return { bytes: out, what: `${n} bit flip(s)` };
    }
    case 1: {
      // A header field (binary) or a length/count somewhere (UBJSON) replaced by a large value.
      const at = headerAt >= 0 && r() < 0.6 ? headerAt + 4 * Math.floor(r() * 40) : Math.floor(r() * (out.length - 4));
      const value = pick(r, [0xffffffff, 0x7fffffff, 0x80000000, 2_000_000_000, 65536, 0]);
      out.writeUInt32LE(value >>> 0, Math.min(at, out.length - 4));
      return { bytes: out, what: `u32 ${value} at ${at}` };
    }
    case 2: {
      const at = Math.floor(r() * out.length);
      return { bytes: out.subarray(0, at), what: `truncated at ${at}` };
    }
    case 3: {
      const at = Math.floor(r() * out.length);
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256)));
      return { bytes: Buffer.concat([out.subarray(0, at), junk, out.subarray(at)]), what: `${junk.length} byte(s) inserted at ${at}` };
    }
    default: {
      const at = Math.floor(r() * out.length);
      out.fill(pick(r, [0, 0xff, 0x7b, 0x5b]), at, Math.min(out.length, at + 1 + Math.floor(r() * 64)));
      return { bytes: out, what: `run written at ${at}` };
    }
  }
}

/** The fixture's document; the bare NaN/Infinity tokens xgboost writes become strings (the readers take both). */
function parseModel(model: string): any {
  return JSON.parse(
    fixture(model, 'json')
      .toString('utf8')
      .replace(/([[,:])\s*(NaN|-?Infinity)(?=[\],}])/g, '$1"$2"'),
  );
}

function makeMutants(): Mutant[] {
  const r = rng(SEED);
  const mutants: Mutant[] = [];
  const add = (format: string, model: string, bytes: Buffer | string, what: string) => {
    const name = `m${String(mutants.length).padStart(3, '0')}`;
    const file = path.join(work, 'files', `${name}-${model}${format === 'binary' ? '' : `.${format}`}`);
    fs.writeFileSync(file, bytes);
    mutants.push({ name, file, what: `${format} ${model}: ${what}`, rows: model === 'categorical' ? CATEGORICAL_ROWS : ROWS });
  };
  fs.mkdirSync(path.join(work, 'files'));
  for (let i = 0; i < PER_FORMAT; i++) {
    const model = pick(r, MODELS);
    const doc = parseModel(model);
    const what = mutateDocument(doc, r);
    // A third of the JSON mutations are made on the text itself.
    if (r() < 0.33) {
      const m = mutateBytes(fixture(model, 'json'), r, -1);
      add('json', model, m.bytes, m.what);
    } else {
      add('json', model, JSON.stringify(doc).replace(/"(NaN|-?Infinity)"/g, '$1'), what);
    }
  }
  for (let i = 0; i < PER_FORMAT; i++) {
    const model = pick(r, MODELS);
    if (r() < 0.5) {
      const doc = parseModel(model);
      const what = mutateDocument(doc, r);
      add('ubj', model, toUbjson(doc), what);
    } else {
      const m = mutateBytes(fixture(model, 'ubj'), r, -1);
      add('ubj', model, m.bytes, m.what);
    }
  }
  for (let i = 0; i < PER_FORMAT; i++) {
    const model = pick(
      r,
      MODELS.filter((m) => m !== 'categorical'),
    );
    const original = fixture(model, 'binary');
    const m = mutateBytes(original, r, binaryHeaderOffset(original));
    add('binary', model, m.bytes, m.what);
  }
  return mutants;
}

interface PredictBatch {
  code: number | null;
  stdout: string;
  stderr: string;
  peakKb?: number;
  /** Per model: the body, or the one-line error. */
  models: ({ ok: true; model: { path: string }; response: { body: string } } | { ok: false; path: string; error: string })[];
}

/** One `mme predict --json` process for a batch of mutants (each scored on its own). */
function predictBatch(batch: Mutant[], rows: string): Promise<PredictBatch> {
  return new Promise((resolve, reject) => {
    const args = [MME, 'predict', ...batch.map((m) => m.file), '--json', '--accept', 'text/csv', '--content-type', 'text/csv', '--body', rows];
    const report = path.join(work, `${batch[0].name}.time`);
    const child = TIME
      ? spawn(TIME, ['-f', '%M', '-o', report, process.execPath, ...args], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), PREDICT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const peakKb = TIME ? Number(fs.readFileSync(report, 'utf8').trim().split('\n').pop()) : undefined;
      let models: PredictBatch['models'] = [];
      try {
        models = JSON.parse(stdout).result.models;
      } catch {
        // asserted below
      }
      resolve({ code, stdout, stderr, peakKb, models });
    });
  });
}

test(`about 200 seeded mutations (seed ${SEED}) are refused in one line or score identically through predict and local`, async () => {
  const mutants = makeMutants();
  assert.ok(mutants.length >= 190);

  // One endpoint for all of them: each mutant is an artifact under the prefix.
  const prefix = path.join(work, 'prefix');
  fs.mkdirSync(prefix);
  for (const m of mutants) {
    const inner = path.basename(m.file).replace(/^m\d+-[a-z_]+/, 'xgboost-model');
    fs.writeFileSync(path.join(prefix, `${m.name}.tar.gz`), zlib.gzipSync(tar([{ path: inner, data: fs.readFileSync(m.file) }]), { level: 1 }));
  }
  const local = await startLocal(['--prefix', `file://${prefix}/`, '--cache-dir', path.join(work, 'cache'), '--memory', '256MiB'], work);
  try {
    // Batches of mutants that take the same rows, one predict process each.
    const batches: Mutant[][] = [];
    for (const rows of [ROWS, CATEGORICAL_ROWS]) {
      const same = mutants.filter((m) => m.rows === rows);
      for (let i = 0; i < same.length; i += BATCH) batches.push(same.slice(i, i + BATCH));
    }
    const [batchResults, served] = await Promise.all([
      mapLimit(batches, 2, (batch) => predictBatch(batch, batch[0].rows)),
      mapLimit(mutants, 2, async (m) => {
        const res = await fetch(`${local.url}/endpoints/local-mme/invocations`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/csv', Accept: 'text/csv', 'X-Amzn-SageMaker-Target-Model': `${m.name}.tar.gz` },
          body: m.rows,
        });
        const text = await res.text();
        // Unloaded at once: 200 models must not pile up in the endpoint's memory.
        await fetch(`${local.url}/models/${m.name}.tar.gz`, { method: 'DELETE' });
        return { status: res.status, text };
      }),
    ]);
    const predicted = new Map<string, PredictBatch['models'][number]>();
    for (let b = 0; b < batches.length; b++) {
      const r = batchResults[b];
      const label = `predict batch ${batches[b][0].name}..`;
      assert.ok(r.code === 0 || r.code === 2, `${label}: exited ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at |RangeError|TypeError/, `${label}: ${r.stderr}`);
      if (r.peakKb !== undefined) assert.ok(r.peakKb * 1024 < 400 * MiB, `${label}: predict peaked at ${r.peakKb} KB`);
      assert.equal(r.models.length, batches[b].length, `${label}: ${r.stdout.slice(0, 300)} ${r.stderr}`);
      batches[b].forEach((m, i) => predicted.set(m.name, r.models[i]));
    }
    let scored = 0;
    for (let i = 0; i < mutants.length; i++) {
      const m = mutants[i];
      const p = predicted.get(m.name)!;
      const s = served[i];
      const label = `${m.name} (${m.what})`;
      assert.equal(p.ok ? p.model.path : p.path, m.file);
      if (p.ok) {
        scored++;
        assert.equal(s.status, 200, `${label}: predict scored it, local answered ${s.status} ${s.text}`);
        assert.equal(s.text, p.response.body, `${label}: predict and local disagree`);
      } else {
        assert.doesNotMatch(p.error, /\n/, `${label}: ${p.error}`);
        assert.doesNotMatch(p.error, /internal error|is not a function|Cannot read|undefined/i, `${label}: ${p.error}`);
        assert.notEqual(s.status, 200, `${label}: predict refused it (${p.error}) but local scored it`);
        assert.ok([400, 424, 507].includes(s.status), `${label}: local answered ${s.status} ${s.text}`);
        assert.doesNotMatch(s.text, /InternalFailure|internal error/i, `${label}: ${s.text}`);
      }
    }
    // Some mutations are harmless (a statistic, a value nobody reads): both scored them the same.
    assert.ok(scored > 0 && scored < mutants.length, `${scored} of ${mutants.length} scored`);
    assert.ok(local.peakRss() < 600 * MiB, `mme local peaked at ${local.peakRss()} bytes`);
    assert.doesNotMatch(local.stderr(), /internal error|stack|\n\s+at /i);
  } finally {
    await local.stop();
  }
});
