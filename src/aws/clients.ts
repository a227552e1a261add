import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ResolvedConfig } from '../config/load.js';
import { timeoutMs } from '../config/validate.js';
import { usageError } from '../output/errors.js';
import { VERSION } from '../version.js';

/**
 * The one place AWS clients are built. SDK packages are imported on first use (so `mme --help` never loads them),
 * and each client is built once per process for a given region/profile/endpoint and then shared.
 */
export interface ClientSettings {
  region?: string;
  profile?: string;
  endpointUrl?: string;
  /** TCP (and TLS) connect limit, ms. */
  connectTimeoutMs?: number;
  /** A request that sends and receives nothing for this long fails, ms. */
  requestTimeoutMs?: number;
}

/** Defaults a cron job can live with: a dead host fails in 10 s, a stalled request in 60 s (per attempt). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export function clientSettings(config: ResolvedConfig): ClientSettings {
  const s = config.settings;
  return {
    region: s.region.value,
    profile: s.profile.value,
    endpointUrl: s.endpointUrl.value,
    connectTimeoutMs: timeoutMs(s.connectTimeout.value ?? '') ?? DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: timeoutMs(s.requestTimeout.value ?? '') ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

/**
 * The client, with every call it sends tied to `signal` (the command's Ctrl-C / SIGTERM): paginators and
 * lib-storage call `client.send`, so this reaches them too. An abortSignal passed explicitly still wins.
 */
// biome-ignore lint/suspicious/noExplicitAny: any SDK client's send(), whatever its command types
export function withSignal<C extends { send: (...args: any[]) => Promise<any> }>(client: C, signal: AbortSignal | undefined): C {
  if (!signal) return client;
  const bound = Object.create(client) as C;
  const send = client.send.bind(client) as (command: unknown, options?: object) => Promise<unknown>;
  (bound as { send: unknown }).send = (command: unknown, options?: object) => send(command, { abortSignal: signal, ...options });
  return bound;
}

// The SDK's notice that future releases will need Node 22 would print on every command; it is for us, not users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const clients = new Map<string, Promise<unknown>>();

export function s3Client(settings: ClientSettings): Promise<S3Client> {
  return memo('s3', settings, async (common) => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    // Custom endpoints (moto, MinIO, LocalStack, mme local) rarely serve virtual-hosted bucket names.
    // No `Expect: 100-continue`: the SDK sends each request that carries it on a connection of its own (a TCP and a
    // TLS handshake per artifact or part, where keep-alive reuses one), and what it would spare, a body sent before
    // a refusal, is at most one 8 MiB part: every upload is checked first (names, overwrites).
    return new S3Client({ ...common, forcePathStyle: Boolean(settings.endpointUrl), expectContinueHeader: false });
  });
}

export function runtimeClient(settings: ClientSettings): Promise<SageMakerRuntimeClient> {
  return memo('runtime', settings, async (common) => {
    const { SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
    return new SageMakerRuntimeClient(common);
  });
}

export function cloudWatchClient(settings: ClientSettings): Promise<CloudWatchClient> {
  return memo('cloudwatch', settings, async (common) => {
    const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
    return new CloudWatchClient(common);
  });
}

interface CommonConfig {
  region?: string;
  profile?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  customUserAgent: string;
  maxAttempts?: number;
  requestHandler: { connectionTimeout: number; socketTimeout: number };
}

function memo<T>(service: string, settings: ClientSettings, build: (common: CommonConfig) => Promise<T>): Promise<T> {
  const key = JSON.stringify([service, settings.region, settings.profile, settings.endpointUrl, settings.connectTimeoutMs, settings.requestTimeoutMs]);
  let client = clients.get(key) as Promise<T> | undefined;
  if (!client) {
    client = build(commonConfig(settings)).then(async (c) => {
      await checkRegion(c as { config: { region: () => Promise<string> } });
      return c;
    });
    clients.set(key, client);
  }
  return client;
}

function commonConfig(settings: ClientSettings): CommonConfig {
  const local = settings.endpointUrl !== undefined && isLoopback(settings.endpointUrl);
  const env = process.env;
  const common: CommonConfig = {
    region: settings.region ?? (local ? 'us-east-1' : undefined),
    profile: settings.profile,
    endpoint: settings.endpointUrl,
    customUserAgent: `mme/${VERSION}`,
    // socketTimeout is an idle limit (no byte either way), so a slow but moving upload of a large part still ends.
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      socketTimeout: settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    },
  };
  // A server on this machine (moto, mme local) does not check signatures: spare the user fake credentials.
  if (local && !env.AWS_ACCESS_KEY_ID && !settings.profile) {
    common.credentials = { accessKeyId: 'mme-local', secretAccessKey: 'mme-local' };
  }
  if (env.AWS_MAX_ATTEMPTS === undefined) common.maxAttempts = 3;
  return common;
}

async function checkRegion(client: { config: { region: () => Promise<string> } }): Promise<void> {
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch {
    region = undefined;
  }
  if (!region) {
    throw usageError('no AWS region configured.', 'Pass --region eu-west-1, set AWS_REGION, or add "region" to the fleet in mme.config.json.');
  }
}

export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}
