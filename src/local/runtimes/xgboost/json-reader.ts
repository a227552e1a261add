/**
 * JSON text → JS value, tolerating the bare `NaN`, `Infinity` and `-Infinity` tokens xgboost writes for
 * non-finite numbers (src/common/charconv.cc). JSON.parse rejects them, so they are first rewritten to the strings
 * "NaN" / "Infinity" / "-Infinity" (which {@link toNumber} turns back into numbers). Only tokens outside string
 * literals are touched; the common case (no such tokens) goes straight to the native JSON.parse.
 */
import { fail } from './source.js';

const TOKEN = /-?Infinity|NaN/g;

export function parseTolerantJson(text: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark
  const prepared = text.indexOf('NaN') < 0 && text.indexOf('Infinity') < 0 ? text : quoteBareTokens(text);
  try {
    return JSON.parse(prepared);
  } catch (error) {
    const message = (error as Error).message;
    // V8 reports a cut-off document as "Unexpected end of JSON input" or as an error at its last position
    const position = Number(/position (\d+)/.exec(message)?.[1] ?? -1);
    if (/end of (JSON )?input|Unterminated/i.test(message) || position >= prepared.length - 1) {
      fail(`truncated JSON (${message})`);
    }
    return fail(`invalid JSON (${message})`);
  }
}

/** Numbers in a parsed document: plain numbers, or the strings produced by quoteBareTokens. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return fail(`expected a number, found ${JSON.stringify(value)?.slice(0, 40)}`);
}

/**
 * Wrap bare tokens in quotes. String state is tracked by walking the quote characters between matches with
 * indexOf, so the cost is proportional to the number of strings and tokens, not to the document size.
 */
function quoteBareTokens(text: string): string {
  const parts: string[] = [];
  let copiedUpTo = 0;
  let scannedUpTo = 0; // every quote before this index has been accounted for
  let inString = false;
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const at = match.index;
    // advance the string state to `at`
    for (let q = text.indexOf('"', scannedUpTo); q !== -1 && q < at; q = text.indexOf('"', q + 1)) {
      if (!isEscaped(text, q)) inString = !inString;
      scannedUpTo = q + 1;
    }
    if (scannedUpTo < at) scannedUpTo = at;
    if (inString) continue;
    parts.push(text.slice(copiedUpTo, at), '"', match[0], '"');
    copiedUpTo = at + match[0].length;
  }
  parts.push(text.slice(copiedUpTo));
  return parts.join('');
}

function isEscaped(text: string, quoteAt: number): boolean {
  let backslashes = 0;
  for (let i = quoteAt - 1; i >= 0 && text.charCodeAt(i) === 92; i--) backslashes++;
  return backslashes % 2 === 1;
}
