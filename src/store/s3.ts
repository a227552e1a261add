import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Client, withSignal, type ClientSettings } from '../aws/clients.js';
import { explainAwsError } from '../aws/errors.js';
import { MmeError } from '../output/errors.js';
import { writeAtomically } from './atomic.js';
import { putSingle } from './s3-put.js';
import { hashTap, putFailure, trackUpload, type Cleanup, type UploadTrack } from './s3-upload.js';
import {
  PreconditionFailed,
  RESERVED_PREFIX,
  type ListOptions,
  type ModelObject,
  ONE_REQUEST_MAX,
  type PutOptions,
  type Store,
  type StoredDocument,
  type WriteCondition,
} from './store.js';

// The AWS CLI's multipart settings: 8 MiB parts, several in flight.
const PART_SIZE = ONE_REQUEST_MAX;
const PARTS_IN_FLIGHT = 8;
const DELETE_BATCH = 1000; // DeleteObjects' limit

export class S3Store implements Store {
  readonly url: string;
  private readonly bucket: string;
  private readonly keyPrefix: string;

  /** `signal` (the command's Ctrl-C / SIGTERM) ends every call this store makes, at once. */
  constructor(
    prefix: string,
    private readonly settings: ClientSettings,
    private readonly signal?: AbortSignal,
  ) {
    this.url = prefix;
    const rest = prefix.slice('s3://'.length);
    this.bucket = rest.slice(0, rest.indexOf('/'));
    this.keyPrefix = rest.slice(this.bucket.length + 1);
  }

  private async client(): Promise<S3Client> {
    return withSignal(await s3Client(this.settings), this.signal);
  }

  private async call<T>(fn: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.client());
    } catch (err) {
      throw explainAwsError(err, this.settings);
    }
  }

  list(options?: ListOptions): Promise<ModelObject[]> {
    const under = options?.under ?? '';
    return this.call(async (client) => {
      const models: ModelObject[] = [];
      // The prefix always ends in "/", so "models/v1/" never matches "models/v10/...".
      for await (const page of paginateListObjectsV2({ client, pageSize: 1000 }, { Bucket: this.bucket, Prefix: this.keyPrefix + under })) {
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue; // folder markers are not models
          if (o.Key.startsWith(this.keyPrefix + RESERVED_PREFIX)) continue; // the alias manifest is not a model
          models.push({ name: o.Key.slice(this.keyPrefix.length), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
        }
      }
      return models;
    });
  }

  head(name: string, options?: { signal?: AbortSignal }): Promise<ModelObject | undefined> {
    return this.call(async (client) => {
      try {
        const h = await client.send(
          new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }),
          options?.signal ? { abortSignal: options.signal } : {},
        );
        return { name, size: h.ContentLength ?? 0, lastModified: h.LastModified ?? new Date(0), sha256: h.Metadata?.sha256 };
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw err;
      }
    });
  }

  async put(name: string, localPath: string, options: PutOptions): Promise<ModelObject> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const key = this.keyPrefix + name;
    const raw = await s3Client(this.settings);
    if (options.bytes) return this.putOnce(raw, name, key, localPath, options);
    const size = (await fs.promises.stat(localPath)).size;
    if (size <= ONE_REQUEST_MAX) return this.putOnce(raw, name, key, localPath, options);
    // One controller stops everything this upload has in flight: Ctrl-C, a sibling's failure, or this one's own.
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // one listener per part in flight
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort(); // the listener above would never fire for a signal that already has
    const track = trackUpload(raw, stop);
    const body = hashTap(options.sha256, () => stop.abort());
    pipeline(fs.createReadStream(localPath, { highWaterMark: 1024 * 1024, signal: stop.signal }), body).catch(() => undefined);
    const startedAt = Date.now();
    const upload = new Upload({
      client: track.client,
      abortController: stop,
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        // Read before the bytes: lib-storage counts parts with it (a changed file is caught by the hash anyway).
        ContentLength: size,
        ContentType: 'application/gzip',
        Metadata: { sha256: options.sha256 },
        // S3 verifies a SHA-256 of every part against the bytes it received (set per part by trackUpload).
        ChecksumAlgorithm: 'SHA256',
        // S3 refuses the write if the name exists, even one created after `mme push` checked.
        ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
      },
    });
    upload.on('httpUploadProgress', (p) => options.onProgress?.(p.loaded ?? 0));
    try {
      await upload.done();
      if (body.changed) throw body.changed;
    } catch (err) {
      stop.abort();
      await track.settled();
      const cleanup = await this.abandon(raw, key, track, startedAt);
      throw putFailure({
        err,
        name,
        key,
        bucket: this.bucket,
        cause: body.changed ?? track.firstError,
        interrupted: signal?.aborted === true,
        cleanup,
        endpointUrl: this.settings.endpointUrl,
        profile: this.settings.profile,
        url: this.url,
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return this.verify(name, body.size, options.sha256);
  }

  /**
   * Up to one part: one PutObject from one read of the file, hashed once for its name check, its checksum and its
   * signature. S3 verifies the checksum on receipt and echoes it: that answer is the verification (a server that
   * does not echo it gets the HEAD a multipart upload gets).
   */
  private async putOnce(raw: S3Client, name: string, key: string, localPath: string, options: PutOptions): Promise<ModelObject> {
    const signal = options.signal ?? new AbortController().signal;
    let put: Awaited<ReturnType<typeof putSingle>>;
    try {
      put = await putSingle(raw, {
        bucket: this.bucket,
        key,
        file: localPath,
        bytes: options.bytes,
        sha256: options.sha256,
        overwrite: options.overwrite,
        signal,
      });
    } catch (err) {
      throw putFailure({
        err,
        name,
        key,
        bucket: this.bucket,
        cause: err,
        interrupted: signal.aborted,
        cleanup: { uploadIds: [], aborted: true },
        endpointUrl: this.settings.endpointUrl,
        profile: this.settings.profile,
        url: this.url,
      });
    }
    options.onProgress?.(put.size);
    if (put.out.ChecksumSHA256 === put.checksum) return { name, size: put.size, lastModified: new Date(), sha256: options.sha256 };
    return this.verify(name, put.size, options.sha256);
  }

  private async verify(name: string, size: number, sha256: string): Promise<ModelObject> {
    const stored = await this.head(name);
    if (!stored || stored.size !== size || stored.sha256 !== sha256) {
      throw new MmeError(
        `upload of ${name} did not verify: the stored object is ${stored ? `${stored.size} bytes, sha256 ${stored.sha256 ?? 'unrecorded'}` : 'missing'}; ${size} bytes were sent, sha256 ${sha256}.`,
      );
    }
    return stored;
  }

  /**
   * No orphaned parts: once everything in flight has settled, abort the multipart upload if one was started. A
   * CreateMultipartUpload whose answer was lost may still have created one: look for it by key and start time.
   */
  private async abandon(client: S3Client, key: string, track: UploadTrack, startedAt: number): Promise<Cleanup> {
    const ids = new Set<string>(track.uploadIds);
    if (track.createSent && !ids.size) {
      try {
        const found = await client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
        for (const u of found.Uploads ?? []) {
          if (u.Key === key && u.UploadId && (u.Initiated?.getTime() ?? 0) >= startedAt - 5000) ids.add(u.UploadId);
        }
      } catch {
        return { uploadIds: [], aborted: false, unknown: true };
      }
    }
    const left: string[] = [];
    for (const id of ids) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: id }));
      } catch (err) {
        if ((err as Error).name !== 'NoSuchUpload') left.push(id); // NoSuchUpload: the SDK already aborted it
      }
    }
    return { uploadIds: [...ids], aborted: left.length === 0, left };
  }

  remove(names: string[]): Promise<void> {
    return this.call(async (client) => {
      for (let i = 0; i < names.length; i += DELETE_BATCH) {
        const batch = names.slice(i, i + DELETE_BATCH);
        const res = await client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((n) => ({ Key: this.keyPrefix + n })), Quiet: true } }),
        );
        if (res.Errors?.length) {
          const e = res.Errors[0];
          throw new MmeError(`could not delete ${res.Errors.length} model(s), first ${e.Key?.slice(this.keyPrefix.length)}: ${e.Code} ${e.Message}`);
        }
      }
    });
  }

  download(name: string, localPath: string, signal?: AbortSignal): Promise<ModelObject> {
    return this.call(async (client) => {
      const res = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }), { abortSignal: signal });
      await writeAtomically(localPath, (tmp) => pipeline(res.Body as NodeJS.ReadableStream, fs.createWriteStream(tmp), { signal }));
      return { name, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0), sha256: res.Metadata?.sha256 };
    });
  }

  readDocument(name: string): Promise<StoredDocument | undefined> {
    return this.call(async (client) => {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }));
        const bytes = Buffer.from(await res.Body!.transformToByteArray());
        return { bytes, etag: res.ETag ?? '' };
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw err;
      }
    });
  }

  /** S3 conditional writes: If-Match on the ETag read, If-None-Match: * for the first write. */
  writeDocument(name: string, bytes: Uint8Array, condition: WriteCondition): Promise<string> {
    return this.call(async (client) => {
      try {
        const res = await client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.keyPrefix + name,
            Body: bytes,
            ContentType: 'application/json',
            CacheControl: 'no-cache',
            ...('ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: '*' }),
          }),
        );
        return res.ETag ?? '';
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // 412: the tag no longer matches; 409 ConditionalRequestConflict: another conditional write to the key is under way.
        if (status === 412 || status === 409) throw new PreconditionFailed(name);
        throw err;
      }
    });
  }
}
