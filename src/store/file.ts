import type { Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../artifacts/bytes.js';
import { MmeError } from '../output/errors.js';
import { TEMP_MARK, writeAtomically } from './atomic.js';
import { wouldOverwrite } from './overwrite.js';
import { readFileDocument, writeFileDocument } from './file-document.js';
import { RESERVED_PREFIX, type ListOptions, type ModelObject, type PutOptions, type Store, type StoredDocument, type WriteCondition } from './store.js';

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

  async list(options?: ListOptions): Promise<ModelObject[]> {
    const under = options?.under ?? '';
    const models: ModelObject[] = [];
    // Names are read as bytes: one that is not UTF-8 (it cannot be a model name) is skipped and said, not fatal.
    const visit = async (dir: Buffer, rel: string): Promise<void> => {
      let entries: Dirent<Buffer>[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === start) return; // like an S3 prefix nobody has pushed to
        throw ioError('list', dir.toString(), err);
      }
      for (const e of entries) {
        const name = e.name.toString('utf8');
        const full = Buffer.concat([dir, Buffer.from(path.sep), e.name]);
        if (!Buffer.from(name, 'utf8').equals(e.name)) {
          options?.onSkip?.(`${rel}${name}`, 'its name is not valid UTF-8, so it cannot be a model name');
          continue;
        }
        if (e.isDirectory()) await visit(full, `${rel}${name}/`);
        else if (e.isFile() && !name.startsWith(TEMP_MARK)) {
          const st = await fsp.stat(full).catch(() => undefined); // deleted meanwhile
          if (st) models.push({ name: rel + name, size: st.size, lastModified: st.mtime });
        }
      }
    };
    // `under` ending in "/" (a folder, for releases' versions) is read alone; any other start of a name filters.
    const start = under.endsWith('/') ? under : '';
    await visit(Buffer.from(start ? this.pathOf(start.slice(0, -1)) : this.root), start);
    return models.filter((m) => m.name.startsWith(under) && !m.name.startsWith(RESERVED_PREFIX)); // the alias manifest is not a model
  }

  async head(name: string, options?: { sha256?: boolean; signal?: AbortSignal }): Promise<ModelObject | undefined> {
    options?.signal?.throwIfAborted();
    const file = this.pathOf(name);
    const st = await fsp.stat(file).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    return { name, size: st.size, lastModified: st.mtime, ...(options?.sha256 ? { sha256: await sha256File(file, options.signal) } : {}) };
  }

  async put(name: string, localPath: string, options: PutOptions): Promise<ModelObject> {
    const target = this.pathOf(name);
    const signal = options.signal;
    let size = 0;
    try {
      signal?.throwIfAborted();
      await writeAtomically(
        target,
        async (tmp) => {
          await fsp.copyFile(localPath, tmp);
          signal?.throwIfAborted();
          // Hash what was written, not what was read before: a file changed during the push is caught here.
          const written = await sha256File(tmp, signal);
          if (written !== options.sha256) {
            throw new MmeError(
              `${name}: the file changed while it was being pushed (sha256 ${written.slice(0, 12)}… written, ${options.sha256.slice(0, 12)}… hashed before); nothing was written.`,
              1,
              'Push it again once nothing is writing to it.',
            );
          }
          size = (await fsp.stat(tmp)).size;
          options.onProgress?.(size);
        },
        !options.overwrite,
      );
    } catch (err) {
      if (err instanceof MmeError || signal?.aborted) throw err;
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw wouldOverwrite(name, this.url);
      throw ioError('write', target, err);
    }
    const stored = await this.head(name);
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

  localFile(name: string): string {
    return this.pathOf(name);
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
  return new MmeError(`cannot ${what} ${where}: ${code}.`, 1, code === 'EACCES' ? "Check the folder's permissions." : undefined);
}
