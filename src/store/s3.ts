import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Client, type ClientSettings } from '../aws/clients.js';
import { explainAwsError } from '../aws/errors.js';
import { MmeError } from '../output/errors.js';
import { writeAtomically } from './atomic.js';
import { wouldOverwrite } from './overwrite.js';
import { PreconditionFailed, RESERVED_PREFIX, type ModelObject, type PutOptions, type Store, type StoredDocument, type WriteCondition } from './store.js';

// The AWS CLI's multipart settings: 8 MiB parts, several in flight.
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 8;
const DELETE_BATCH = 1000; // DeleteObjects' limit

export class S3Store implements Store {
  readonly url: string;
  private readonly bucket: string;
  private readonly keyPrefix: string;

  constructor(prefix: string, private readonly settings: ClientSettings) {
    this.url = prefix;
    const rest = prefix.slice('s3://'.length);
    this.bucket = rest.slice(0, rest.indexOf('/'));
    this.keyPrefix = rest.slice(this.bucket.length + 1);
  }

  private client(): Promise<S3Client> {
    return s3Client(this.settings);
  }

  private async call<T>(fn: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.client());
    } catch (err) {
      throw explainAwsError(err, this.settings.endpointUrl);
    }
  }

  list(under = ''): Promise<ModelObject[]> {
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

  head(name: string): Promise<ModelObject | undefined> {
    return this.call(async (client) => {
      try {
        const h = await client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }));
        return { name, size: h.ContentLength ?? 0, lastModified: h.LastModified ?? new Date(0), sha256: h.Metadata?.sha256 };
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw err;
      }
    });
  }

  async put(name: string, localPath: string, options: PutOptions): Promise<ModelObject> {
    const client = await this.client();
    const upload = new Upload({
      client,
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      params: {
        Bucket: this.bucket,
        Key: this.keyPrefix + name,
        Body: fs.createReadStream(localPath, { highWaterMark: 1024 * 1024 }),
        ContentType: 'application/gzip',
        Metadata: { sha256: options.sha256 },
        // S3 refuses the write if the name exists, even one created after `mme push` checked.
        ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
      },
    });
    upload.on('httpUploadProgress', (p) => options.onProgress?.(p.loaded ?? 0));
    const onAbort = () => void upload.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (err) {
      await this.abandon(client, upload, name);
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) throw wouldOverwrite(name, this.url);
      throw explainAwsError(err, this.settings.endpointUrl);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const stored = await this.head(name);
    const size = fs.statSync(localPath).size;
    if (!stored || stored.size !== size || stored.sha256 !== options.sha256) {
      throw new MmeError(`upload of ${name} did not verify: the stored object is ${stored ? `${stored.size} bytes, sha256 ${stored.sha256 ?? 'unrecorded'}` : 'missing'}; expected ${size} bytes, sha256 ${options.sha256}.`);
    }
    return stored;
  }

  /** No orphaned parts: whatever the SDK did on failure, abort the multipart upload if one was started. */
  private async abandon(client: S3Client, upload: Upload, name: string): Promise<void> {
    const uploadId = (upload as unknown as { uploadId?: string }).uploadId;
    if (!uploadId) return;
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.keyPrefix + name, UploadId: uploadId }))
      .catch(() => undefined); // already aborted by the SDK
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
