import type { Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../artifacts/bytes.js';
import { MmeError } from '../output/errors.js';
import { TEMP_MARK, writeAtomically } from './atomic.js';
import { wouldOverwrite } from './overwrite.js';
import { readFileDocument, writeFileDocument } from './file-document.js';
import { RESERVED_PREFIX, type ModelObject, type PutOptions, type Store, type StoredDocument, type WriteCondition } from './store.js';

/** A fleet in a local folder: the same names, overwrite guard and atomic writes as S3. */
export class FileStore implements Store {
  readonly url: string;
  private readonly root: string;

  constructor(prefix: string) {
    this.url = prefix;
    this.root = prefix.slice('file://'.length);
  }

  private pathOf(name: string): string {
    return path.join(this.root, ...name.split('/'));
  }

  async list(under = ''): Promise<ModelObject[]> {
    let entries: Dirent[];
    // `under` ends in "/" (a folder) for releases' versions; any other start of a name filters the whole listing.
    const folder = under.endsWith('/') ? this.pathOf(under.slice(0, -1)) : this.root;
    try {
      entries = await fsp.readdir(folder, { withFileTypes: true, recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // like an S3 prefix nobody has pushed to
      throw ioError('list', this.root, err);
    }
    const files = entries
      .filter((e) => e.isFile() && !e.name.startsWith(TEMP_MARK))
      .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
      .map((full) => ({ full, name: path.relative(this.root, full).split(path.sep).join('/') }))
      // The alias manifest (and its generations, which come and go) is not a model.
      .filter((f) => f.name.startsWith(under) && !f.name.startsWith(RESERVED_PREFIX));
    return Promise.all(
      files.map(async ({ full, name }) => {
        const st = await fsp.stat(full);
        return { name, size: st.size, lastModified: st.mtime };
      }),
    );
  }

  async head(name: string, options?: { sha256?: boolean }): Promise<ModelObject | undefined> {
    const file = this.pathOf(name);
    const st = await fsp.stat(file).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    return { name, size: st.size, lastModified: st.mtime, ...(options?.sha256 ? { sha256: await sha256File(file) } : {}) };
  }

  async put(name: string, localPath: string, options: PutOptions): Promise<ModelObject> {
    const target = this.pathOf(name);
    try {
      await writeAtomically(
        target,
        async (tmp) => {
          options.signal?.throwIfAborted();
          await fsp.copyFile(localPath, tmp);
          options.onProgress?.((await fsp.stat(tmp)).size);
        },
        !options.overwrite,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw wouldOverwrite(name, this.url);
      throw ioError('write', target, err);
    }
    const stored = await this.head(name);
    const size = (await fsp.stat(localPath)).size;
    if (!stored || stored.size !== size) throw new MmeError(`copy of ${name} did not verify: ${target} has ${stored?.size ?? 0} bytes, expected ${size}.`);
    return { ...stored, sha256: options.sha256 };
  }

  async remove(names: string[]): Promise<void> {
    for (const name of names) {
      try {
        await fsp.unlink(this.pathOf(name));
      } catch (err) {
        throw ioError('delete', this.pathOf(name), err);
      }
    }
  }

  async download(name: string, localPath: string, signal?: AbortSignal): Promise<ModelObject> {
    const source = this.pathOf(name);
    const found = await this.head(name);
    if (!found) throw new MmeError(`${name} does not exist under ${this.url}.`, 3);
    signal?.throwIfAborted();
    // copyFile lets the kernel copy (or reflink) the bytes: several times faster than streaming them through JS.
    await writeAtomically(localPath, (tmp) => fsp.copyFile(source, tmp));
    return found;
  }

  readDocument(name: string): Promise<StoredDocument | undefined> {
    return readFileDocument(this.pathOf(name)).catch((err) => {
      throw ioError('read', this.pathOf(name), err);
    });
  }

  writeDocument(name: string, bytes: Uint8Array, condition: WriteCondition): Promise<string> {
    return writeFileDocument(this.pathOf(name), name, bytes, condition).catch((err) => {
      throw err instanceof Error && err.name === 'PreconditionFailed' ? err : ioError('write', this.pathOf(name), err);
    });
  }
}

function ioError(what: string, where: string, err: unknown): MmeError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new MmeError(`cannot ${what} ${where}: ${code}.`, 1, code === 'EACCES' ? 'Check the folder\'s permissions.' : undefined);
}
