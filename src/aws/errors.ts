import { ExitCode, MmeError } from '../output/errors.js';

/** Node's error codes for a host that cannot be reached, or a connection that broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);

/** The Node error code of an SDK error: its own, or its cause's (the SDK wraps socket errors). */
function errorCode(err: Error): string | undefined {
  return (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
}

/** The error's network code (ECONNREFUSED, ENOTFOUND, …) when it is one, else undefined. */
export function networkCode(err: Error): string | undefined {
  const code = errorCode(err);
  return code && NETWORK_CODES.has(code) ? code : undefined;
}

/** Whether the SDK found no credentials to sign with. */
export function isCredentialsError(err: Error): boolean {
  return err.name === 'CredentialsProviderError' || /Could not load credentials/.test(err.message);
}

/**
 * Turns what the SDK throws into one line for a person. Credentials, regions and unreachable endpoints are the
 * usual first-day failures, so they get their own hints; anything else keeps the service's own words.
 */
export function explainAwsError(err: unknown, endpointUrl?: string): unknown {
  if (err instanceof MmeError || !(err instanceof Error)) return err;
  const e = err as Error & { $metadata?: { httpStatusCode?: number } };
  if (isCredentialsError(e)) {
    return new MmeError('no AWS credentials found.', ExitCode.usage,
      'Set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`.');
  }
  if (/Region is missing/.test(e.message)) {
    return new MmeError('no AWS region configured.', ExitCode.usage, 'Pass --region eu-west-1, set AWS_REGION, or add "region" to the fleet.');
  }
  if (networkCode(e) !== undefined || e.name === 'TimeoutError') {
    const code = errorCode(e);
    const where = endpointUrl ?? 'the AWS endpoint';
    return new MmeError(`cannot reach ${where} (${code ?? e.name}).`, ExitCode.failed,
      endpointUrl ? 'Is the server running? Check --endpoint-url / the fleet\'s "endpointUrl".' : 'Check your network and region.');
  }
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchBucket') {
    const bucket = (e as { BucketName?: string }).BucketName;
    return new MmeError(`bucket ${bucket ? `"${bucket}" ` : ''}does not exist.`, ExitCode.notFound, 'Check the fleet\'s prefix.');
  }
  if (e.name === 'AccessDenied' || status === 403) {
    return new MmeError(`access denied (${e.name}): ${e.message}`, ExitCode.failed, 'Check the IAM permissions of the profile in use.');
  }
  if (status !== undefined) return new MmeError(`${e.name}: ${e.message} (HTTP ${status})`, ExitCode.failed);
  return err;
}
