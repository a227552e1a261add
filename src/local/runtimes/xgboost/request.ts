/**
 * Request bodies → a dense float32 matrix (NaN = missing), following the SageMaker XGBoost container
 * (aws/sagemaker-xgboost-container: encoder.csv_to_dmatrix and serve_utils._get_sparse_matrix_from_libsvm):
 *
 * - text/csv: the body is stripped, split into lines; the delimiter is sniffed from the first line; no header,
 *   every column is a feature; an empty field is missing; values are parsed as float64 then stored as float32.
 * - text/libsvm, text/x-libsvm: per line, tokens without ':' (the label) are ignored; `index:value` pairs use
 *   0-based feature indices; absent features are missing.
 *
 * Unlike the container (which answers 415 for any parse failure and lets ragged rows surface as numpy errors),
 * every problem is a 400 naming the row and column, and rows must have exactly the model's feature count.
 */
import { MAX_REQUEST_VALUES } from './caps.js';
import { ModelRequestError } from '../types.js';

export type RequestKind = 'csv' | 'libsvm';

export interface DecodedRows {
  /** nRows * nCols values, row-major; NaN = missing. */
  rows: Float32Array;
  nRows: number;
  nCols: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const SUPPORTED_CONTENT_TYPES = 'text/csv, text/libsvm, text/x-libsvm';

/** The media type of a Content-Type header, lower-cased and without parameters. Missing = text/csv. */
export function requestKind(contentType: string | undefined): RequestKind {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media === '' || media === 'text/csv' || media === 'csv') return 'csv';
  if (media === 'text/libsvm' || media === 'text/x-libsvm' || media === 'libsvm') return 'libsvm';
  if (media === 'application/x-recordio-protobuf') {
    throw new ModelRequestError(
      415,
      `Content-Type ${media} is accepted by the SageMaker XGBoost container but not by mme's local runtime; use ${SUPPORTED_CONTENT_TYPES}`,
    );
  }
  throw new ModelRequestError(415, `Content-Type '${contentType}' is not supported; use ${SUPPORTED_CONTENT_TYPES}`);
}

export function decodeRequest(body: Uint8Array, contentType: string | undefined, numFeatures: number): DecodedRows {
  const kind = requestKind(contentType);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new ModelRequestError(400, 'the request body is not valid UTF-8 text');
  }
  text = text.trim();
  // The container's NoContentInferenceError (multi-model mode), which SageMaker reports inside a ModelError.
  if (text === '') throw new ModelRequestError(204, 'the request body is empty');
  return kind === 'csv' ? decodeCsv(text, numFeatures) : decodeLibsvm(text, numFeatures);
}

/**
 * Delimiter of the first line, as Python's csv.Sniffer picks it for a single line of numbers: the first of
 * ',', '\t', ';', ' ', ':' that occurs; comma when none does (a single column).
 */
export function sniffDelimiter(firstLine: string): string {
  const sample = firstLine.slice(0, 512);
  for (const candidate of [',', '\t', ';', ' ', ':']) if (sample.includes(candidate)) return candidate;
  if (sample.includes('|')) return '|';
  return ',';
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Python float() syntax (what the container accepts): decimals, exponents, nan, inf, infinity. undefined = invalid. */
export function parseNumber(field: string): number | undefined {
  const s = field.trim();
  if (DECIMAL.test(s)) return Number(s);
  switch (s.toLowerCase()) {
    case 'nan':
    case '+nan':
    case '-nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

function quote(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown).replace(/^"|"$/g, "'");
}

/** Exact powers of ten in float64 (10^22 is the largest). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 11 || code === 12;
}

/**
 * The number in text[start, end), surrounding whitespace ignored; NaN for an empty field, undefined if invalid.
 * Fast path (Clinger): at most 15 significant digits and a decimal exponent within ±22 make mantissa × 10^e (or
 * ÷ 10^-e) one correctly rounded float64 operation, i.e. exactly what parsing as float64 gives. Anything else
 * valid decimal goes to Number(); nan, inf and errors go through parseNumber.
 */
function parseNumberAt(text: string, start: number, end: number): number | undefined {
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  if (start === end) return NaN;
  let i = start;
  let code = text.charCodeAt(i);
  let negative = false;
  if (code === 45 /* - */ || code === 43 /* + */) {
    negative = code === 45;
    code = text.charCodeAt(++i);
  }
  let mantissa = 0;
  let significant = 0;
  let exponent = 0;
  let digits = 0;
  while (code >= 48 && code <= 57) {
    if (mantissa !== 0 || code !== 48) {
      mantissa = mantissa * 10 + (code - 48);
      significant++;
    }
    digits++;
    code = text.charCodeAt(++i);
  }
  if (code === 46 /* . */) {
    code = text.charCodeAt(++i);
    while (code >= 48 && code <= 57) {
      if (mantissa !== 0 || code !== 48) {
        mantissa = mantissa * 10 + (code - 48);
        significant++;
      }
      exponent--;
      digits++;
      code = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return parseNumber(text.slice(start, end));
  if (code === 101 /* e */ || code === 69 /* E */) {
    code = text.charCodeAt(++i);
    let expNegative = false;
    if (code === 45 || code === 43) {
      expNegative = code === 45;
      code = text.charCodeAt(++i);
    }
    let value = 0;
    let expDigits = 0;
    while (code >= 48 && code <= 57 && expDigits < 6) {
      value = value * 10 + (code - 48);
      expDigits++;
      code = text.charCodeAt(++i);
    }
    if (expDigits === 0) return undefined;
    exponent += expNegative ? -value : value;
  }
  if (i !== end) return parseNumber(text.slice(start, end));
  // valid decimal syntax (which Number() accepts as is) beyond the exact fast path
  if (significant > 15 || exponent > 22 || exponent < -22) return Number(text.slice(start, end));
  const magnitude = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
  return negative ? -magnitude : magnitude;
}

function decodeCsv(text: string, numFeatures: number): DecodedRows {
  const firstNewline = text.indexOf('\n');
  const delimiter = sniffDelimiter(firstNewline < 0 ? text : text.slice(0, firstNewline));
  const delimiterCode = delimiter.charCodeAt(0);
  let nRows = 1;
  for (let at = firstNewline; at >= 0; at = text.indexOf('\n', at + 1)) nRows++;
  checkRequestSize(nRows, numFeatures);
  const rows = new Float32Array(nRows * numFeatures);
  let lineStart = 0;
  for (let r = 0; r < nRows; r++) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const nextLine = lineEnd + 1;
    if (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const base = r * numFeatures;
    let column = 0;
    let fieldStart = lineStart;
    for (;;) {
      let fieldEnd = fieldStart;
      while (fieldEnd < lineEnd && text.charCodeAt(fieldEnd) !== delimiterCode) fieldEnd++;
      if (column < numFeatures) {
        const value = parseNumberAt(text, fieldStart, fieldEnd);
        if (value === undefined) {
          throw new ModelRequestError(400, `row ${r + 1}, column ${column + 1}: ${quote(text.slice(fieldStart, fieldEnd).trim())} is not a number`);
        }
        rows[base + column] = value;
      }
      column++;
      if (fieldEnd >= lineEnd) break;
      fieldStart = fieldEnd + 1;
    }
    if (column !== numFeatures) {
      const what = text.slice(lineStart, lineEnd).trim() === '' ? 'is empty' : `has ${column} value${column === 1 ? '' : 's'}`;
      throw new ModelRequestError(400, `row ${r + 1} ${what}; the model expects ${numFeatures} features per row (delimiter ${quote(delimiter)}, no header)`);
    }
    lineStart = nextLine;
  }
  return { rows, nRows, nCols: numFeatures };
}

/** Refuses, before allocating, a request whose dense rows would exceed MAX_REQUEST_VALUES. */
function checkRequestSize(nRows: number, numFeatures: number): void {
  if (nRows * numFeatures > MAX_REQUEST_VALUES) {
    throw new ModelRequestError(
      400,
      `${nRows} rows × ${numFeatures} features is more than the ${MAX_REQUEST_VALUES} values scored in one request; send fewer rows per request`,
    );
  }
}

const INDEX = /^\+?\d+$/;

function decodeLibsvm(text: string, numFeatures: number): DecodedRows {
  const lines = text.split('\n');
  const nRows = lines.length;
  checkRequestSize(nRows, numFeatures);
  const rows = new Float32Array(nRows * numFeatures).fill(NaN);
  const seen = new Int32Array(numFeatures).fill(-1);
  for (let r = 0; r < nRows; r++) {
    const tokens = lines[r].trim().split(/[ \t]+/);
    const base = r * numFeatures;
    for (let k = 0; k < tokens.length; k++) {
      const token = tokens[k];
      const colon = token.indexOf(':');
      if (colon < 0) continue; // the label (or an empty line)
      const indexText = token.slice(0, colon);
      const valueText = token.slice(colon + 1);
      const where = `row ${r + 1}, item ${k + 1} (${quote(token)})`;
      if (!INDEX.test(indexText)) throw new ModelRequestError(400, `${where}: ${quote(indexText)} is not a feature index`);
      const index = Number(indexText);
      if (index >= numFeatures) {
        throw new ModelRequestError(
          400,
          `${where}: feature index ${index} is out of range; the model has ${numFeatures} features (0-based indices 0..${numFeatures - 1})`,
        );
      }
      const value = valueText.includes(':') || valueText.trim() === '' ? undefined : parseNumberAt(valueText, 0, valueText.length);
      if (value === undefined) throw new ModelRequestError(400, `${where}: ${quote(valueText)} is not a number`);
      if (seen[index] === r) throw new ModelRequestError(400, `${where}: feature index ${index} appears twice in the row`);
      seen[index] = r;
      rows[base + index] = value;
    }
  }
  return { rows, nRows, nCols: numFeatures };
}
