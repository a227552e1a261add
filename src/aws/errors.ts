import { ExitCode, MmeError } from '../output/errors.js';

/**
 * Turns what the SDK throws into one line for a person. Credentials, regions and unreachable endpoints are the
 * usual first-day failures, so they get their own hints; anything else keeps the service's own words.
 */
export function explainAwsError(err: unknown, endpointUrl?: string): unknown {
  if (err instanceof MmeError || !(err instanceof Error)) return err;
  const e = err as Error & { name: string; code?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
  const code = e.code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/.test(e.message)) {
    return new MmeError('no AWS credentials found.', ExitCode.usage,
      'Set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`.');
  }
  if (/Region is missing/.test(e.message)) {
    return new MmeError('no AWS region configured.', ExitCode.usage, 'Pass --region eu-west-1, set AWS_REGION, or add "region" to the fleet.');
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' ||
      e.name === 'TimeoutError' || code === 'ECONNRESET') {
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
