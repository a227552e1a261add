import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { readBlockIndex, type BlockIndex } from '../artifacts/gzip.js';
import { MAX_ARTIFACT_ENTRIES } from '../artifacts/limits.js';
import { BLOCK, BudgetExceeded, type SharedBudget } from './budget.js';
import { makeDirs } from '../util/make-dirs.js';

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

export interface ExtractOptions {
  /**
   * Files (by path inside the archive) whose bytes the caller wants as well: they are collected in memory as they
   * are unpacked and written to disk from there once every entry is in (after `onUnpacked`), so a model file need not
   * be read back, and a caller that only needs the bytes need not wait for the disk. `size` is the file's declared
   * size (already checked against the limits).
   */
  keep?(path: string, size: number): boolean;
  /** Called as a kept file's data arrives: `bytes` has the file's declared size, its first `available` bytes are in. */
  onKeptData?(path: string, bytes: Uint8Array, available: number): void;
  /**
   * Called once every entry has been unpacked and checked, before the kept files are written (other files may still
   * be being written): the caller can use the kept bytes meanwhile, e.g. compile a model and answer with it. From then
   * on the folder's disk reservation is the caller's: a write that fails after it rejects the extraction and removes
   * the folder, but gives nothing back to `disk`. It must not throw.
   */
  onUnpacked?(unpacked: Extracted): void;
  /** Called once `dest` exists and the archive starts being read: from then on a cancel stops the unpacking midway. */
  onStart?(): void;
  /**
   * Bytes asked for in each read of the compressed file and in each inflated chunk, when it is read as a stream (the
   * blocks of an indexed `mme package` artifact are read and inflated whole, several at a time).
   */
  chunkBytes?: number;
  /**
   * The disk budget, shared with every other extraction: each entry reserves what it will take on disk (its size
   * rounded up to blocks, plus one block for the entry itself; a folder one block) from its header, before its data
   * is read. Reservations stay with the extracted folder (Extracted.diskBytes); on failure they are given back.
   */
  disk?: SharedBudget;
  /** Called on each file's header, before its data is read; may throw (BudgetExceeded, ArtifactError) to refuse it. */
  onFile?(path: string, size: number): void;
}

/** What an archive held, as known once it is unpacked. */
export interface Unpacked {
  /** The bytes of the files `keep` asked for, by path. */
  kept: Map<string, Uint8Array>;
  /** Files at the top of the archive. */
  topFiles: string[];
  /** Folders at the top of the archive (named by an entry of their own or by a path inside them). */
  topFolders: string[];
}

export interface Extracted extends Unpacked {
  files: number;
  bytes: number;
  /** What the folder takes on disk as counted against the budget (blocks and entries), reserved in `disk`. */
  diskBytes: number;
}

export const DEFAULT_MAX_ENTRIES = MAX_ARTIFACT_ENTRIES;

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
// Per-entry tar overhead (header, padding, pax records) allowed on top of the file bytes before the decompressed
// stream counts as a bomb: a few gigabytes of zeros after the end-of-archive marker must not be inflated for nothing.
const SLACK_PER_ENTRY = 4096;
const SLACK = 1024 * 1024;
/** Tar pads each entry's data to 512-byte records. */
const RECORD = 512;
/** Fewer, larger reads and inflated chunks: each one is a trip through the thread pool and the stream machinery. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Unpacks an MME artifact (a gzip-compressed tar) into `dest`, which must not exist yet, refusing what a serving
 * container must never write: absolute or escaping paths, links, devices and other special files, more entries or
 * bytes than the limits (checked from each header before its data is read, and on the inflated stream too), and
 * anything that is not gzip and tar. Files are written 0644 whatever the archive says. On failure `dest` is removed.
 * An artifact of `mme package` with a block index is inflated on several threads (BlockInflater); any other gzip file
 * as one stream (StreamInflater). Either way the inflated bytes go through the same checks in the same order.
 */
export async function extractArtifact(
  file: string,
  dest: string,
  limits: ExtractLimits,
  signal?: AbortSignal,
  options: ExtractOptions = {},
): Promise<Extracted> {
  const index = await checkGzip(file);
  await fsp.mkdir(dest, { recursive: false });
  try {
    return await unpack(file, index, dest, limits, signal, options);
  } catch (err) {
    await fsp.rm(dest, { recursive: true, force: true });
    throw err;
  }
}

/** The block index of an artifact, and which file (inode) it was read from. */
type IndexedFile = BlockIndex & { ino: number };

/** Refuses a file that is not gzip; its block index when it is an artifact of `mme package` that has one. */
async function checkGzip(file: string): Promise<IndexedFile | undefined> {
  const fd = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(10), 0, 10, 0);
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) {
      throw new ArtifactError('the artifact is not a gzip file (an MME artifact is a .tar.gz; build it with `mme package`)');
    }
    const { size, ino } = await fd.stat();
    const tail = async (n: number) => (await fd.read(Buffer.alloc(n), 0, n, size - n)).buffer;
    const index = await readBlockIndex(buffer.subarray(0, bytesRead), size, tail);
    return index && { ...index, ino };
  } finally {
    await fd.close();
  }
}

/** The entry's path inside `dest`, or a reason to refuse it. */
function safeRelativePath(raw: string): string {
  if (raw.includes('\0')) throw new ArtifactError(`entry "${printable(raw)}" has a NUL byte in its path`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw) || raw.includes('\\')) {
    throw new ArtifactError(`entry "${printable(raw)}" has an absolute or Windows-style path`);
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ArtifactError(`entry "${printable(raw)}" points outside the archive folder ("..")`);
  return parts.join('/');
}

function unpack(
  file: string,
  index: IndexedFile | undefined,
  dest: string,
  limits: ExtractLimits,
  signal: AbortSignal | undefined,
  options: ExtractOptions,
): Promise<Extracted> {
  return new Promise<Extracted>((resolve, reject) => {
    // Cancelled while the folder was being made: the listener below would never hear of it.
    if (signal?.aborted) return reject(new ArtifactError('extraction was cancelled'));
    let entries = 0;
    let files = 0;
    let declared = 0;
    let inflated = 0;
    /** Inflated bytes the admitted entries account for (headers and padded data): beyond it plus slack is not tar. */
    let accounted = 0;
    let diskBytes = 0;
    /** onUnpacked was called: the disk reservation is the caller's. */
    let handedOver = false;
    let failed = false;
    let ended = false;
    const writes: Promise<void>[] = [];
    const open = new Set<fs.WriteStream>();
    const writers = new Set<KeptFileWriter>();
    const made = new Set<string>(['']);
    const countedDirs = new Set<string>();
    /** Each admitted entry's path inside `dest`, as admit() checked it. */
    const relPaths = new WeakMap<ReadEntry, string>();
    const kept = new Map<string, Uint8Array>();
    const topFiles: string[] = [];
    const topFolders = new Set<string>();
    const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;

    // Set below, once the handlers it calls are defined.
    let inflater: Inflater | undefined;
    // The inflated stream must be plain tar: tar's own sniffing for a further compression layer stays off.
    const parser = new Parser({ strict: true, brotli: false, zstd: false, filter: (_p, entry) => admit(entry as ReadEntry) });

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      inflater?.stop();
      // A file whose data will never come must not be waited for.
      for (const out of open) out.destroy();
      for (const writer of writers) writer.stop();
      if (!handedOver) options.disk?.release(diskBytes);
      diskBytes = 0;
      const e = err instanceof ArtifactError || err instanceof BudgetExceeded ? err : new ArtifactError(describe(err));
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
          throw new ArtifactError(
            `entry "${printable(entry.path)}" is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link (links are not allowed in artifacts)`,
          );
        }
        if (entry.type !== 'Directory' && !FILE_TYPES.has(entry.type)) {
          throw new ArtifactError(`entry "${printable(entry.path)}" is a ${entry.type} (only files and folders are allowed in artifacts)`);
        }
        if (!rel && entry.type !== 'Directory') throw new ArtifactError(`entry "${printable(entry.path)}" has an empty path`);
        // Folders a path implies are entries too (inodes): "a/b/c/…/f" must not make a thousand folders for one entry.
        let implied = 0;
        for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) {
          const dir = rel.slice(0, at);
          if (!countedDirs.has(dir)) {
            countedDirs.add(dir);
            implied++;
          }
        }
        if (entry.type === 'Directory' && rel && !countedDirs.has(rel)) {
          countedDirs.add(rel);
          implied++;
        }
        entries += implied - (entry.type === 'Directory' ? 1 : 0);
        if (entries > limits.maxEntries) throw new ArtifactError(`the archive has more than ${limits.maxEntries} entries (files and folders)`);
        let cost = implied * BLOCK;
        accounted += RECORD;
        if (FILE_TYPES.has(entry.type)) {
          declared += entry.size;
          if (entry.size > limits.maxBytes || declared > limits.maxBytes) {
            throw new ArtifactError(
              `entry "${printable(entry.path)}" declares ${entry.size} bytes; the artifact would exceed the ${limits.maxBytes}-byte extraction limit`,
            );
          }
          accounted += Math.ceil(entry.size / RECORD) * RECORD;
          cost += Math.ceil(entry.size / BLOCK) * BLOCK + BLOCK;
          options.onFile?.(rel, entry.size);
        }
        if (options.disk && cost > 0) diskBytes += options.disk.reserve(cost, `entry "${printable(entry.path)}" (with what the artifact holds before it)`);
        relPaths.set(entry, rel);
        return true;
      } catch (err) {
        // Refusing from inside the parser's header callback: stop everything on the next tick.
        queueMicrotask(() => fail(err));
        return false;
      }
    }

    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      // The parser emits only entries admit() let through.
      const rel = relPaths.get(entry)!;
      const slash = rel.indexOf('/');
      if (entry.type === 'Directory') {
        if (rel) {
          topFolders.add(slash < 0 ? rel : rel.slice(0, slash));
          writes.push(mkdirs(dest, rel, made));
        }
        return entry.resume();
      }
      files++;
      if (slash >= 0) topFolders.add(rel.slice(0, slash));
      else topFiles.push(rel);
      const target = path.join(dest, ...rel.split('/'));
      const dir = slash >= 0 ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (options.keep?.(rel, entry.size)) return keepFile(entry, rel, target, dir);
      // Parent folders first, then the file; 'wx' refuses a second entry of the same name.
      entry.pause();
      writes.push(
        mkdirs(dest, dir, made)
          .then(
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
          )
          .catch((err) => fail(err)),
      );
    });
    /**
     * A file the caller keeps: its data is copied into one buffer of the declared size as it comes (no stream to
     * pause), and written from there once the archive is unpacked. Writing as the data came would put the copy into
     * the page cache (about 30 ms of CPU for 44 MB here) on the cold path, where nothing needs it.
     */
    function keepFile(entry: ReadEntry, rel: string, target: string, dir: string): void {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(entry.size);
      } catch {
        entry.resume();
        return fail(new ArtifactError(`entry "${printable(entry.path)}" (${entry.size} bytes) does not fit in memory`));
      }
      const writer = new KeptFileWriter(
        bytes,
        mkdirs(dest, dir, made).then(() => fsp.open(target, 'wx', 0o644)),
      );
      writers.add(writer);
      writes.push(
        writer.done.then(
          () => void writers.delete(writer),
          (err: NodeJS.ErrnoException) =>
            fail(err.code === 'EEXIST' ? new ArtifactError(`entry "${printable(entry.path)}" appears twice in the archive`) : err),
        ),
      );
      let at = 0;
      entry.on('data', (chunk: Buffer) => {
        if (failed) return;
        if (at + chunk.length > bytes.length) return fail(new ArtifactError(`entry "${printable(entry.path)}" holds more data than its header declares`));
        bytes.set(chunk, at);
        at += chunk.length;
        options.onKeptData?.(rel, bytes, at);
      });
      entry.on('end', () => {
        if (failed) return;
        if (at !== bytes.length) return fail(new ArtifactError(`entry "${printable(entry.path)}" is truncated`));
        if (kept.has(rel)) return fail(new ArtifactError(`entry "${printable(entry.path)}" appears twice in the archive`));
        kept.set(rel, bytes);
      });
    }

    parser.on('error', fail);
    // The end-of-archive marker: whatever follows (zeros, garbage) is not read, let alone inflated.
    parser.on('eof', () => {
      if (failed || ended) return;
      ended = true;
      inflater?.stop();
      // Not from inside the parser's own write.
      setImmediate(() => parser.end());
    });
    parser.on('end', () => {
      if (failed) return;
      if (files === 0) return fail(new ArtifactError('the archive holds no files'));
      const extracted: Extracted = { files, bytes: declared, diskBytes, kept, topFiles, topFolders: [...topFolders] };
      handedOver = true;
      options.onUnpacked?.(extracted);
      for (const writer of writers) writer.write();
      Promise.all(writes).then(() => {
        if (failed) return;
        signal?.removeEventListener('abort', onAbort);
        resolve(extracted);
      }, fail);
    });

    const inflatedLimit = limits.maxBytes + limits.maxEntries * SLACK_PER_ENTRY + SLACK;
    /** Each inflated chunk, in order; false: wait for `resume()` before the next one. */
    const push = (chunk: Buffer): boolean => {
      if (failed || ended) return true;
      if (inflated === 0 && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
        fail(new ArtifactError('the artifact is gzip-compressed twice (a .tar.gz of a .tar.gz?); an MME artifact is one gzip layer over a tar'));
        return true;
      }
      // What came before this chunk must be accounted for by the headers seen so far (pax records and the like get
      // some slack per entry): a stream that goes on inflating past its entries is a bomb or garbage, stopped here.
      if (inflated > accounted + entries * SLACK_PER_ENTRY + SLACK) {
        fail(new ArtifactError(`the archive holds more than ${SLACK} bytes that belong to no entry (garbage or a decompression bomb)`));
        return true;
      }
      inflated += chunk.length;
      if (inflated > inflatedLimit) {
        fail(new ArtifactError(`the archive inflates to more than ${inflatedLimit} bytes`));
        return true;
      }
      if (parser.write(chunk)) return true;
      parser.once('drain', () => inflater?.resume());
      return false;
    };
    const sink: InflateSink = {
      push,
      end: () => {
        if (!failed && !ended) parser.end();
      },
      error: fail,
    };
    inflater = index ? new BlockInflater(file, index, sink) : new StreamInflater(file, chunkBytes, sink);
    inflater.start();
    options.onStart?.();
  });
}

/** Where an Inflater delivers: each inflated chunk in order (false: wait for `resume()`), then the end or an error. */
interface InflateSink {
  push(chunk: Buffer): boolean;
  end(): void;
  error(err: unknown): void;
}

/** The inflated bytes of the artifact, in order, into a sink; `stop()` ends it midway (nothing more is pushed). */
interface Inflater {
  start(): void;
  resume(): void;
  stop(): void;
}

/** Any gzip file (one member or several, as other tools make them): read and inflated as a stream, on one thread. */
class StreamInflater implements Inflater {
  private readonly input: fs.ReadStream;
  private readonly gunzip: zlib.Gunzip;

  constructor(file: string, chunkBytes: number, sink: InflateSink) {
    this.input = fs.createReadStream(file, { highWaterMark: chunkBytes });
    this.gunzip = zlib.createGunzip({ chunkSize: chunkBytes });
    this.gunzip.on('data', (chunk: Buffer) => {
      if (!sink.push(chunk)) this.gunzip.pause();
    });
    this.gunzip.on('end', () => sink.end());
    this.gunzip.on('error', (err) => sink.error(new ArtifactError(`the artifact is not a valid gzip stream (${(err as Error).message})`)));
    this.input.on('error', (err) => sink.error(err));
  }

  start(): void {
    this.input.pipe(this.gunzip);
  }

  resume(): void {
    this.gunzip.resume();
  }

  stop(): void {
    this.input.unpipe(this.gunzip);
    this.input.destroy();
    this.gunzip.destroy();
  }
}

/**
 * Blocks inflating or inflated ahead of the tar parser: enough to keep every core busy while this thread's event loop
 * is held by an early compile, few enough to hold little memory (at most 2 MiB each).
 */
const BLOCKS_IN_FLIGHT = 8;
/** A block is read with room for the gzip header before it and the end and trailer after it that zlib checks. */
const WRAP_HEAD = 10;
const WRAP_TAIL = 10;

type Block = BlockIndex['blocks'][number];

/**
 * An artifact of `mme package` with a block index (see ../artifacts/gzip.ts): its blocks, compressed independently,
 * are read one after the other (the next one read ahead) and inflated several at a time in the thread pool, then
 * handed on in order. Each block is wrapped into a gzip member of its own, with its CRC and size from the index, so
 * that zlib checks every byte as it inflates, and a block may inflate to no more than the index says (a bomb costs
 * at most one block's memory per block in flight).
 */
class BlockInflater implements Inflater {
  private stopped = false;
  /** Set while the pushing waits for the sink to drain. */
  private drained: (() => void) | undefined;
  /** Set while the pushing waits for the next block to be under way (or for the end). */
  private changed: (() => void) | undefined;
  private fd: FileHandle | undefined;
  /** The next block to read. */
  private next = 0;
  /** Blocks inflating or inflated, in order, not yet pushed (at most BLOCKS_IN_FLIGHT). */
  private readonly inflating: { out: Promise<Buffer>; input?: Buffer }[] = [];
  /** Read buffers back from inflated blocks: fresh memory costs a page fault per 4 KiB. */
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly file: string,
    private readonly index: IndexedFile,
    private readonly sink: InflateSink,
  ) {}

  start(): void {
    this.run().then(
      (done) => done && this.sink.end(),
      (err) => !this.stopped && this.sink.error(err),
    );
  }

  resume(): void {
    const go = this.drained;
    this.drained = undefined;
    go?.();
  }

  stop(): void {
    this.stopped = true;
    this.resume();
    this.wake();
  }

  private wake(): void {
    const go = this.changed;
    this.changed = undefined;
    go?.();
  }

  /** True when every block was inflated and pushed; false when stopped first. */
  private async run(): Promise<boolean> {
    this.fd = await fsp.open(this.file, 'r');
    try {
      // A file:// artifact is read where it lies: one replaced (renamed over) since its index was read is not mixed in.
      if ((await this.fd.stat()).ino !== this.index.ino) throw new ArtifactError('the artifact was replaced while it was being read; retry the request');
      this.pump();
      while (!this.stopped) {
        const next = this.inflating.shift();
        if (!next) {
          if (this.next >= this.index.blocks.length) return true;
          await new Promise<void>((go) => (this.changed = go));
          continue;
        }
        const chunk = await next.out;
        if (next.input) this.spare.push(next.input);
        if (this.stopped) break;
        // The freed slot first: the next block inflates while this one is parsed.
        this.pump();
        if (!this.sink.push(chunk)) await new Promise<void>((go) => (this.drained = go));
      }
      return false;
    } finally {
      await this.fd.close();
    }
  }

  /**
   * Fills the free slots: reads each block and starts inflating it. The reads are synchronous (a few hundred
   * kilobytes each): in the thread pool they queued behind the blocks inflating there, and the pipeline ran dry.
   */
  private pump(): void {
    const { blocks, blockBytes } = this.index;
    while (!this.stopped && this.inflating.length < BLOCKS_IN_FLIGHT && this.next < blocks.length) {
      const i = this.next++;
      const block = blocks[i];
      const want = WRAP_HEAD + block.length + WRAP_TAIL;
      const reuse = this.spare.findIndex((b) => b.length >= want);
      const input =
        reuse >= 0 ? this.spare.splice(reuse, 1)[0] : Buffer.allocUnsafe(Math.max(want, blockBytes + (blockBytes >>> 10) + 64 + WRAP_HEAD + WRAP_TAIL));
      let out: Promise<Buffer>;
      try {
        const bytesRead = fs.readSync(this.fd!.fd, input, WRAP_HEAD, block.length, block.at);
        if (bytesRead < block.length) throw badBlock(block, `${block.length} bytes in the index, ${bytesRead} present (truncated)`);
        out = inflateBlock(input, block, i === blocks.length - 1);
        out.catch(() => {}); // awaited in order
      } catch (err) {
        // A bad block fails in its turn: the tar data before it may end the archive, and then it is not read.
        out = rejected(err as Error);
        this.next = blocks.length;
      }
      this.inflating.push({ out, input });
    }
    this.wake();
  }
}

function rejected(err: Error): Promise<never> {
  const p = Promise.reject(err);
  p.catch(() => {}); // awaited in order
  return p;
}

function badBlock(block: Block, what: string): ArtifactError {
  return new ArtifactError(`the artifact is not a valid gzip stream (the block at byte ${block.at}: ${what})`);
}

/**
 * One block, inflated and checked in the thread pool: wrapped as a gzip member (a header before it; after it an empty
 * final deflate block unless it is the last, which ends the stream itself; its CRC and size from the index), so that
 * zlib verifies its CRC and size and refuses more than `block.bytes` of output.
 */
function inflateBlock(input: Buffer, block: Block, last: boolean): Promise<Buffer> {
  input.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  let end = WRAP_HEAD + block.length;
  if (!last) {
    input[end++] = 3;
    input[end++] = 0;
  }
  input.writeUInt32LE(block.crc, end);
  input.writeUInt32LE(block.bytes, end + 4);
  const member = input.subarray(0, end + 8);
  return new Promise((resolve, reject) =>
    zlib.gunzip(member, { chunkSize: Math.max(block.bytes + 1, 64 * 1024), maxOutputLength: block.bytes }, (err, out) => {
      if (!err && out.length === block.bytes) return resolve(out);
      const tooLarge = (err as NodeJS.ErrnoException | null)?.code === 'ERR_BUFFER_TOO_LARGE';
      reject(
        badBlock(
          block,
          tooLarge ? `more data than its ${block.bytes} bytes (a decompression bomb?)` : (err?.message ?? `${out.length} bytes, not ${block.bytes}`),
        ),
      );
    }),
  );
}

/** A kept file: opened (and so claimed) when its entry starts, written whole once the archive is unpacked. */
class KeptFileWriter {
  /** Settles once the file is written and closed, or closed after `stop()`. */
  readonly done: Promise<void>;
  private settle!: (err?: unknown) => void;
  private fd: FileHandle | undefined;
  private due = false;
  private stopped = false;

  constructor(
    private readonly bytes: Uint8Array,
    opened: Promise<FileHandle>,
  ) {
    this.done = new Promise<void>((resolve, reject) => (this.settle = (err) => (err === undefined ? resolve() : reject(err))));
    opened.then(
      (fd) => {
        this.fd = fd;
        if (this.stopped) this.close();
        else if (this.due) this.writeAll();
      },
      (err) => this.settle(err),
    );
  }

  /** Every byte is in: write them (now, or once the file is open). */
  write(): void {
    this.due = true;
    if (this.fd) this.writeAll();
  }

  /** Writes no more (the extraction failed). */
  stop(): void {
    this.stopped = true;
    if (this.fd && !this.due) this.close();
  }

  /**
   * Synchronous: in the thread pool the write queued behind other loads' inflating blocks, and the bytes it holds
   * (reserved on the memory budget) stayed reserved meanwhile, failing those loads for want of memory.
   */
  private writeAll(): void {
    let err: unknown;
    try {
      for (let at = 0; at < this.bytes.length; ) at += fs.writeSync(this.fd!.fd, this.bytes, at, this.bytes.length - at, at);
    } catch (e) {
      err = e;
    }
    this.close(err);
  }

  private close(err?: unknown): void {
    const fd = this.fd;
    this.fd = undefined;
    fd?.close().then(
      () => this.settle(err),
      (closeErr) => this.settle(err ?? closeErr),
    );
  }
}

function mkdirs(dest: string, rel: string, made: Set<string>): Promise<void> {
  if (made.has(rel)) return Promise.resolve();
  made.add(rel);
  try {
    makeDirs(path.join(dest, ...rel.split('/')));
    return Promise.resolve();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return Promise.reject(
      code === 'EEXIST' || code === 'ENOTDIR' ? new ArtifactError(`folder "${rel}" clashes with a file of the same name in the archive`) : err,
    );
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { tarCode?: string };
  if (e?.tarCode === 'TAR_BAD_ARCHIVE' || e?.code === 'TAR_BAD_ARCHIVE')
    return `the artifact is not a valid tar archive (${e.message.replace(/^TAR_BAD_ARCHIVE: /, '')})`;
  if (e?.tarCode === 'TAR_ENTRY_INVALID' || e?.code === 'TAR_ENTRY_INVALID')
    return `the archive has an invalid entry (${e.message.replace(/^TAR_ENTRY_INVALID: /, '')})`;
  if (e?.code === 'ENOSPC') return 'no space left on the device holding the model cache';
  return e?.message ?? String(err);
}

function printable(s: string): string {
  const p = s.replace(/[^\x20-\x7e]/g, '?');
  return p.length > 80 ? p.slice(0, 77) + '...' : p;
}
