import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { tempPathFor } from './atomic.js';
import { PreconditionFailed, type StoredDocument, type WriteCondition } from './store.js';
import { makeDirs } from '../util/make-dirs.js';

/**
 * Compare-and-swap of a small document in a folder, without locks (so nothing is left locked by a killed process).
 *
 * POSIX has no "replace if unchanged", but `link()` is an atomic "create if absent". So every write claims the next
 * generation, `<doc>.v/<generation>`, with link(): of two writers that read generation g, exactly one creates g+1;
 * the other gets EEXIST, which is the lost race (PreconditionFailed). The newest generation is the document. The
 * document's own name (`aliases.json`, what applications read) is then made a hard link to it by rename(), which
 * readers see as the old or the new file, never half of one. Publishers that finish out of order each re-check the
 * newest generation after their rename and publish it again, so the document's own name ends at the newest one.
 *
 * The tag is the generation plus a hash of the bytes, so a hand edit (in place, which changes the shared inode, or by
 * replacing the file, which leaves it unlinked from the log and newer than it) is seen, and a writer that read the
 * document before the edit loses its race instead of overwriting the edit. Old generations are pruned (keeping the
 * newest 16 and any younger than 10 minutes): a writer would have to sit between its read and its link() for longer
 * than that, past 16 other writes, to claim a number that was pruned.
 */
const KEEP_GENERATIONS = 16;
const KEEP_YOUNGER_MS = 10 * 60_000;

const logDir = (file: string) => `${file}.v`;
const entry = (file: string, gen: number) => path.join(logDir(file), String(gen).padStart(12, '0'));
const tagOf = (gen: number, bytes: Buffer) => `g${gen}-${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;

async function generations(file: string): Promise<number[]> {
  const names = await fsp.readdir(logDir(file)).catch((err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names
    .filter((n) => /^\d{12}$/.test(n))
    .map(Number)
    .sort((a, b) => b - a);
}

const statOrUndefined = (p: string) => fsp.stat(p).catch(() => undefined);

interface State extends StoredDocument {
  generation: number;
}

async function readState(file: string): Promise<State | undefined> {
  for (;;) {
    const [gen] = await generations(file);
    const canonical = await statOrUndefined(file);
    if (gen === undefined) {
      if (!canonical) return undefined;
      const bytes = await fsp.readFile(file);
      return { bytes, etag: tagOf(0, bytes), generation: 0 };
    }
    const newest = await statOrUndefined(entry(file, gen));
    if (!newest) continue; // pruned or raced: look again
    // Replaced by hand after the newest generation: the edit is the document.
    const handEdited = canonical && canonical.ino !== newest.ino && canonical.nlink === 1 && canonical.mtimeMs > newest.mtimeMs;
    const bytes = await fsp.readFile(handEdited ? file : entry(file, gen)).catch(() => undefined);
    if (!bytes) continue;
    return { bytes, etag: tagOf(gen, bytes), generation: gen };
  }
}

export async function readFileDocument(file: string): Promise<StoredDocument | undefined> {
  const state = await readState(file);
  return state && { bytes: state.bytes, etag: state.etag };
}

export async function writeFileDocument(file: string, name: string, bytes: Uint8Array, condition: WriteCondition): Promise<string> {
  const current = await readState(file);
  if ('ifNoneMatch' in condition ? current !== undefined : current?.etag !== condition.ifMatch) throw new PreconditionFailed(name);
  const next = (current?.generation ?? 0) + 1;
  makeDirs(logDir(file));
  const tmp = tempPathFor(entry(file, next));
  try {
    await fsp.writeFile(tmp, bytes);
    await fsp.link(tmp, entry(file, next)); // the compare-and-swap: only one writer creates generation `next`
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionFailed(name);
    throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await publish(file, next);
  return tagOf(next, Buffer.from(bytes));
}

/** Points the document's own name at the newest generation, then prunes old ones. */
async function publish(file: string, gen: number): Promise<void> {
  for (;;) {
    const tmp = tempPathFor(file);
    try {
      await fsp.link(entry(file, gen), tmp);
      await fsp.rename(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // ENOENT: pruned under us, a newer one exists
    } finally {
      // rename() between two links to the same file does nothing and leaves `tmp` (another publisher got there first).
      await fsp.rm(tmp, { force: true });
    }
    const [newest] = await generations(file);
    if (newest === undefined || newest <= gen) break;
    gen = newest;
  }
  const gens = await generations(file);
  const canonical = await statOrUndefined(file);
  const now = Date.now();
  for (const old of gens.slice(KEEP_GENERATIONS)) {
    const st = await statOrUndefined(entry(file, old));
    if (!st || now - st.mtimeMs < KEEP_YOUNGER_MS || st.ino === canonical?.ino) continue;
    await fsp.rm(entry(file, old), { force: true });
  }
}
