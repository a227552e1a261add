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
export function explainAwsError(err: unknown, where?: string | { endpointUrl?: string; profile?: string }): unknown {
  if (err instanceof MmeError || !(err instanceof Error)) return err;
  const endpointUrl = typeof where === 'string' ? where : where?.endpointUrl;
  const profile = typeof where === 'string' ? undefined : where?.profile;
  const e = err as Error & { $metadata?: { httpStatusCode?: number } };
  const named = profile ?? process.env.AWS_PROFILE;
  if (isCredentialsError(e) && (named || /credential_process|profile/i.test(e.message))) {
    // A profile was asked for (or a credential_process ran) and failed: say so, in the SDK's own words.
    const why = e.message.split('\n')[0].replace(/\s+/g, ' ').slice(0, 300);
    return new MmeError(
      `${named ? `AWS profile "${named}"` : 'the AWS profile'} could not provide credentials: ${why}`,
      ExitCode.usage,
      'Check the profile in ~/.aws/config (its credential_process, SSO session or keys), or run `aws sso login --profile ' + (named ?? 'NAME') + '`.',
    );
  }
  if (isCredentialsError(e)) {
    return new MmeError(
      'no AWS credentials found.',
      ExitCode.usage,
      'Set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`.',
    );
  }
  if (/Region is missing/.test(e.message)) {
    return new MmeError('no AWS region configured.', ExitCode.usage, 'Pass --region eu-west-1, set AWS_REGION, or add "region" to the fleet.');
  }
  if (networkCode(e) !== undefined || e.name === 'TimeoutError') {
    const code = errorCode(e);
    const where = endpointUrl ?? 'the AWS endpoint';
    // A connection that was made and then broke, or went silent, is not a server that cannot be reached.
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      return new MmeError(
        `the connection to ${where} was reset mid-request (${code}).`,
        ExitCode.failed,
        'The network or a proxy dropped it; run the command again.',
      );
    }
    if (e.name === 'TimeoutError' || code === 'ETIMEDOUT') {
      const idle = /inactivity|socket timed out/i.test(e.message);
      return new MmeError(
        idle ? `no answer from ${where} within the request timeout (${e.name}).` : `cannot connect to ${where} within the connect timeout (${code ?? e.name}).`,
        ExitCode.failed,
        idle
          ? 'Raise it with --request-timeout (env MME_REQUEST_TIMEOUT, config "requestTimeout") if the network is slow.'
          : 'Check the network and the endpoint; --connect-timeout (env MME_CONNECT_TIMEOUT) sets the limit.',
      );
    }
    return new MmeError(
      `cannot reach ${where} (${code ?? e.name}).`,
      ExitCode.failed,
      endpointUrl ? 'Is the server running? Check --endpoint-url / the fleet\'s "endpointUrl".' : 'Check your network and region.',
    );
  }
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchBucket') {
    const bucket = (e as { BucketName?: string }).BucketName;
    return new MmeError(`bucket ${bucket ? `"${bucket}" ` : ''}does not exist.`, ExitCode.notFound, "Check the fleet's prefix.");
  }
  if (e.name === 'AccessDenied' || status === 403) {
    return new MmeError(`access denied (${e.name}): ${e.message}`, ExitCode.failed, 'Check the IAM permissions of the profile in use.');
  }
  if (status !== undefined) return new MmeError(`${e.name}: ${e.message} (HTTP ${status})`, ExitCode.failed);
  return err;
}
