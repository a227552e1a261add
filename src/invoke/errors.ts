import { explainAwsError, isCredentialsError, networkCode } from '../aws/errors.js';
import { ExitCode, MmeError } from '../output/errors.js';

/**
 * What went wrong with an InvokeEndpoint call, in the terms an MME user acts on. The load report counts failures by
 * `kind`; a single `mme invoke` turns the failure into one line and an exit code (see explainInvokeFailure).
 */
export type InvokeErrorKind =
  | 'ModelError' // the container answered 4xx/5xx
  | 'ModelNotReady' // still loading after the --wait-ready budget
  | 'EndpointNotFound'
  | 'NotMultiModel' // a TargetModel sent to a single-model endpoint
  | 'ModelDownloadFailed' // the model is not under the prefix, or the endpoint's role cannot read it
  | 'ValidationError' // any other 400 ValidationError
  | 'Throttled'
  | 'ServiceError' // 5xx after the SDK's retries
  | 'Unreachable'
  | 'Credentials'
  | 'AccessDenied'
  | 'Aborted'
  | 'Other';

export interface InvokeFailure {
  kind: InvokeErrorKind;
  /** the service's error name (ModelError, ValidationError, …) or the Node error code */
  name: string;
  message: string;
  httpStatus?: number;
  originalStatusCode?: number;
  originalMessage?: string;
  logStreamArn?: string;
  /** the underlying error, for --debug */
  cause: unknown;
}

type SdkError = Error & {
  $metadata?: { httpStatusCode?: number };
  Message?: string;
  OriginalStatusCode?: number;
  OriginalMessage?: string;
  LogStreamArn?: string;
};

const THROTTLING_NAMES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown']);

/** Sorts any error thrown by InvokeEndpoint into a kind. Pure: no I/O, so the load mode can call it per request. */
export function classifyInvokeError(err: unknown): InvokeFailure {
  const e = (err instanceof Error ? err : new Error(String(err))) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const message = (e.Message ?? e.message ?? '').trim() || e.name;
  const base = { name: e.name, message, httpStatus: status, cause: err };

  if (e.name === 'AbortError') return { ...base, kind: 'Aborted' };
  if (e.name === 'ModelError') {
    return {
      ...base,
      kind: 'ModelError',
      originalStatusCode: e.OriginalStatusCode,
      originalMessage: e.OriginalMessage,
      logStreamArn: e.LogStreamArn,
    };
  }
  if (e.name === 'ModelNotReadyException') return { ...base, kind: 'ModelNotReady' };
  if (e.name === 'ValidationError') {
    // The service's wording is the only signal; these phrasings are the ones SageMaker returns for MME calls.
    if (/^Endpoint .+ of account .+ not found/i.test(message)) return { ...base, kind: 'EndpointNotFound' };
    if (/not a multi-model endpoint|does not support target model/i.test(message)) return { ...base, kind: 'NotMultiModel' };
    if (/failed to download model|could not find model|model .*not found/i.test(message)) return { ...base, kind: 'ModelDownloadFailed' };
    return { ...base, kind: 'ValidationError' };
  }
  if (isCredentialsError(e)) return { ...base, kind: 'Credentials' };
  const code = networkCode(e);
  if (code) return { ...base, name: code, kind: 'Unreachable' };
  if (e.name === 'TimeoutError') return { ...base, kind: 'Unreachable' };
  if (THROTTLING_NAMES.has(e.name) || status === 429) return { ...base, kind: 'Throttled' };
  if (e.name === 'AccessDeniedException' || e.name === 'AccessDenied' || status === 403) return { ...base, kind: 'AccessDenied' };
  if (status !== undefined && status >= 500) return { ...base, kind: 'ServiceError' };
  return { ...base, kind: 'Other' };
}

export interface ExplainContext {
  endpointName: string;
  targetModel: string;
  endpointUrl?: string;
  profile?: string;
  /** where the fleet's models live, when configured (s3://… or file://…) */
  prefix?: string;
  /** whether the model exists under the prefix: true, false, or undefined when it could not be checked */
  modelExists?: boolean;
  /** the --wait-ready budget in seconds, for the ModelNotReady message */
  waitReadySeconds?: number;
}

/**
 * One line for a person, and the exit code scripts see:
 * 3 when the endpoint does not exist or the model is confirmed missing under the prefix, 2 when the request or the
 * configuration is wrong (not a multi-model endpoint, other ValidationErrors, no credentials), 1 otherwise.
 */
export function explainInvokeFailure(f: InvokeFailure, c: ExplainContext): MmeError {
  const target = c.targetModel;
  const endpoint = c.endpointName;
  switch (f.kind) {
    case 'ModelError': {
      const status = f.originalStatusCode !== undefined ? `HTTP ${f.originalStatusCode}` : 'an error';
      const said = f.originalMessage ? `: ${oneLine(f.originalMessage)}` : f.message ? ` (${oneLine(f.message)})` : '';
      const logs = f.logStreamArn ? `Container logs: ${f.logStreamArn}` : "See the endpoint's CloudWatch logs (/aws/sagemaker/Endpoints/" + endpoint + ').';
      return new MmeError(`ModelError: the model container for ${target} on ${endpoint} answered ${status}${said}.`, ExitCode.failed, logs);
    }
    case 'ModelNotReady':
      return new MmeError(
        `ModelNotReadyException: ${target} was still loading on ${endpoint} after ${c.waitReadySeconds ?? 0} s of retries.`,
        ExitCode.failed,
        'Loading can take up to 360 s for large models; retry later, or raise --wait-ready.',
      );
    case 'EndpointNotFound':
      return new MmeError(
        `endpoint ${endpoint} does not exist in this account and region (ValidationError: ${oneLine(f.message)})`,
        ExitCode.notFound,
        'Check the fleet\'s "endpointName" and "region" (`mme config`), or --endpoint-name/--region.',
      );
    case 'NotMultiModel':
      return new MmeError(
        `endpoint ${endpoint} is not a multi-model endpoint, so it does not take a TargetModel (ValidationError).`,
        ExitCode.usage,
        'Point the fleet at an MME (its model must be created with Mode "MultiModel" and a ModelDataUrl prefix), or call a single-model endpoint without mme.',
      );
    case 'ModelDownloadFailed': {
      const where = c.prefix ? ` under ${c.prefix}` : '';
      if (c.modelExists === false) {
        return new MmeError(
          `model ${target} is not${where || " under the endpoint's prefix"} (ValidationError: ${oneLine(f.message)})`,
          ExitCode.notFound,
          'List the models with `mme ls`, or upload it with `mme push`.',
        );
      }
      if (c.modelExists === true) {
        return new MmeError(
          `the endpoint could not download ${target}, although it exists${where} (ValidationError: ${oneLine(f.message)})`,
          ExitCode.failed,
          "Check that the endpoint's model points at this prefix (its ModelDataUrl) and that its execution role may read it.",
        );
      }
      return new MmeError(
        `the endpoint could not download ${target} (ValidationError: ${oneLine(f.message)})`,
        ExitCode.failed,
        "Check that the model is under the endpoint's prefix with `mme ls`, and that the endpoint's execution role may read it.",
      );
    }
    case 'ValidationError':
      return new MmeError(
        `ValidationError from ${endpoint}: ${oneLine(f.message)}`,
        ExitCode.usage,
        'Check --target (`mme ls` lists the names), --content-type and the endpoint name.',
      );
    case 'Throttled':
      return new MmeError(
        `${f.name}: ${endpoint} is throttling requests (${oneLine(f.message)}), still after the SDK's retries.`,
        ExitCode.failed,
        'Send fewer requests at once, or raise AWS_MAX_ATTEMPTS.',
      );
    case 'ServiceError':
      return new MmeError(
        `${f.name} from ${endpoint} (HTTP ${f.httpStatus}): ${oneLine(f.message)}`,
        ExitCode.failed,
        "The SDK already retried; try again later, and check the endpoint's status and CloudWatch logs.",
      );
    case 'Unreachable':
    case 'Credentials':
    case 'AccessDenied': {
      const explained = explainAwsError(f.cause, c);
      if (explained instanceof MmeError) return explained;
      return new MmeError(oneLine(f.message), ExitCode.failed);
    }
    case 'Aborted':
      return new MmeError('interrupted.', ExitCode.interrupted);
    default: {
      const explained = explainAwsError(f.cause, c);
      if (explained instanceof MmeError) return explained;
      return new MmeError(`${f.name}: ${oneLine(f.message)}`, ExitCode.failed);
    }
  }
}

/** Container messages are often multi-line JSON; the error stays on one line and within reason. */
function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
