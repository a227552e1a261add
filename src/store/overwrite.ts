import { ExitCode, MmeError } from '../output/errors.js';

/** The MME overwrite hazard, explained where it is refused. */
export function wouldOverwrite(name: string, url: string): MmeError {
  const dot = name.indexOf('.');
  const suggestion = dot > 0 ? `${name.slice(0, dot)}-v2${name.slice(dot)}` : `${name}-v2`;
  return new MmeError(
    `${name} already exists under ${url}; instances that loaded it may keep serving the cached old copy.`,
    ExitCode.wouldOverwrite,
    `Push it under a new name (e.g. --as ${suggestion}) and call that, or pass --force to overwrite anyway.`,
  );
}
