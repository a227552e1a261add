// The parts of an S3 upload that make it honest: what it sent (hashed as it goes), what it left behind, and what
// a person is told when it fails.
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { explainAwsError } from '../aws/errors.js';
import { ExitCode, MmeError } from '../output/errors.js';
import { wouldOverwrite } from './overwrite.js';
import { changedFile, checksumPart } from './s3-put.js';

/** A pass-through that hashes the bytes on their way to S3 and, at their end, checks them against the expected sha256. */
export interface HashTap extends Transform {
  size: number;
  /** Set when the bytes read differ from the ones hashed before the push: the file changed under us. */
  changed?: MmeError;
}

export function hashTap(expectedSha256: string, onChanged: () => void): HashTap {
  const hash = crypto.createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk);
      tap.size += chunk.length;
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      const sent = hash.digest('hex');
      if (sent === expectedSha256) return done();
      tap.changed = changedFile(sent, expectedSha256);
      onChanged();
      done(tap.changed);
    },
  }) as HashTap;
  tap.size = 0;
  return tap;
}

/** Every call an upload makes, seen from outside lib-storage: what is in flight, the upload ids, the first failure. */
export interface UploadTrack {
  client: S3Client;
  uploadIds: string[];
  createSent: boolean;
  firstError?: unknown;
  /** Resolves once nothing this upload sent is still in flight. */
  settled(): Promise<void>;
}

export function trackUpload(raw: S3Client, stop: AbortController): UploadTrack {
  const inFlight = new Set<Promise<unknown>>();
  const track: UploadTrack = {
    client: Object.create(raw) as S3Client,
    uploadIds: [],
    createSent: false,
    settled: async () => {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
  const send = raw.send.bind(raw) as (command: unknown, options?: object) => Promise<unknown>;
  (track.client as { send: unknown }).send = (command: unknown, options?: object) => {
    const create = command instanceof CreateMultipartUploadCommand;
    if (create) track.createSent = true;
    checksumPart(command); // one hash of each part for its checksum and its signature
    const p = send(command, { abortSignal: stop.signal, ...options });
    inFlight.add(p);
    p.then(
      (out) => {
        const id = (out as { UploadId?: string }).UploadId;
        if (create && id) track.uploadIds.push(id);
      },
      (err) => {
        // A failure the SDK gave up on (after its retries) ends the whole upload at once, not after the other parts.
        if (!stop.signal.aborted && !(command instanceof AbortMultipartUploadCommand)) {
          track.firstError ??= err;
          stop.abort();
        }
      },
    ).finally(() => inFlight.delete(p));
    return p;
  };
  return track;
}

export interface Cleanup {
  uploadIds: string[];
  aborted: boolean;
  /** Ids whose AbortMultipartUpload failed: their parts are still stored (and billed). */
  left?: string[];
  /** The upload may exist but could not be looked for. */
  unknown?: boolean;
}

interface FailureInput {
  err: unknown;
  cause: unknown;
  interrupted: boolean;
  cleanup: Cleanup;
  name: string;
  key: string;
  bucket: string;
  url: string;
  endpointUrl?: string;
  profile?: string;
}

/** One line that says what happened to this upload and what is left on S3. */
export function putFailure(f: FailureInput): MmeError {
  const what = f.cleanup.left?.length
    ? `its multipart upload ${f.cleanup.left.join(', ')} could not be aborted`
    : f.cleanup.unknown
      ? 'a multipart upload may have been started and could not be checked'
      : f.cleanup.uploadIds.length
        ? 'its multipart upload was aborted; nothing was written'
        : 'nothing was written';
  const leftHint = f.cleanup.left?.length
    ? `Remove its parts: aws s3api abort-multipart-upload --bucket ${f.bucket} --key ${f.key} --upload-id ${f.cleanup.left[0]}.`
    : f.cleanup.unknown
      ? `Check with: aws s3api list-multipart-uploads --bucket ${f.bucket} --prefix ${f.key}.`
      : undefined;
  const hints = (h?: string) => [h, leftHint].filter(Boolean).join(' ') || undefined;

  if (f.cause instanceof MmeError)
    return new MmeError(`${f.name}: ${f.cause.message.replace(/; nothing was written$/, '')}; ${what}.`, f.cause.exitCode, hints(f.cause.hint));
  const cause = f.cause ?? f.err;
  if ((cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
    const w = wouldOverwrite(f.name, f.url);
    return new MmeError(w.message.replace(/;/, ` (another push created it meanwhile); ${what};`), w.exitCode, hints(w.hint));
  }
  if (f.interrupted) return new MmeError(`upload of ${f.name} interrupted; ${what}.`, ExitCode.interrupted, leftHint);
  const explained = explainAwsError(cause, { endpointUrl: f.endpointUrl, profile: f.profile });
  if (explained instanceof MmeError) {
    return new MmeError(`upload of ${f.name} failed: ${explained.message.replace(/\.$/, '')}; ${what}.`, explained.exitCode, hints(explained.hint));
  }
  const message = cause instanceof Error ? `${cause.name}: ${cause.message.split('\n')[0]}` : String(cause);
  return new MmeError(`upload of ${f.name} failed: ${message.replace(/\.$/, '')}; ${what}.`, ExitCode.failed, leftHint);
}
