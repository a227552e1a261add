import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError, type ArtifactFiles } from './types.js';

/**
 * The top of an extracted artifact folder as a runtime sees it: the model files it reads (with their bytes) and the
 * sub-folders. Runtimes only look at the top, as the serving containers do (code/ and the like are ignored).
 * `known` holds bytes the caller already has (just extracted): those files are not read again.
 */
export async function readArtifactFiles(dir: string, isModelFile: (name: string) => boolean, known?: ReadonlyMap<string, Uint8Array>): Promise<ArtifactFiles> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new ModelLoadError(dir, `cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const names: string[] = [];
  const folders: string[] = [];
  const all: string[] = [];
  await Promise.all(
    entries.map(async (name) => {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info?.isDirectory()) folders.push(name);
      else if (info?.isFile()) {
        all.push(name);
        if (isModelFile(name)) names.push(name);
      }
    }),
  );
  const files = await Promise.all(names.map(async (name) => ({ name, bytes: known?.get(name) ?? (await readFile(path.join(dir, name))) })));
  return { dir, files, folders, names: all };
}
