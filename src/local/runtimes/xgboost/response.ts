/**
 * Predictions → response body, in the SageMaker XGBoost container's formats.
 *
 * The container answers `",".join(map(str, preds.tolist()))`: each float32 prediction printed as Python prints the
 * equivalent float64 (shortest round-trip repr: "0.8916541337966919", "1.0", "1e-05"), rows joined by ","; a
 * multi-class probability row is a Python list, "[0.1, 0.2, 0.7]". application/json is json.dumps of the same list
 * (nested per row for multi-class). Accept: missing, `*\/*` or `text/*` = text/csv here; the endpoint (server.ts)
 * first turns a missing or `*\/*` Accept into its default accept (application/json, as the container in multi-model
 * mode), so this fallback only serves `mme predict`.
 */
import { ModelRequestError } from '../types.js';

export type ResponseKind = 'csv' | 'json';

const SUPPORTED_ACCEPTS = 'text/csv, application/json';

/** First supported media type of an Accept header (q-values ignored). */
export function responseKind(accept: string | undefined): ResponseKind {
  const header = (accept ?? '').trim();
  if (header === '') return 'csv';
  for (const item of header.split(',')) {
    const media = item.split(';')[0].trim().toLowerCase();
    if (media === 'text/csv' || media === '*/*' || media === 'text/*' || media === '') return 'csv';
    if (media === 'application/json' || media === 'application/*') return 'json';
  }
  // The container's UnsupportedMediaTypeInferenceError.
  throw new ModelRequestError(415, `Accept '${accept}' is not supported; use ${SUPPORTED_ACCEPTS}`);
}

function contentTypeOf(kind: ResponseKind): string {
  return kind === 'csv' ? 'text/csv' : 'application/json';
}

/** Python's repr() of a float (what str() and json.dumps print for finite values). */
export function pythonFloatRepr(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // shortest round-trip digits, as Python's repr uses
  const exponential = x.toExponential();
  const ePos = exponential.indexOf('e');
  let mantissa = exponential.slice(0, ePos);
  const exponent = Number(exponential.slice(ePos + 1));
  const sign = mantissa.startsWith('-') ? '-' : '';
  if (sign) mantissa = mantissa.slice(1);
  const digits = mantissa.replace('.', '');
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const integer = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const fraction = digits.slice(exponent + 1);
    return `${sign}${integer}.${fraction === '' ? '0' : fraction}`;
  }
  const scientific = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expText = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${scientific}e${exponent < 0 ? '-' : '+'}${expText}`;
}

/** json.dumps of a float: repr, except NaN/Infinity/-Infinity. */
function jsonFloat(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pythonFloatRepr(x);
}

export function encodeResponse(
  predictions: Float32Array,
  nRows: number,
  outputsPerRow: number,
  accept: string | undefined,
): { body: Uint8Array; contentType: string } {
  const kind = responseKind(accept);
  const format = kind === 'csv' ? pythonFloatRepr : jsonFloat;
  const items: string[] = new Array(nRows);
  for (let r = 0; r < nRows; r++) {
    if (outputsPerRow === 1) {
      items[r] = format(predictions[r]);
    } else {
      const row: string[] = new Array(outputsPerRow);
      for (let k = 0; k < outputsPerRow; k++) row[k] = format(predictions[r * outputsPerRow + k]);
      items[r] = `[${row.join(', ')}]`;
    }
  }
  const text = kind === 'csv' ? items.join(',') : `[${items.join(', ')}]`;
  return { body: Buffer.from(text, 'utf8'), contentType: contentTypeOf(kind) };
}
