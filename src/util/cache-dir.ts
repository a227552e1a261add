import os from 'node:os';
import path from 'node:path';

/** mme's folder of the user's cache: $XDG_CACHE_HOME/mme, else ~/.cache/mme. */
export function userCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mme');
}
