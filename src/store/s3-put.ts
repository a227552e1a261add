// One hash pass per byte sent: the sha256 mme computes of a request's body is handed to the SDK both as the SigV4
// payload hash (`x-amz-content-sha256`, which the signer takes as it is instead of hashing the body again) and as
// the SHA-256 checksum S3 verifies on receipt (`x-amz-checksum-sha256`, which the SDK then does not compute either).
import crypto from 'node:crypto';
import { PutObjectCommand, UploadPartCommand, type PutObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { ExitCode, MmeError } from '../output/errors.js';
import { readWhole } from './read-whole.js';
import { ONE_REQUEST_MAX } from './store.js';

/** The middleware stack of any SDK command, as far as this file uses it. */
interface WithStack {
  middlewareStack: { add(mw: unknown, options: { step: 'build'; name: string; override?: boolean }): void };
}

/**
 * Sets a request's checksum and payload hash from one digest of its body: `ChecksumSHA256` (base64, verified by S3)
 * and `x-amz-content-sha256` (hex, signed). The SDK computes neither again.
 */
export function signedChecksum(command: PutObjectCommand | UploadPartCommand, digest: Buffer): void {
  command.input.ChecksumAlgorithm = 'SHA256';
  command.input.ChecksumSHA256 = digest.toString('base64');
  const hex = digest.toString('hex');
  (command as unknown as WithStack).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => (args: { request?: { headers?: Record<string, string> } }) => {
      if (args.request?.headers) args.request.headers['x-amz-content-sha256'] = hex;
      return next(args);
    },
    { step: 'build', name: 'mmePayloadSha256', override: true },
  );
}

/** For lib-storage's parts: hash each part once, for both its checksum and its signature. */
export function checksumPart(command: unknown): void {
  if (!(command instanceof UploadPartCommand)) return;
  const body = command.input.Body;
  if (!(body instanceof Uint8Array) || command.input.ChecksumSHA256) return;
  signedChecksum(command, crypto.createHash('sha256').update(body).digest());
}

export interface SinglePut {
  bucket: string;
  key: string;
  file: string;
  /** The file's bytes, read and hashed to `sha256` by the caller: sent as they are (the file is not read). */
  bytes?: Buffer;
  /** The sha256 hashed before the upload: the bytes read now must have it (else the file changed meanwhile). */
  sha256: string;
  overwrite: boolean;
  signal: AbortSignal;
}

/** The error for bytes that no longer hash to what was hashed before (the file changed between hashing and upload). */
export function changedFile(sent: string, expected: string): MmeError {
  const read = /^[0-9a-f]{64}$/.test(sent) ? `the bytes read hash to sha256 ${sent.slice(0, 12)}…` : `it now has ${sent}`;
  return new MmeError(
    `the file changed while it was being pushed: ${read}, not the ${expected.slice(0, 12)}… hashed before; nothing was written`,
    ExitCode.failed,
    'Push it again once nothing is writing to it.',
  );
}

/**
 * An artifact no larger than one part, as one PutObject from one read of the file: hashed once, refused before
 * anything is sent if it changed since it was hashed, and written only if the name is free (unless `overwrite`).
 * Returns S3's answer and the number of bytes sent; throws the SDK's error (or {@link changedFile}'s) as it is.
 */
export async function putSingle(client: S3Client, p: SinglePut): Promise<{ out: PutObjectCommandOutput; size: number; checksum: string }> {
  let bytes = p.bytes;
  let digest: Buffer;
  let release = () => {};
  if (bytes) {
    digest = Buffer.from(p.sha256, 'hex');
  } else {
    const whole = await readWhole(p.file, p.signal);
    if (!whole) throw changedFile(`of more than ${ONE_REQUEST_MAX} bytes`, p.sha256);
    ({ bytes, digest, release } = whole);
    const sent = digest.toString('hex');
    if (sent !== p.sha256) {
      release();
      throw changedFile(sent, p.sha256);
    }
  }
  p.signal.throwIfAborted();
  const command = new PutObjectCommand({
    Bucket: p.bucket,
    Key: p.key,
    Body: bytes,
    ContentLength: bytes.length,
    ContentType: 'application/gzip',
    Metadata: { sha256: p.sha256 },
    // S3 refuses the write if the name exists, even one created after the caller checked.
    ...(p.overwrite ? {} : { IfNoneMatch: '*' }),
  });
  signedChecksum(command, digest);
  const out = await client.send(command, { abortSignal: p.signal });
  release(); // answered: the request is done with the bytes (after a failure they are left to the garbage collector)
  return { out, size: bytes.length, checksum: digest.toString('base64') };
}
