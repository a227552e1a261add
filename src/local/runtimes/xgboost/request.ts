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
import { ModelRequestError } from '../types.js';

export type RequestKind = 'csv' | 'libsvm';

export interface DecodedRows {
  /** nRows * nCols values, row-major; NaN = missing. */
  rows: Float32Array;
  nRows: number;
  nCols: number;
}

const SUPPORTED_CONTENT_TYPES = 'text/csv, text/libsvm, text/x-libsvm';

/** The media type of a Content-Type header, lower-cased and without parameters. Missing = text/csv. */
export function requestKind(contentType: string | undefined): RequestKind {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media === '' || media === 'text/csv' || media === 'csv') return 'csv';
  if (media === 'text/libsvm' || media === 'text/x-libsvm' || media === 'libsvm') return 'libsvm';
  if (media === 'application/x-recordio-protobuf') {
    throw new ModelRequestError(415, `Content-Type ${media} is accepted by the SageMaker XGBoost container but not by mme's local runtime; use ${SUPPORTED_CONTENT_TYPES}`);
  }
  throw new ModelRequestError(415, `Content-Type '${contentType}' is not supported; use ${SUPPORTED_CONTENT_TYPES}`);
}

export function decodeRequest(body: Uint8Array, contentType: string | undefined, numFeatures: number): DecodedRows {
  const kind = requestKind(contentType);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new ModelRequestError(400, 'the request body is not valid UTF-8 text');
  }
  text = text.trim();
  if (text === '') throw new ModelRequestError(400, 'the request body is empty');
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

function decodeCsv(text: string, numFeatures: number): DecodedRows {
  const lines = text.split('\n');
  const delimiter = sniffDelimiter(lines[0]);
  const nRows = lines.length;
  const rows = new Float32Array(nRows * numFeatures);
  for (let r = 0; r < nRows; r++) {
    let line = lines[r];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const fields = line.split(delimiter);
    if (fields.length !== numFeatures) {
      const what = line.trim() === '' ? 'is empty' : `has ${fields.length} value${fields.length === 1 ? '' : 's'}`;
      throw new ModelRequestError(400, `row ${r + 1} ${what}; the model expects ${numFeatures} features per row (delimiter ${quote(delimiter)}, no header)`);
    }
    const base = r * numFeatures;
    for (let c = 0; c < numFeatures; c++) {
      const field = fields[c];
      if (field.length === 0) {
        rows[base + c] = NaN;
        continue;
      }
      const value = parseNumber(field);
      if (value === undefined) {
        if (field.trim() === '') {
          rows[base + c] = NaN;
          continue;
        }
        throw new ModelRequestError(400, `row ${r + 1}, column ${c + 1}: ${quote(field.trim())} is not a number`);
      }
      rows[base + c] = value;
    }
  }
  return { rows, nRows, nCols: numFeatures };
}

const INDEX = /^\+?\d+$/;

function decodeLibsvm(text: string, numFeatures: number): DecodedRows {
  const lines = text.split('\n');
  const nRows = lines.length;
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
        throw new ModelRequestError(400, `${where}: feature index ${index} is out of range; the model has ${numFeatures} features (0-based indices 0..${numFeatures - 1})`);
      }
      const value = valueText.includes(':') ? undefined : parseNumber(valueText);
      if (value === undefined || valueText.trim() === '') throw new ModelRequestError(400, `${where}: ${quote(valueText)} is not a number`);
      if (seen[index] === r) throw new ModelRequestError(400, `${where}: feature index ${index} appears twice in the row`);
      seen[index] = r;
      rows[base + index] = value;
    }
  }
  return { rows, nRows, nCols: numFeatures };
}
