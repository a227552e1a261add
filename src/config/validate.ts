import path from 'node:path';
import { usageError } from '../output/errors.js';
import { parseDurationMs } from '../util/units.js';
import type { SettingKey } from './settings.js';

/** Where a value came from, so that errors and `mme config` can say which file or flag to fix. */
export interface Origin {
  kind: 'flag' | 'env' | 'file' | 'default';
  /** flag name, variable name, or file path */
  where?: string;
  fleet?: string;
}

export function describeOrigin(o: Origin, key?: SettingKey): string {
  switch (o.kind) {
    case 'flag':
      return `flag ${o.where}`;
    case 'env':
      return `env ${o.where}`;
    case 'file':
      return `${o.where} (fleets.${o.fleet}${key ? '.' + key : ''})`;
    default:
      return 'default';
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Checks a prefix and returns it normalised: always a trailing `/` (a prefix `models/v1` must not also match
 * `models/v10/`), and file paths made absolute (relative to the config file that named them, else the current folder).
 */
export function normalisePrefix(raw: string, origin: Origin): string {
  const at = describeOrigin(origin, 'prefix');
  if (raw.startsWith('s3://')) {
    const rest = raw.slice(5);
    const bucket = rest.split('/')[0];
    if (!BUCKET.test(bucket)) {
      throw usageError(
        `${at}: "${raw}" does not name a valid S3 bucket ("${bucket}").`,
        'Bucket names are 3-63 lowercase letters, digits, dots or hyphens, e.g. "s3://my-bucket/models/".',
      );
    }
    let key = rest.slice(bucket.length + 1);
    if (key.split('/').includes('..'))
      throw usageError(`${at}: "${raw}" contains a ".." segment.`, 'Write the prefix out in full, e.g. "s3://my-bucket/models/".');
    if (key && !key.endsWith('/')) key += '/';
    return `s3://${bucket}/${key}`;
  }
  if (raw.startsWith('file://')) {
    let p = decodeURIComponent(raw.slice(7));
    if (!p) throw usageError(`${at}: "${raw}" has no path.`, 'Use e.g. "file://./models/" or "file:///srv/models/".');
    const base = origin.kind === 'file' && origin.where ? path.dirname(origin.where) : process.cwd();
    p = path.resolve(base, p);
    return `file://${p.endsWith(path.sep) ? p : p + path.sep}`;
  }
  throw usageError(`${at}: "${raw}" is not an s3:// or file:// prefix.`, 'Use e.g. "s3://my-bucket/models/" or "file://./models/".');
}

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

export function checkEndpointName(name: string, origin: Origin): string {
  if (name.length > 63 || !ENDPOINT_NAME.test(name)) {
    throw usageError(
      `${describeOrigin(origin, 'endpointName')}: "${name}" is not a valid endpoint name.`,
      'Endpoint names are 1-63 letters, digits and hyphens, starting and ending with a letter or digit, e.g. "fraud-mme".',
    );
  }
  return name;
}

export function checkEndpointUrl(url: string, origin: Origin): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usageError(`${describeOrigin(origin, 'endpointUrl')}: "${url}" is not an http(s) URL.`, 'Use e.g. "http://127.0.0.1:8080".');
  }
  return url.replace(/\/+$/, '');
}

/** "10s", "1.5s", "500ms", "2m" → milliseconds (a unit is required), within 1 ms to 1 h; undefined otherwise. */
export function timeoutMs(text: string): number | undefined {
  const ms = parseDurationMs(text, 'none');
  return ms !== undefined && Number.isFinite(ms) && ms >= 1 && ms <= 3_600_000 ? Math.round(ms) : undefined;
}

export function checkTimeout(key: 'connectTimeout' | 'requestTimeout', text: string, origin: Origin): string {
  if (timeoutMs(text) === undefined) {
    throw usageError(`${describeOrigin(origin, key)}: "${text}" is not a timeout between 1ms and 1h.`, 'Use e.g. "10s", "1.5s", "500ms" or "2m".');
  }
  return text.trim();
}
