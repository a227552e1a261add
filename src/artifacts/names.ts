import { usageError } from '../output/errors.js';

/** Why a name breaks the TargetModel rules (the first problem found), for each caller to word its own way. */
export type ModelNameProblem =
  | { kind: 'length' }
  | { kind: 'whitespace' }
  /** `position`: 1-based, in characters (code points). */
  | { kind: 'character'; position: number }
  | { kind: 'dot-segment' }
  | { kind: 'empty-segment' };

/**
 * TargetModel rules (sagemaker-runtime: 1..1024 characters, `\A\S[\p{Print}]*\z`, where Java's \p{Print} is
 * printable ASCII), plus what makes a safe object key: no "..", empty or leading "/" segments.
 */
export function modelNameProblem(name: string): ModelNameProblem | undefined {
  if (name.length < 1 || name.length > 1024) return { kind: 'length' };
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(name)) {
    if (/^\s/.test(name)) return { kind: 'whitespace' };
    return { kind: 'character', position: [...name].findIndex((c) => c < ' ' || c > '~') + 1 };
  }
  const segments = name.split('/');
  if (segments.includes('..') || segments.includes('.')) return { kind: 'dot-segment' };
  if (segments.includes('')) return { kind: 'empty-segment' };
  return undefined;
}

/** The name, when it follows the TargetModel rules ({@link modelNameProblem}); else a usage error. */
export function checkModelName(name: string, where = 'model name'): string {
  const problem = modelNameProblem(name);
  if (problem === undefined) return name;
  const fix = 'Use printable ASCII such as "m37.tar.gz" or "v2/m37.tar.gz".';
  const shown = `${where} "${short(name)}"`;
  switch (problem.kind) {
    case 'length':
      throw usageError(`${shown} must be 1 to 1024 characters (it has ${name.length}).`, fix);
    case 'whitespace':
      throw usageError(`${shown} starts with whitespace.`, fix);
    case 'character':
      throw usageError(`${shown} has a non-printable or non-ASCII character at position ${problem.position}.`, fix);
    case 'dot-segment':
      throw usageError(`${shown} has a "." or ".." segment.`, fix);
    case 'empty-segment':
      throw usageError(`${shown} has an empty path segment (leading, trailing or doubled "/").`, fix);
  }
}

function short(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 60 ? printable.slice(0, 57) + '...' : printable;
}
