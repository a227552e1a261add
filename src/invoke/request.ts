import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';

/** InvokeEndpoint's payload limit, for the request and for the response (sagemaker-runtime API model). */
export const MAX_PAYLOAD_BYTES = 6_291_456;

/** One InvokeEndpoint call, checked against the API's rules and ready to send. */
export interface InvokeRequest {
  endpointName: string;
  targetModel: string;
  body: Uint8Array;
  contentType: string;
  accept?: string;
  customAttributes?: string;
  targetVariant?: string;
  inferenceId?: string;
}

/** Where the body came from, for error messages ("--body-file x.csv", "stdin"). */
export interface BodySource {
  body?: string;
  bodyFile?: string;
  /** stdin, when neither flag is given */
  stdin: NodeJS.ReadStream;
}

/**
 * Reads the request body from exactly one place: --body, --body-file, or piped stdin. Never waits on a terminal:
 * with no body flag and stdin a TTY there is nothing to read, which is a usage error rather than a hang.
 */
export async function readBody(src: BodySource): Promise<{ body: Uint8Array; from: string }> {
  if (src.body !== undefined && src.bodyFile !== undefined) {
    throw usageError('--body and --body-file both give the request body.', 'Pass only one of them.');
  }
  if (src.body !== undefined) return { body: checkSize(Buffer.from(src.body, 'utf8'), '--body'), from: '--body' };
  if (src.bodyFile !== undefined) return { body: await readBodyFile(src.bodyFile), from: `--body-file ${src.bodyFile}` };
  if (src.stdin.isTTY) {
    throw usageError('no request body.', "Pass --body '1.0,2.0,3.0', --body-file rows.csv, or pipe the payload on stdin.");
  }
  const body = await readStdin(src.stdin);
  if (body.length === 0) {
    throw usageError('no request body: stdin was empty.', "Pass --body '1.0,2.0,3.0', --body-file rows.csv, or pipe the payload on stdin.");
  }
  return { body, from: 'stdin' };
}

/** The usage error for a file flag (--body-file, --targets-file) whose file cannot be read. */
export function fileReadError(flag: string, file: string, err: unknown) {
  const code = (err as NodeJS.ErrnoException).code;
  return usageError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`}.`, 'Check the path.');
}

async function readBodyFile(file: string): Promise<Uint8Array> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (e) {
    throw fileReadError('--body-file', file, e);
  }
  if (!stat.isFile()) throw usageError(`--body-file ${file} is not a regular file.`, 'Pass the path of the payload file.');
  // Checked before reading, so a multi-gigabyte file is refused without being loaded.
  checkSize({ length: stat.size }, `--body-file ${file}`);
  return checkSize(await fs.readFile(file), `--body-file ${file}`);
}

async function readStdin(stdin: NodeJS.ReadStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    // Stop reading as soon as the limit is passed: the rest of an oversized stream is never buffered.
    if (size > MAX_PAYLOAD_BYTES) checkSize({ length: size }, 'stdin', true);
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

function checkSize<T extends { length: number }>(body: T, from: string, atLeast = false): T {
  if (body.length > MAX_PAYLOAD_BYTES) {
    const size = atLeast ? `more than ${formatBytes(MAX_PAYLOAD_BYTES)}` : `${formatBytes(body.length)} (${body.length} bytes)`;
    throw usageError(
      `the request body from ${from} is ${size}; InvokeEndpoint takes at most ${MAX_PAYLOAD_BYTES} bytes (6 MB).`,
      'Send fewer rows per request, or use asynchronous inference for large payloads.',
    );
  }
  return body;
}

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.jsonl': 'application/jsonlines',
  '.libsvm': 'text/libsvm',
  '.pb': 'application/x-protobuf',
  '.npy': 'application/x-npy',
};

/** The content type: --content-type, else guessed from --body-file's extension, else text/csv (what XGBoost takes). */
export function contentTypeFor(flag: string | undefined, bodyFile: string | undefined): string {
  if (flag !== undefined) return flag;
  if (bodyFile !== undefined) {
    const guessed = CONTENT_TYPES[path.extname(bodyFile).toLowerCase()];
    if (guessed) return guessed;
  }
  return 'text/csv';
}

/**
 * Checks every header against the sagemaker-runtime API model before anything is sent, so that a mistake costs a
 * usage error here rather than a round trip and a ValidationError there. The endpoint name was checked when the
 * configuration was resolved (config/validate.ts), and TargetModel when the targets were (invoke/targets.ts).
 */
export function buildRequest(f: InvokeRequest): InvokeRequest {
  checkHeader('--content-type', f.contentType, 1024, ASCII, 'e.g. "text/csv" or "application/json"');
  if (f.accept !== undefined) checkHeader('--accept', f.accept, 1024, ASCII, 'e.g. "application/json"');
  if (f.customAttributes !== undefined) checkHeader('--custom-attributes', f.customAttributes, 1024, ASCII, 'e.g. "trace=abc123"');
  if (f.targetVariant !== undefined)
    checkHeader('--variant-target', f.targetVariant, 63, VARIANT, 'production variant names are letters, digits and hyphens, e.g. "AllTraffic"');
  if (f.inferenceId !== undefined)
    checkHeader('--inference-id', f.inferenceId, 64, PRINTABLE, 'use 1-64 printable ASCII characters, not starting with a space');
  return f;
}

const ASCII = /^[\x00-\x7f]*$/;
const VARIANT = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const PRINTABLE = /^\S[\x20-\x7e]*$/;

function checkHeader(flag: string, value: string, max: number, pattern: RegExp, fix: string): void {
  if (value.length < 1 || value.length > max) {
    throw usageError(`${flag} must be 1 to ${max} characters (it has ${value.length}).`, `Shorten it: ${fix}.`);
  }
  if (!pattern.test(value))
    throw usageError(`${flag} "${value.slice(0, 60)}" has characters InvokeEndpoint does not accept.`, `${fix[0].toUpperCase()}${fix.slice(1)}.`);
}
