import { usageError } from '../output/errors.js';

/** Hex digits of the sha256 in a version's name: 48 bits, so two versions of one alias never share a name. */
export const HASH_DIGITS = 12;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
const VERSION = /^(.+)\/([0-9a-f]{12,64})\.tar\.gz$/;

/**
 * An alias names a model, not an artifact: letters, digits, ".", "_" and "-" (segments may be separated by "/"),
 * never ending in ".tar.gz", so that `--target m37` (an alias) and `--target m37.tar.gz` (a flat name) never clash.
 */
export function aliasProblem(alias: string): string | undefined {
  if (alias.length < 1 || alias.length > 200) return 'must be 1 to 200 characters';
  if (/\.tar\.gz$|\.tgz$/.test(alias)) return 'ends in .tar.gz (an alias names a model, e.g. "m37", not an artifact)';
  if (!alias.split('/').every((s) => SEGMENT.test(s))) return 'may hold only letters, digits, "_", "-", inner "." and "/" between segments';
  return undefined;
}

export function checkAlias(alias: string, where = 'alias'): string {
  const problem = aliasProblem(alias);
  if (problem) throw usageError(`${where} "${alias.slice(0, 60)}" ${problem}.`, 'Use a name such as "m37" or "eu/m37".');
  return alias;
}

/** Could this TargetModel be an alias (as opposed to an artifact name)? Flat names never cost a manifest read. */
export const mayBeAlias = (name: string) => aliasProblem(name) === undefined;

/** The content-addressed name of a version: a valid TargetModel and S3 key as it is. */
export const versionName = (alias: string, sha256: string) => `${alias}/${sha256.slice(0, HASH_DIGITS)}.tar.gz`;

/** The alias and hash of a version name, or undefined for any other name. */
export function parseVersionName(name: string): { alias: string; hash: string } | undefined {
  const m = VERSION.exec(name);
  return m && aliasProblem(m[1]) === undefined ? { alias: m[1], hash: m[2] } : undefined;
}
