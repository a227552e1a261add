// The two ways trees are compiled give the same arrays: the legacy binary reader's (node records compiled on their
// float32 bits, default-left splits chosen by a mask) and the JSON/UBJSON readers' (per-node arrays of numbers).
// Run: npm run build && node --import tsx --test test/xgboost-compile.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadModelBytes, loadModelPath, type CompiledModel } from '../src/local/runtimes/xgboost/index.js';
import { bigLegacyModel, fixtureJson, legacyBinaryModel, MODELS, type LegacyTree } from './helpers/models.js';

/** The compiled trees, every array in full (-0 and NaN kept apart from 0 and null). */
function treesOf(model: CompiledModel): string {
  return JSON.stringify(model.trees, (_k, v) =>
    ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>, (x) => (Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : x)) : v,
  );
}

/** The same model as xgboost's JSON, non-finite numbers and -0 as the bare tokens the reader takes. */
function jsonModel(trees: LegacyTree[], features: number): Buffer {
  const doc = fixtureJson('binary_logistic');
  doc.learner.learner_model_param.num_feature = String(features);
  const model = doc.learner.gradient_booster.model;
  model.gbtree_model_param.num_trees = String(trees.length);
  model.tree_info = trees.map(() => 0);
  model.trees = trees.map((tree, id) => ({
    id,
    left_children: tree.left,
    right_children: tree.right,
    split_indices: tree.feature,
    split_conditions: tree.condition.map((x) => (Object.is(x, -0) ? '@-0.0' : Number.isFinite(x) ? x : `@${x}`)),
    default_left: tree.defaultLeft,
    split_type: tree.left.map(() => 0),
    categories: [],
    categories_nodes: [],
    categories_segments: [],
    categories_sizes: [],
    tree_param: { num_nodes: String(tree.left.length), num_feature: String(features), size_leaf_vector: '0' },
  }));
  return Buffer.from(JSON.stringify(doc).replace(/"@([^"]+)"/g, '$1'));
}

const SMALLEST = 2 ** -149; // the smallest float32 subnormal
const LARGEST = 3.4028234663852886e38; // the largest finite float32

/**
 * A full tree of depth 5 whose splits take every edge threshold with both default directions (missing left: the
 * compiled threshold is the next float32 above -threshold, worked out on the bits) and whose leaves are edge values.
 */
function edgeTree(thresholds: number[], features: number): LegacyTree {
  const leaves = [0, -0, SMALLEST, -SMALLEST, 1.5, -1.5, LARGEST, -LARGEST];
  const splits = 31;
  const tree: LegacyTree = { left: [], right: [], feature: [], condition: [], defaultLeft: [] };
  for (let i = 0; i < 2 * splits + 1; i++) {
    const split = i < splits;
    tree.left.push(split ? 2 * i + 1 : -1);
    tree.right.push(split ? 2 * i + 2 : -1);
    tree.feature.push(split ? i % features : 0);
    tree.condition.push(split ? thresholds[i % thresholds.length] : leaves[i % leaves.length]);
    tree.defaultLeft.push(split && Math.floor(i / thresholds.length) % 2 === 1 ? 1 : 0);
  }
  return tree;
}

/** The smallest float32 greater than x, by a Float32Array round trip (as the compiler did before it worked on bits). */
function nextUp(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Int32Array(f.buffer);
  if (x === 0) bits[0] = 1;
  else bits[0] += f[0] > 0 ? 1 : -1;
  return f[0];
}

/**
 * Walks compiled tree `t` along its source tree and checks every node against compile.ts's layout: children
 * adjacent, the one missing values go to second; default-left splits on the negated value's column against
 * nextUp(-threshold); non-finite thresholds as special splits; leaves pointing to themselves.
 */
function checkLayout(model: CompiledModel, t: number, tree: LegacyTree, features: number): void {
  const { words, values, roots, negatedFeatures } = model.trees!;
  const walk = (w: number, id: number): void => {
    const at = `tree ${t} node ${id}`;
    if (tree.left[id] === -1) {
      assert.deepEqual([words[w], words[w + 1], values[w + 2], values[w + 3]], [features, w, Infinity, Math.fround(tree.condition[id])], at);
      return;
    }
    const feature = tree.feature[id];
    const threshold = Math.fround(tree.condition[id]);
    const missingLeft = tree.defaultLeft[id] === 1;
    if (!Number.isFinite(threshold)) {
      assert.deepEqual([words[w], words[w + 3]], [-(feature + 1), missingLeft ? 1 : 0], at);
      assert.ok(Object.is(values[w + 2], threshold), at);
    } else if (missingLeft) {
      assert.equal(negatedFeatures[words[w] - features - 1], feature, at);
      assert.equal(values[w + 2], nextUp(-threshold), at);
    } else {
      assert.equal(words[w], feature, at);
      assert.ok(Object.is(values[w + 2], threshold), at);
    }
    walk(words[w + 1], missingLeft ? tree.right[id] : tree.left[id]);
    walk(words[w + 1] + 4, missingLeft ? tree.left[id] : tree.right[id]);
  };
  walk(roots[t], 0);
}

describe('trees compile the same from legacy binary records as from JSON and UBJSON', () => {
  test('every fixture: all of its formats give the same trees', () => {
    let compared = 0;
    for (const dir of fs.readdirSync(MODELS)) {
      const files = fs.readdirSync(path.join(MODELS, dir)).filter((n) => n.startsWith('xgboost-model'));
      if (!files.includes('xgboost-model')) continue; // categorical models have no legacy binary
      const [first, ...rest] = files.map((name) => treesOf(loadModelPath(path.join(MODELS, dir, name))));
      for (const other of rest) assert.equal(other, first, dir);
      compared++;
    }
    assert.ok(compared >= 20, `${compared} fixtures`);
  });

  test('edge thresholds and leaves, both default directions, non-finite thresholds (special splits)', () => {
    const features = 7;
    const finite = [0, -0, SMALLEST, -SMALLEST, 1.5, -1.5, 0.1, -0.1, LARGEST, -LARGEST, 1, -1, 2 ** -126, -(2 ** -126)];
    const cases: [string, number[]][] = [
      ['finite thresholds', finite],
      ['with non-finite thresholds', [...finite, Infinity, -Infinity, NaN]],
    ];
    for (const [what, thresholds] of cases) {
      const trees = [edgeTree(thresholds, features), edgeTree([...thresholds].reverse(), features)];
      const binary = loadModelBytes(legacyBinaryModel(trees, features), 'xgboost-model');
      const json = loadModelBytes(jsonModel(trees, features), 'xgboost-model.json');
      assert.equal(binary.format, 'binary');
      assert.equal(json.format, 'json');
      assert.equal(treesOf(binary), treesOf(json), what);
      assert.equal(
        binary.trees?.hasSpecial,
        thresholds.some((x) => !Number.isFinite(x)),
        what,
      );
      trees.forEach((tree, t) => checkLayout(binary, t, tree, features));
      // the node buffer is not zeroed when allocated: what is past the last node must still be zeros
      const words = binary.trees!.words;
      assert.ok(words.buffer.byteLength > words.byteLength, 'a legacy binary bounds its node count by the bytes left');
      assert.ok(
        new Uint8Array(words.buffer, words.byteLength).every((b) => b === 0),
        what,
      );
    }
  });

  test('a default-left split on 0 or -0 compares the negated value with the smallest subnormal', () => {
    const features = 2;
    const tree: LegacyTree = {
      left: [1, 3, -1, -1, -1],
      right: [2, 4, -1, -1, -1],
      feature: [0, 1, 0, 0, 0],
      condition: [0, -0, 1, 2, 3],
      defaultLeft: [1, 1, 0, 0, 0],
    };
    for (const model of [
      loadModelBytes(legacyBinaryModel([tree], features), 'xgboost-model'),
      loadModelBytes(jsonModel([tree], features), 'xgboost-model.json'),
    ]) {
      const trees = model.trees!;
      // root (node 0) then its children in the order (right, left): node 1 is placed at slot 2
      assert.equal(trees.values[2], SMALLEST);
      assert.equal(trees.values[2 * 4 + 2], SMALLEST);
      assert.deepEqual(Array.from(trees.negatedFeatures), [0, 1]);
      assert.equal(trees.words[0], features + 1); // the negated column of feature 0
    }
  });
});

describe('the compiled placing code outlives the models it compiled', () => {
  test('a collection between two loads deoptimizes none of the placing functions (V8 holds their classes weakly)', () => {
    // Without a live instance of the compiler's classes, the collection that frees the last model also frees their
    // hidden classes, and V8 throws away every function optimized for them: the next load re-warms (6 ms of 20).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-deopt-'));
    try {
      const model = path.join(dir, 'xgboost-model');
      fs.writeFileSync(model, bigLegacyModel(40, 6, 20));
      const script = path.join(dir, 'loads.ts');
      const load = JSON.stringify(path.resolve('src/local/runtimes/xgboost/index.ts'));
      fs.writeFileSync(
        script,
        `import { loadModelPath } from ${load};
for (let i = 0; i < 300; i++) loadModelPath(${JSON.stringify(model)});
console.log('optimized');
globalThis.gc();
globalThis.gc();
loadModelPath(${JSON.stringify(model)});
`,
      );
      const out = execFileSync(process.execPath, ['--expose-gc', '--trace-deopt', '--import', 'tsx', script], { encoding: 'utf8' });
      const after = out.slice(out.indexOf('optimized'));
      const thrownAway = [...after.matchAll(/SharedFunctionInfo (\w+)>.*reason: weak objects/g)].map((m) => m[1]);
      assert.ok(out.includes('optimized'));
      for (const fn of ['compileRecords', 'placeSplit', 'addRecords']) assert.ok(!thrownAway.includes(fn), `${fn} was deoptimized: ${thrownAway}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
