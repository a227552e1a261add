import { usageError } from '../output/errors.js';

/**
 * TargetModel rules (sagemaker-runtime: 1..1024 characters, `\A\S[\p{Print}]*\z`, where Java's \p{Print} is
 * printable ASCII), plus what makes a safe object key: no "..", empty or leading "/" segments.
 */
export function checkModelName(name: string, where = 'model name'): string {
  const fix = 'Use printable ASCII such as "m37.tar.gz" or "v2/m37.tar.gz".';
  if (name.length < 1 || name.length > 1024) throw usageError(`${where} "${short(name)}" must be 1 to 1024 characters (it has ${name.length}).`, fix);
  if (/^\s/.test(name)) throw usageError(`${where} "${short(name)}" starts with whitespace.`, fix);
  const bad = [...name].findIndex((c) => c < ' ' || c > '~');
  if (bad >= 0) throw usageError(`${where} "${short(name)}" has a non-printable or non-ASCII character at position ${bad + 1}.`, fix);
  const segments = name.split('/');
  if (segments.includes('..') || segments.includes('.')) throw usageError(`${where} "${short(name)}" has a "." or ".." segment.`, fix);
  if (segments.some((s) => s === '')) throw usageError(`${where} "${short(name)}" has an empty path segment (leading, trailing or doubled "/").`, fix);
  return name;
}

function short(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 60 ? printable.slice(0, 57) + '...' : printable;
}
