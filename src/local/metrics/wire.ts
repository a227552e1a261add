/**
 * The metrics endpoints of `mme local`, in the protocols real clients speak:
 * - AWS JSON 1.0 (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.<Op>`): @aws-sdk/client-cloudwatch, and
 *   botocore (aws CLI, boto3) when it picks JSON from CloudWatch's list of protocols.
 * - Smithy RPC v2 CBOR (`POST /service/GraniteServiceVersion20100801/operation/<Op>`, `Smithy-Protocol:
 *   rpc-v2-cbor`): botocore when it picks CBOR, and newer SDKs.
 * - `GET /metrics`: Prometheus text.
 * CloudWatch is awsQueryCompatible, so errors also carry `x-amzn-query-error: <Code>;<Sender|Receiver>`, from which
 * SDKs recover the classic error codes (InvalidParameterValue, MissingParameter, ...).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cbor, dateToTag } from '@smithy/core/cbor';
import { safeDecode } from '../url.js';
import { CloudWatchError, isOperation, runOperation } from './cloudwatch.js';
import { prometheusText, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
import type { MetricsRecorder } from './recorder.js';

const SERVICE = 'GraniteServiceVersion20100801';
const SHAPE_NAMESPACE = 'com.amazonaws.cloudwatch';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const CBOR_CONTENT_TYPE = 'application/cbor';

/**
 * CBOR through the codec the AWS SDK itself ships (no native add-on to install). It leaves tags to the caller:
 * timestamps travel as tag 1 (epoch seconds), which the operations see as Dates.
 */
function decodeCbor(bytes: Uint8Array): unknown {
  const fromTags = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(fromTags);
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    const o = v as Record<string, unknown>;
    if ('tag' in o && 'value' in o && Number(o.tag) === 1) return new Date(Number(o.value) * 1000);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromTags(x)]));
  };
  return fromTags(cbor.deserialize(bytes));
}

function encodeCbor(value: unknown): Uint8Array {
  const toTags = (v: unknown): unknown => {
    if (v instanceof Date) return dateToTag(v);
    if (Array.isArray(v)) return v.map(toTags);
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toTags(x)]));
  };
  return cbor.serialize(toTags(value));
}

/** Handles CloudWatch API calls and GET /metrics; returns false when the request is not one of them. */
export function handleMetricsRequest(recorder: MetricsRecorder, req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';

  if (path === '/metrics' && (method === 'GET' || method === 'HEAD')) {
    const text = prometheusText(recorder);
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(method === 'HEAD' ? undefined : text);
    return true;
  }

  const cborOp = cborOperation(path);
  if (cborOp !== undefined) {
    if (method !== 'POST') {
      sendCbor(res, 405, errorBody(new CloudWatchError('UnknownOperationException', 'InvalidAction', `Smithy RPC v2 CBOR calls use POST, not ${method}.`)));
      return true;
    }
    if (req.headers['x-amz-target'] !== undefined || req.headers['x-amzn-target'] !== undefined) {
      // The protocol requires servers to refuse this mix (a request must not be routable two ways).
      sendError(
        res,
        'cbor',
        new CloudWatchError('SerializationException', 'SerializationException', 'An RPC v2 CBOR request must not carry an X-Amz-Target header.'),
      );
      return true;
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : decodeCbor(body);
    } catch {
      sendError(res, 'cbor', new CloudWatchError('SerializationException', 'SerializationException', 'The request body is not valid CBOR.'));
      return true;
    }
    respond(recorder, res, 'cbor', cborOp, input);
    return true;
  }

  const target = header(req, 'x-amz-target');
  if (method === 'POST' && path === '/' && target?.startsWith(`${SERVICE}.`)) {
    const op = target.slice(SERVICE.length + 1);
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      sendError(res, 'json', new CloudWatchError('SerializationException', 'SerializationException', 'The request body is not valid JSON.'));
      return true;
    }
    respond(recorder, res, 'json', op, input);
    return true;
  }

  if (method === 'POST' && path === '/' && isQueryProtocol(req, body)) {
    // Old SDKs speak the awsQuery protocol (form in, XML out); say so plainly rather than answer 404.
    const xml =
      '<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>InvalidAction</Code>' +
      '<Message>mme local answers CloudWatch in the AWS JSON 1.0 and Smithy RPC v2 CBOR protocols, not awsQuery: update your AWS SDK or CLI.</Message>' +
      `</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    res.writeHead(400, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
    return true;
  }
  return false;
}

type Protocol = 'json' | 'cbor';

function respond(recorder: MetricsRecorder, res: ServerResponse, protocol: Protocol, op: string, input: unknown): void {
  if (!isOperation(op)) {
    const err = new CloudWatchError(
      'UnknownOperationException',
      'InvalidAction',
      `mme local does not implement the CloudWatch operation ${op}; it answers GetMetricData, GetMetricStatistics, ListMetrics and PutMetricData.`,
    );
    if (protocol === 'json') sendError(res, protocol, err, 'com.amazon.coral.service#UnknownOperationException');
    else sendError(res, protocol, err, 'smithy.framework#UnknownOperationException');
    return;
  }
  let output: Record<string, unknown> | undefined;
  try {
    if (op !== 'PutMetricData') recorder.refresh();
    output = runOperation(op, input, { store: recorder.store, now: recorder.now() });
  } catch (e) {
    if (e instanceof CloudWatchError) sendError(res, protocol, e);
    else
      sendError(
        res,
        protocol,
        new CloudWatchError('InternalServiceFault', 'InternalServiceError', `mme local failed to answer ${op}: ${(e as Error).message}`, 500, 'Receiver'),
      );
    return;
  }
  const requestId = randomUUID();
  if (protocol === 'json') {
    const text = JSON.stringify(toJson(output ?? {}));
    res.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId });
    res.end(text);
  } else if (output === undefined) {
    // An operation without output: no body and no Content-Type, as the protocol requires.
    res.writeHead(200, { 'smithy-protocol': 'rpc-v2-cbor', 'content-length': 0, 'x-amzn-requestid': requestId });
    res.end();
  } else {
    sendCbor(res, 200, withoutUndefined(output), requestId);
  }
}

function sendError(res: ServerResponse, protocol: Protocol, err: CloudWatchError, type?: string): void {
  const body = errorBody(err, type);
  const queryError = `${err.queryCode};${err.fault}`;
  if (protocol === 'json') {
    const text = JSON.stringify(body);
    res.writeHead(err.status, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-query-error': queryError,
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  } else {
    sendCbor(res, err.status, body, randomUUID(), { 'x-amzn-query-error': queryError });
  }
}

function errorBody(err: CloudWatchError, type?: string): Record<string, unknown> {
  return { __type: type ?? `${SHAPE_NAMESPACE}#${err.shape}`, message: err.message };
}

function sendCbor(res: ServerResponse, status: number, body: unknown, requestId = randomUUID(), extra: Record<string, string> = {}): void {
  const bytes = encodeCbor(body);
  res.writeHead(status, {
    'smithy-protocol': 'rpc-v2-cbor',
    'content-type': CBOR_CONTENT_TYPE,
    'content-length': bytes.length,
    'x-amzn-requestid': requestId,
    ...extra,
  });
  res.end(bytes);
}

/**
 * The operation named by an RPC v2 CBOR path. Only the last four segments route; the service segment may be the
 * bare name or the absolute shape id with '#' written as '.'.
 */
function cborOperation(path: string): string | undefined {
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 4) return undefined;
  const [service, serviceName, operation, opName] = parts.slice(-4);
  if (service !== 'service' || operation !== 'operation') return undefined;
  if (serviceName !== SERVICE && serviceName !== `${SHAPE_NAMESPACE}.${SERVICE}`) return undefined;
  // A malformed escape (`%E0`) stays as it is: an unknown operation, not an internal error.
  return safeDecode(opName);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isQueryProtocol(req: IncomingMessage, body: Buffer): boolean {
  if (!(header(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) return false;
  const form = new URLSearchParams(body.toString('utf8'));
  return form.get('Version') === '2010-08-01' && form.has('Action');
}

/** AWS JSON 1.0 writes timestamps as epoch seconds. */
function toJson(v: unknown): unknown {
  return convert(v, (d) => d.getTime() / 1000);
}

/** CBOR keeps Dates (cbor-x writes tag 1, epoch seconds) but must never carry `undefined` (simple value 23). */
function withoutUndefined(v: unknown): unknown {
  return convert(v, (d) => d);
}

function convert(v: unknown, date: (d: Date) => unknown): unknown {
  if (v instanceof Date) return date(v);
  if (Array.isArray(v)) return v.map((x) => convert(x, date));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = convert(x, date);
    return out;
  }
  return v;
}
