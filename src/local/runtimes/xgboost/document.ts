/**
 * The parsed JSON/UBJSON model document (doc/model.schema in dmlc/xgboost) → ModelSource.
 * Both encodings carry the same document; only the container of each array differs (plain array or typed array).
 */
import { toNumber } from './json-reader.js';
import { checkDeclared, checkShape, MODEL_CAPS } from './caps.js';
import { fail, type BoosterName, type ModelFormat, type ModelSource, type TreeSource } from './source.js';

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function field(parent: Obj, key: string, where: string): unknown {
  const value = parent[key];
  if (value === undefined) fail(`missing '${where}.${key}'`);
  return value;
}

function objectField(parent: Obj, key: string, where: string): Obj {
  const value = field(parent, key, where);
  if (!isObject(value)) fail(`'${where}.${key}' is not an object`);
  return value;
}

function stringField(parent: Obj, key: string, where: string): string {
  const value = field(parent, key, where);
  if (typeof value !== 'string') fail(`'${where}.${key}' is not a string`);
  return value;
}

/** Integer parameters are strings in the document ("num_feature": "8"). */
function intParam(parent: Obj, key: string, where: string, fallback?: number): number {
  const raw = parent[key];
  if (raw === undefined && fallback !== undefined) return fallback;
  if (raw === undefined) fail(`missing '${where}.${key}'`);
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(`'${where}.${key}' is not a non-negative integer (${String(raw).slice(0, 40)})`);
  return value;
}

/** A numeric array: typed arrays pass through; plain arrays too unless they hold NaN/Infinity strings or booleans. */
function numbers(parent: Obj, key: string, where: string, expectedLength?: number): ArrayLike<number> {
  const value = field(parent, key, where);
  let out: ArrayLike<number>;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    out = value as unknown as ArrayLike<number>;
  } else if (Array.isArray(value)) {
    let plain = true;
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== 'number') {
        plain = false;
        break;
      }
    }
    if (plain) out = value as number[];
    else {
      const converted = new Float64Array(value.length);
      for (let i = 0; i < value.length; i++) converted[i] = toNumber(value[i]);
      out = converted;
    }
  } else {
    return fail(`'${where}.${key}' is not an array`);
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    fail(`'${where}.${key}' has ${out.length} entries, expected ${expectedLength}`);
  }
  return out;
}

/** base_score is "5E-1" (all versions) or "[5E-1,2E-1]" (xgboost 3.1+, one value per output). */
export function parseBaseScore(raw: unknown): number[] {
  if (typeof raw === 'number') return [raw];
  if (typeof raw !== 'string') return fail(`'learner_model_param.base_score' is not a string`);
  const text = raw.trim();
  const items = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1).split(',') : [text];
  const values = items.map((item) => Number(item.trim()));
  if (values.length === 0 || values.some((v, i) => items[i].trim() === '' || Number.isNaN(v))) {
    fail(`'learner_model_param.base_score' is not a number or a list of numbers: ${JSON.stringify(raw)}`);
  }
  return values;
}

export function sourceFromDocument(doc: unknown, format: ModelFormat): ModelSource {
  if (!isObject(doc)) return fail('the document is not an object');
  const learner = objectField(doc, 'learner', '');
  const params = objectField(learner, 'learner_model_param', 'learner');
  const objective = stringField(objectField(learner, 'objective', 'learner'), 'name', 'learner.objective');
  const gb = objectField(learner, 'gradient_booster', 'learner');
  const boosterName = stringField(gb, 'name', 'learner.gradient_booster');

  const base: Omit<ModelSource, 'booster' | 'trees' | 'treeInfo'> = {
    format,
    objective,
    baseScore: parseBaseScore(field(params, 'base_score', 'learner.learner_model_param')),
    baseScoreIsMargin: false,
    numFeature: intParam(params, 'num_feature', 'learner.learner_model_param'),
    numClass: intParam(params, 'num_class', 'learner.learner_model_param', 0),
    numTarget: intParam(params, 'num_target', 'learner.learner_model_param', 1),
  };
  // Before any tree is read: the declared shape decides the size of every buffer.
  checkShape(base, 'learner.learner_model_param.');

  switch (boosterName as BoosterName) {
    case 'gbtree':
      return { ...base, booster: 'gbtree', ...treesOf(objectField(gb, 'model', 'learner.gradient_booster'), 'learner.gradient_booster.model') };
    case 'dart': {
      const inner = objectField(gb, 'gbtree', 'learner.gradient_booster');
      const model = objectField(inner, 'model', 'learner.gradient_booster.gbtree');
      const trees = treesOf(model, 'learner.gradient_booster.gbtree.model');
      const weightDrop = numbers(gb, 'weight_drop', 'learner.gradient_booster', trees.trees.length);
      return { ...base, booster: 'dart', ...trees, weightDrop };
    }
    case 'gblinear': {
      const model = objectField(gb, 'model', 'learner.gradient_booster');
      return { ...base, booster: 'gblinear', trees: [], treeInfo: [], linearWeights: numbers(model, 'weights', 'learner.gradient_booster.model') };
    }
    default:
      return fail(`unsupported booster '${boosterName}' (supported: gbtree, dart, gblinear)`);
  }
}

function treesOf(model: Obj, where: string): { trees: TreeSource[]; treeInfo: ArrayLike<number> } {
  const rawTrees = field(model, 'trees', where);
  if (!Array.isArray(rawTrees)) fail(`'${where}.trees' is not an array`);
  checkDeclared(`'${where}.trees'`, rawTrees.length, MODEL_CAPS.trees);
  const declared = isObject(model.gbtree_model_param) ? model.gbtree_model_param.num_trees : undefined;
  if (declared !== undefined) {
    const n = checkDeclared(
      `'${where}.gbtree_model_param.num_trees'`,
      typeof declared === 'string' ? Number(declared) : (declared as number),
      MODEL_CAPS.trees,
    );
    if (n !== rawTrees.length) fail(`'${where}.gbtree_model_param.num_trees' is ${n} but the model has ${rawTrees.length} trees`);
  }
  const treeInfo = numbers(model, 'tree_info', where, rawTrees.length);
  // Trees are ordered by their id field, not by position (tree_info follows the same order).
  const order = rawTrees.map((tree, position) => ({ tree, position, id: isObject(tree) && tree.id !== undefined ? toNumber(tree.id) : position }));
  order.sort((a, b) => a.id - b.id);
  const trees = order.map(({ tree, position }) => treeOf(tree, `${where}.trees[${position}]`));
  return { trees, treeInfo };
}

function treeOf(tree: unknown, where: string): TreeSource {
  if (!isObject(tree)) return fail(`'${where}' is not an object`);
  const treeParam = isObject(tree.tree_param) ? tree.tree_param : {};
  const leafVector = intParam(treeParam, 'size_leaf_vector', `${where}.tree_param`, 0);
  if (leafVector > 1) fail(`${where} is a multi-target tree (size_leaf_vector ${leafVector}), which is not supported`);
  const left = numbers(tree, 'left_children', where);
  const n = left.length;
  if (n === 0) fail(`'${where}' has no nodes`);
  checkDeclared(`'${where}.left_children'`, n, MODEL_CAPS.nodesPerTree);
  const hasCategories = tree.categories_nodes !== undefined && lengthOf(tree.categories_nodes) > 0;
  return {
    left,
    right: numbers(tree, 'right_children', where, n),
    splitIndex: numbers(tree, 'split_indices', where, n),
    splitCondition: numbers(tree, 'split_conditions', where, n),
    defaultLeft: numbers(tree, 'default_left', where, n),
    splitType: tree.split_type !== undefined ? numbers(tree, 'split_type', where, n) : undefined,
    categories: hasCategories ? numbers(tree, 'categories', where) : undefined,
    categoriesNodes: hasCategories ? numbers(tree, 'categories_nodes', where) : undefined,
    categoriesSegments: hasCategories ? numbers(tree, 'categories_segments', where) : undefined,
    categoriesSizes: hasCategories ? numbers(tree, 'categories_sizes', where) : undefined,
  };
}

function lengthOf(value: unknown): number {
  return Array.isArray(value) || ArrayBuffer.isView(value) ? (value as ArrayLike<unknown>).length : 0;
}
