/**
 * Model bytes → CompiledModel. The format is detected from the bytes, as xgboost's Learner::LoadModel does:
 * `{` + `"` is JSON, `{` + a UBJSON length marker is UBJSON, anything else is the legacy binary format.
 * Files xgboost itself cannot read without Python (pickles) or that are not models at all get a reason instead.
 */
import { compileModel, type CompileOptions, type CompiledModel } from './compile.js';
import { sourceFromDocument } from './document.js';
import { parseTolerantJson } from './json-reader.js';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { compileLegacyBinary, compileLegacyBinaryFile, LEGACY_HEAD_BYTES } from './binary-reader.js';
import { parseUbjson } from './ubjson-reader.js';
import { ModelFormatError, type ModelFormat, type ModelSource } from './source.js';
import { ModelLoadError } from '../types.js';

export type DetectedFormat = ModelFormat | 'pickle' | 'gzip' | 'zip' | 'empty';

export function detectFormat(bytes: Uint8Array): DetectedFormat {
  if (bytes.length === 0) return 'empty';
  const b0 = bytes[0];
  // Python pickle protocol 2-5 starts with PROTO (0x80) and the protocol number
  if (b0 === 0x80 && bytes.length > 1 && bytes[1] >= 2 && bytes[1] <= 5) return 'pickle';
  if (b0 === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (b0 === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'zip';
  let i = 0;
  if (b0 === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && isSpace(bytes[i])) i++;
  if (bytes[i] === 0x7b /* { */) {
    const next = bytes[i + 1];
    // UBJSON object keys start with an integer length marker; xgboost writes 'L'
    if (i === 0 && (next === 0x4c || next === 0x69 || next === 0x55 || next === 0x49 || next === 0x6c)) return 'ubj';
    return 'json';
  }
  return 'binary';
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

const PICKLE_REASON =
  "this is a pickled Python booster, which cannot be read without Python; re-save it with booster.save_model('xgboost-model.json') " +
  "(or save_model('xgboost-model') for the legacy binary format the SageMaker container also reads)";

/** Parse and compile one model file. Throws ModelLoadError naming `fileName` and the reason. */
export function loadModelBytes(bytes: Uint8Array, fileName: string, options?: CompileOptions): CompiledModel {
  const format = detectFormat(bytes);
  return explained(fileName, bytes, format, () =>
    format === 'binary' ? compileLegacyBinary(bytes, fileName, options) : compileModel(parseSource(bytes, format), fileName, options),
  );
}

/**
 * Read, parse and compile one model file: loadModelBytes of its bytes, except that a legacy binary file is read in
 * parts, compiled as they come in (compileLegacyBinaryFile).
 */
export function loadModelPath(file: string, fileName = path.basename(file), options?: CompileOptions): CompiledModel {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw unreadable(file, error);
  }
  try {
    const stat = fstatSync(fd);
    // a pipe or a device has no size to read by: read whole
    if (!stat.isFile()) return loadModelBytes(readFileSync(fd), fileName, options);
    const size = stat.size;
    const first = new Uint8Array(Math.min(size, LEGACY_HEAD_BYTES));
    const filled = readFully(fd, first, 0);
    // a first blank may begin a JSON document with more blanks than read here: left to the whole-file path
    if (detectFormat(first) === 'binary' && !isSpace(first[0])) {
      // the reader reuses `first` as its window: the message about a text file needs the file's start
      const start = first.slice(0, 256);
      return explained(fileName, start, 'binary', () => compileLegacyBinaryFile(fd, size, first, filled, fileName, options));
    }
    const bytes = new Uint8Array(size);
    bytes.set(first);
    return loadModelBytes(bytes.subarray(0, filled + readFully(fd, bytes, filled)), fileName, options);
  } catch (error) {
    throw error instanceof ModelLoadError || !(error as NodeJS.ErrnoException).code ? error : unreadable(file, error);
  } finally {
    closeSync(fd);
  }
}

function unreadable(file: string, error: unknown): ModelLoadError {
  return new ModelLoadError(file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
}

/** Reads into bytes[from..] until it is full or the file ends; the bytes read. */
function readFully(fd: number, bytes: Uint8Array, from: number): number {
  let at = from;
  for (let n = 1; at < bytes.length && n > 0; at += n) n = readSync(fd, bytes, at, bytes.length - at, at);
  return at - from;
}

/** Runs a compile, turning format errors into a ModelLoadError naming the file and the reason. */
function explained(fileName: string, bytes: Uint8Array, format: DetectedFormat, compile: () => CompiledModel): CompiledModel {
  try {
    return compile();
  } catch (error) {
    if (error instanceof ModelFormatError) throw new ModelLoadError(fileName, describeFailure(bytes, format, error.message));
    if (error instanceof RangeError) throw new ModelLoadError(fileName, `not a valid XGBoost model (${error.message})`);
    throw error;
  }
}

function parseSource(bytes: Uint8Array, format: Exclude<DetectedFormat, 'binary'>): ModelSource {
  switch (format) {
    case 'empty':
      throw new ModelFormatError('the file is empty');
    case 'pickle':
      throw new ModelFormatError(PICKLE_REASON);
    case 'gzip':
      throw new ModelFormatError('this is a gzip-compressed file (a model.tar.gz?); extract it first, a model file is not compressed');
    case 'zip':
      throw new ModelFormatError('this is a zip archive, not an XGBoost model');
    case 'json': {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      return sourceFromDocument(parseTolerantJson(text), 'json');
    }
    case 'ubj':
      return sourceFromDocument(parseUbjson(bytes), 'ubj');
  }
}

function describeFailure(bytes: Uint8Array, format: DetectedFormat, message: string): string {
  if (format === 'binary' && /^not an XGBoost model/.test(message) && looksLikeText(bytes)) {
    return 'not an XGBoost model: the file is text but not a JSON model (xgboost reads JSON, UBJSON or its legacy binary format)';
  }
  if (format === 'json' || format === 'ubj' || format === 'binary') return `${formatLabel(format)}: ${message}`;
  return message;
}

function formatLabel(format: ModelFormat): string {
  return format === 'json' ? 'JSON model' : format === 'ubj' ? 'UBJSON model' : 'legacy binary model';
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 256);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b < 0x09 || (b > 0x0d && b < 0x20)) return false;
  }
  return true;
}
