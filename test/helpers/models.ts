// Hostile model files and artifacts for the reliability and fuzz tests, generated in the test (nothing large is
// committed): a tiny UBJSON writer (the same document as xgboost's JSON), header patches for the legacy binary format,
// hand-written tar archives (any header, any trailing bytes) and gzip bombs built from repeated compressed blocks.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Header } from 'tar';
import { ROOT } from './cli.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'xgboost');
export const MODELS = path.join(FIXTURES, 'models');
export const DENSE_CSV = fs.readFileSync(path.join(FIXTURES, 'data', 'dense.csv'), 'utf8').trimEnd();

export function fixture(model: string, format: 'json' | 'ubj' | 'binary'): Buffer {
  return fs.readFileSync(path.join(MODELS, model, format === 'binary' ? 'xgboost-model' : `xgboost-model.${format}`));
}

export function fixtureJson(model: string): any {
  return JSON.parse(fixture(model, 'json').toString('utf8'));
}

/** UBJSON as xgboost writes it: keys with an int64 length, typed arrays for numbers, float32 for fractions. */
export function toUbjson(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const int64 = (n: number) => {
    const b = Buffer.alloc(9);
    b[0] = 0x4c;
    b.writeBigInt64BE(BigInt(n), 1);
    return b;
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    return Buffer.concat([int64(bytes.length), bytes]);
  };
  const num = (n: number) => {
    if (Number.isInteger(n) && Math.abs(n) < 2 ** 53) return int64(n);
    const b = Buffer.alloc(5);
    b[0] = 0x64;
    b.writeFloatBE(n, 1);
    return b;
  };
  const write = (v: unknown): void => {
    if (v === null) parts.push(Buffer.from('Z'));
    else if (v === true) parts.push(Buffer.from('T'));
    else if (v === false) parts.push(Buffer.from('F'));
    else if (typeof v === 'number') parts.push(num(v));
    else if (typeof v === 'string') parts.push(Buffer.from('S'), str(v));
    else if (Array.isArray(v)) {
      if (v.length > 0 && v.every((x) => typeof x === 'number')) {
        const ints = v.every((x) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31);
        const body = Buffer.alloc(v.length * 4);
        v.forEach((x, i) => (ints ? body.writeInt32BE(x, i * 4) : body.writeFloatBE(x, i * 4)));
        parts.push(Buffer.from(ints ? '[$l#' : '[$d#'), int64(v.length), body);
      } else {
        parts.push(Buffer.from('[#'), int64(v.length));
        for (const x of v) write(x);
      }
    } else if (typeof v === 'object') {
      parts.push(Buffer.from('{'));
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        parts.push(str(k));
        write(x);
      }
      parts.push(Buffer.from('}'));
    }
  };
  write(value);
  return Buffer.concat(parts);
}

/** Offset of the legacy binary's LearnerModelParam (after the optional "binf" magic). */
export function binaryHeaderOffset(bytes: Buffer): number {
  return bytes.subarray(0, 4).toString('latin1') === 'binf' ? 4 : 0;
}

export interface TarEntry {
  path: string;
  data?: Buffer;
  /** Declared size, when it differs from the data's (a lie). */
  size?: number;
  type?: 'File' | 'Directory';
}

/** A tar archive written by hand: headers as given, data padded to 512 bytes, the end marker, then `trailing`. */
export function tar(entries: TarEntry[], trailing = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const block = Buffer.alloc(512);
    new Header({ path: e.path, type: e.type ?? 'File', size: e.size ?? data.length, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }).encode(block, 0);
    parts.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024), trailing);
  return Buffer.concat(parts);
}

export function tarGz(entries: TarEntry[]): Buffer {
  return zlib.gzipSync(tar(entries));
}

/**
 * A gzip member whose inflated stream is `head`, then `zeros` zero bytes, then `tail`, built without ever holding the
 * zeros: a deflate stream of 1 MiB of zeros is compressed once and repeated (full-flush blocks can be concatenated),
 * so a 1 GiB bomb is about 1 MB.
 */
export function gzipBomb(head: Buffer, zeros: number, tail: Buffer = Buffer.alloc(0)): Buffer {
  const MiB = 1024 * 1024;
  const deflate = (data: Buffer) => zlib.deflateRawSync(data, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  const zeroBlock = deflate(Buffer.alloc(MiB));
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), deflate(head)];
  let crc = crc32(head, 0);
  const zeroCrcMiB = Buffer.alloc(MiB);
  let left = zeros;
  while (left >= MiB) {
    parts.push(zeroBlock);
    crc = crc32(zeroCrcMiB, crc);
    left -= MiB;
  }
  if (left > 0) {
    parts.push(deflate(Buffer.alloc(left)));
    crc = crc32(Buffer.alloc(left), crc);
  }
  parts.push(zlib.deflateRawSync(tail)); // ends with a final block
  crc = crc32(tail, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((head.length + zeros + tail.length) % 2 ** 32, 4);
  parts.push(trailer);
  return Buffer.concat(parts);
}

/** zlib.crc32 where Node has it (20.15+), else a table. */
function crc32(data: Buffer, value: number): number {
  const z = zlib as unknown as { crc32?: (d: Buffer, v: number) => number };
  if (z.crc32) return z.crc32(data, value);
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A 512-byte tar header for a file of `size` bytes (for bombs: the data follows as zeros). */
export function tarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  new Header({ path: name, type: 'File', size, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }).encode(block, 0);
  return block;
}

/** Seeded pseudo-random numbers (an LCG), for reproducible mutations. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One tree of a legacy binary model, per node: children (-1 for a leaf), split feature and default direction, split condition or leaf value. */
export interface LegacyTree {
  left: number[];
  right: number[];
  feature: number[];
  condition: number[];
  defaultLeft: number[];
  /** Parent of each node (not read by mme; -1 when not given). */
  parent?: number[];
}

/** A legacy binary XGBoost model (binary:logistic, gbtree, tree_info all 0) of the given trees, with zeroed statistics. */
export function legacyBinaryModel(trees: LegacyTree[], features: number): Buffer {
  const name = (text: string) => {
    const b = Buffer.alloc(8 + text.length);
    b.writeUInt32LE(text.length, 0);
    b.write(text, 8, 'latin1');
    return b;
  };
  const learner = Buffer.alloc(4 + 136); // "binf", then LearnerModelParam
  learner.write('binf', 0, 'latin1');
  learner.writeFloatLE(0.5, 4); // base_score
  learner.writeUInt32LE(features, 8);
  learner.writeInt32LE(1, 24); // major version
  learner.writeUInt32LE(1, 32); // num_target
  const gbtree = Buffer.alloc(160);
  gbtree.writeInt32LE(trees.length, 0);
  const parts = [learner, name('binary:logistic'), name('gbtree'), gbtree];
  for (const tree of trees) {
    const n = tree.left.length;
    const bytes = Buffer.alloc(148 + n * 36); // TreeParam, then Node (20 bytes) per node, then statistics (16 each)
    bytes.writeInt32LE(n, 4);
    bytes.writeInt32LE(features, 12);
    for (let i = 0; i < n; i++) {
      const p = 148 + i * 20;
      bytes.writeInt32LE(tree.parent?.[i] ?? -1, p);
      bytes.writeInt32LE(tree.left[i], p + 4);
      bytes.writeInt32LE(tree.right[i], p + 8);
      bytes.writeUInt32LE((tree.feature[i] | (tree.defaultLeft[i] ? 0x80000000 : 0)) >>> 0, p + 12);
      bytes.writeFloatLE(tree.condition[i], p + 16);
    }
    parts.push(bytes);
  }
  parts.push(Buffer.alloc(4 * trees.length));
  return Buffer.concat(parts);
}

/**
 * A legacy binary XGBoost model (binary:logistic, gbtree, the format SageMaker's container writes) of `trees` full
 * trees of depth `depth` with random splits: a large model in well under a second, without python.
 */
export function bigLegacyModel(trees: number, depth: number, features: number): Buffer {
  let seed = 1;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const nodes = 2 ** (depth + 1) - 1;
  const inner = 2 ** depth - 1;
  const all: LegacyTree[] = [];
  for (let t = 0; t < trees; t++) {
    const tree: Required<LegacyTree> = { left: [], right: [], feature: [], condition: [], defaultLeft: [], parent: [] };
    for (let i = 0; i < nodes; i++) {
      const split = i < inner;
      tree.parent.push(i === 0 ? -1 : (i - 1) >> 1);
      tree.left.push(split ? 2 * i + 1 : -1);
      tree.right.push(split ? 2 * i + 2 : -1);
      tree.feature.push(split ? Math.floor(rand() * features) : 0);
      tree.defaultLeft.push(split && rand() < 0.5 ? 1 : 0);
      tree.condition.push(split ? rand() * 2 - 1 : (rand() - 0.5) * 0.1);
    }
    all.push(tree);
  }
  return legacyBinaryModel(all, features);
}
