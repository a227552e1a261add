import fsp from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, MmeError, usageError } from '../output/errors.js';
import { writeAtomically } from './atomic.js';

/** Where a command will write a file the user named, checked before any work is done. */
export interface OutputTarget {
  /** The file to write (a symlink's target: the link stays a link). */
  path: string;
  /** As the user wrote it, for messages. */
  given: string;
  flag: string;
  /**
   * A character device or a FIFO (`/dev/stdout`, `/dev/null`, a named pipe): written to directly, never replaced by a
   * rename, so no temp file and no atomicity.
   */
  direct: boolean;
}

/**
 * The one guard for every user-named output: refuses a folder, a block device or socket, and any of the command's
 * own inputs (the same file by any spelling or link, or a path inside an input folder), so that an output never
 * replaces what it is made from.
 */
export async function checkOutputPath(given: string, flag: string, inputs: string[] = []): Promise<OutputTarget> {
  const abs = path.resolve(given);
  const st = await fsp.stat(abs).catch(() => undefined);
  const real = st ? await fsp.realpath(abs) : path.join(await fsp.realpath(path.dirname(abs)).catch(() => path.dirname(abs)), path.basename(abs));
  if (st?.isDirectory()) {
    throw usageError(
      `${flag} ${given} is a folder, not a file.`,
      `Name a file in it, e.g. ${flag} ${path.join(given, 'out.tar.gz')}${flag === '-o' ? ', or use --out-dir' : ''}.`,
    );
  }
  if (st && (st.isBlockDevice() || st.isSocket())) {
    throw usageError(
      `${flag} ${given} is a ${st.isSocket() ? 'socket' : 'block device'}; mme writes only to files, character devices and pipes.`,
      'Name a regular file.',
    );
  }
  for (const input of inputs) {
    const ist = await fsp.stat(input).catch(() => undefined);
    if (!ist) continue;
    const realInput = await fsp.realpath(input);
    const same = st?.isFile() && st.dev === ist.dev && st.ino === ist.ino;
    const inside = ist.isDirectory() && (real + path.sep).startsWith(realInput + path.sep);
    if (same || inside) {
      throw usageError(
        same
          ? `${flag} ${given} is ${input}, an input of this command; writing it would replace it.`
          : `${flag} ${given} is inside ${input}, an input of this command.`,
        'Write the output elsewhere.',
      );
    }
  }
  const direct = Boolean(st && (st.isCharacterDevice() || st.isFIFO()));
  return { path: real, given, flag, direct };
}

/**
 * Writes an output checked by checkOutputPath: a regular file atomically (temp file + rename, nothing half-written),
 * a device or pipe directly. Failures are one line naming the flag and the path.
 */
export async function writeOutput(target: OutputTarget, write: (file: string) => Promise<unknown>): Promise<void> {
  try {
    if (target.direct) await write(target.path);
    else await writeAtomically(target.path, write);
  } catch (err) {
    if (err instanceof MmeError || (err as Error).name === 'AbortError') throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOSPC' ? 'no space left (ENOSPC)' : code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})` : (code ?? (err as Error).message);
    throw new MmeError(
      `cannot write ${target.flag} ${target.given}: ${why}.`,
      ExitCode.failed,
      target.direct ? undefined : 'Nothing was written; check the folder and its free space.',
    );
  }
}
