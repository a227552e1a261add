import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

/** Why an artifact was refused or could not be unpacked; the message is shown to the caller as the model's error. */
export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactError';
  }
}

export interface ExtractLimits {
  /** Total bytes the files of one artifact may hold once extracted. */
  maxBytes: number;
  /** Entries (files and folders) one artifact may hold. */
  maxEntries: number;
}

export interface Extracted {
  files: number;
  bytes: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
// Per-entry tar overhead (header, padding, pax records) allowed on top of the file bytes before the decompressed
// stream counts as a bomb: a few gigabytes of zeros after the end-of-archive marker must not be inflated for nothing.
const SLACK_PER_ENTRY = 4096;
const SLACK = 1024 * 1024;

/**
 * Unpacks an MME artifact (a gzip-compressed tar) into `dest`, which must not exist yet, refusing what a serving
 * container must never write: absolute or escaping paths, links, devices and other special files, more entries or
 * bytes than the limits (checked from each header before its data is read, and on the inflated stream too), and
 * anything that is not gzip and tar. Files are written 0644 whatever the archive says. On failure `dest` is removed.
 */
export async function extractArtifact(file: string, dest: string, limits: ExtractLimits, signal?: AbortSignal): Promise<Extracted> {
  await checkGzip(file);
  await fsp.mkdir(dest, { recursive: false });
  try {
    return await unpack(file, dest, limits, signal);
  } catch (err) {
    await fsp.rm(dest, { recursive: true, force: true });
    throw err;
  }
}

async function checkGzip(file: string): Promise<void> {
  const fd = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(2), 0, 2, 0);
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) {
      throw new ArtifactError('the artifact is not a gzip file (an MME artifact is a .tar.gz; build it with `mme package`)');
    }
  } finally {
    await fd.close();
  }
}

/** The entry's path inside `dest`, or a reason to refuse it. */
export function safeRelativePath(raw: string): string {
  if (raw.includes('\0')) throw new ArtifactError(`entry "${printable(raw)}" has a NUL byte in its path`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw) || raw.includes('\\')) {
    throw new ArtifactError(`entry "${printable(raw)}" has an absolute or Windows-style path`);
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ArtifactError(`entry "${printable(raw)}" points outside the archive folder ("..")`);
  return parts.join('/');
}

function unpack(file: string, dest: string, limits: ExtractLimits, signal?: AbortSignal): Promise<Extracted> {
  return new Promise<Extracted>((resolve, reject) => {
    let entries = 0;
    let files = 0;
    let declared = 0;
    let inflated = 0;
    let failed = false;
    const writes: Promise<void>[] = [];
    const open = new Set<fs.WriteStream>();
    const made = new Set<string>(['']);

    const input = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
    const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
    // The inflated stream must be plain tar: tar's own sniffing for a further compression layer stays off.
    const parser = new Parser({ strict: true, brotli: false, zstd: false, filter: (_p, entry) => admit(entry as ReadEntry) });

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      gunzip.destroy();
      // A file whose data will never come must not be waited for.
      for (const out of open) out.destroy();
      const e = err instanceof ArtifactError ? err : new ArtifactError(describe(err));
      // Let already started writes settle before the caller removes the folder.
      Promise.allSettled(writes).then(() => reject(e));
    };
    const onAbort = () => fail(new ArtifactError('extraction was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });

    // Runs on each header, before the entry's data is read: the place to refuse declared sizes and counts.
    function admit(entry: ReadEntry): boolean {
      if (failed) return false;
      try {
        if (++entries > limits.maxEntries) throw new ArtifactError(`the archive has more than ${limits.maxEntries} entries`);
        const rel = safeRelativePath(entry.path);
        if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
          throw new ArtifactError(`entry "${printable(entry.path)}" is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link (links are not allowed in artifacts)`);
        }
        if (entry.type !== 'Directory' && !FILE_TYPES.has(entry.type)) {
          throw new ArtifactError(`entry "${printable(entry.path)}" is a ${entry.type} (only files and folders are allowed in artifacts)`);
        }
        if (!rel && entry.type !== 'Directory') throw new ArtifactError(`entry "${printable(entry.path)}" has an empty path`);
        if (FILE_TYPES.has(entry.type)) {
          declared += entry.size;
          if (entry.size > limits.maxBytes || declared > limits.maxBytes) {
            throw new ArtifactError(`entry "${printable(entry.path)}" declares ${entry.size} bytes; the artifact would exceed the ${limits.maxBytes}-byte extraction limit`);
          }
        }
        return true;
      } catch (err) {
        // Refusing from inside the parser's header callback: stop everything on the next tick.
        queueMicrotask(() => fail(err));
        return false;
      }
    }

    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      const rel = safeRelativePath(entry.path);
      if (entry.type === 'Directory') {
        if (rel) writes.push(mkdirs(dest, rel, made));
        return entry.resume();
      }
      files++;
      const target = path.join(dest, ...rel.split('/'));
      const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      // Parent folders first, then the file; 'wx' refuses a second entry of the same name.
      entry.pause();
      writes.push(
        mkdirs(dest, dir, made).then(
          () =>
            new Promise<void>((done, bad) => {
              if (failed) return done();
              const out = fs.createWriteStream(target, { flags: 'wx', mode: 0o644 });
              open.add(out);
              out.on('error', (err: NodeJS.ErrnoException) => {
                bad(err.code === 'EEXIST' ? new ArtifactError(`entry "${printable(entry.path)}" appears twice in the archive`) : err);
                entry.resume();
              });
              out.on('close', () => {
                open.delete(out);
                done();
              });
              entry.pipe(out);
            }),
        ).catch((err) => fail(err)),
      );
    });
    parser.on('error', fail);
    parser.on('end', () => {
      if (failed) return;
      Promise.all(writes).then(
        () => {
          if (failed) return;
          signal?.removeEventListener('abort', onAbort);
          if (files === 0) return fail(new ArtifactError('the archive holds no files'));
          resolve({ files, bytes: declared });
        },
        fail,
      );
    });

    const inflatedLimit = limits.maxBytes + limits.maxEntries * SLACK_PER_ENTRY + SLACK;
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (inflated === 0 && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
        return fail(new ArtifactError('the artifact is gzip-compressed twice (a .tar.gz of a .tar.gz?); an MME artifact is one gzip layer over a tar'));
      }
      inflated += chunk.length;
      if (inflated > inflatedLimit) return fail(new ArtifactError(`the archive inflates to more than ${inflatedLimit} bytes`));
      if (!parser.write(chunk)) {
        gunzip.pause();
        parser.once('drain', () => gunzip.resume());
      }
    });
    gunzip.on('end', () => {
      if (!failed) parser.end();
    });
    gunzip.on('error', (err) => fail(new ArtifactError(`the artifact is not a valid gzip stream (${(err as Error).message})`)));
    input.on('error', fail);
    input.pipe(gunzip);
  });
}

function mkdirs(dest: string, rel: string, made: Set<string>): Promise<void> {
  if (made.has(rel)) return Promise.resolve();
  made.add(rel);
  return fsp.mkdir(path.join(dest, ...rel.split('/')), { recursive: true }).then(
    () => undefined,
    (err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' || err.code === 'ENOTDIR' ? new ArtifactError(`folder "${rel}" clashes with a file of the same name in the archive`) : err;
    },
  );
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { tarCode?: string };
  if (e?.tarCode === 'TAR_BAD_ARCHIVE' || e?.code === 'TAR_BAD_ARCHIVE') return `the artifact is not a valid tar archive (${e.message.replace(/^TAR_BAD_ARCHIVE: /, '')})`;
  if (e?.tarCode === 'TAR_ENTRY_INVALID' || e?.code === 'TAR_ENTRY_INVALID') return `the archive has an invalid entry (${e.message.replace(/^TAR_ENTRY_INVALID: /, '')})`;
  if (e?.code === 'ENOSPC') return 'no space left on the device holding the model cache';
  return e?.message ?? String(err);
}

function printable(s: string): string {
  const p = s.replace(/[^\x20-\x7e]/g, '?');
  return p.length > 80 ? p.slice(0, 77) + '...' : p;
}
