import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { makeDirs } from '../util/make-dirs.js';

/** Temp files live beside their target (same file system, so rename is atomic) and are skipped by listings. */
export const TEMP_MARK = '.mme-tmp-';

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `${TEMP_MARK}${crypto.randomBytes(6).toString('hex')}-${path.basename(target)}`);
}

/**
 * Writes through a temp file and renames it into place, so readers see the old file or the whole new one, never
 * a half-written one. With `noClobber`, an existing target is left alone and `EEXIST` is thrown.
 */
export async function writeAtomically(target: string, write: (tmp: string) => Promise<unknown>, noClobber = false): Promise<void> {
  makeDirs(path.dirname(target));
  const tmp = tempPathFor(target);
  try {
    await write(tmp);
    if (noClobber) {
      await fs.link(tmp, target); // atomic create-if-absent
      await fs.unlink(tmp);
    } else {
      await fs.rename(tmp, target);
    }
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
