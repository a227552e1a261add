// Kept apart from the zod schema so that commands can name settings without loading zod.
/** The settings every command resolves, in the order `mme config` prints them. */
export const settingKeys = ['prefix', 'endpointName', 'variant', 'region', 'profile', 'endpointUrl', 'connectTimeout', 'requestTimeout'] as const;
export type SettingKey = (typeof settingKeys)[number];

/** Where to put each setting, for error hints: flag, environment variable, config key. */
export const settingSources: Record<SettingKey, { flag: string; env: string[]; example: string; default?: string }> = {
  prefix: { flag: '--prefix', env: ['MME_PREFIX'], example: 's3://my-bucket/models/' },
  endpointName: { flag: '--endpoint-name', env: ['MME_ENDPOINT_NAME'], example: 'fraud-mme' },
  variant: { flag: '--variant', env: ['MME_VARIANT'], example: 'AllTraffic', default: 'AllTraffic' },
  region: { flag: '--region', env: ['AWS_REGION', 'AWS_DEFAULT_REGION'], example: 'eu-west-1' },
  profile: { flag: '--profile', env: ['AWS_PROFILE'], example: 'ml-prod' },
  endpointUrl: { flag: '--endpoint-url', env: ['AWS_ENDPOINT_URL'], example: 'http://127.0.0.1:8080' },
  connectTimeout: { flag: '--connect-timeout', env: ['MME_CONNECT_TIMEOUT'], example: '10s', default: '10s' },
  requestTimeout: { flag: '--request-timeout', env: ['MME_REQUEST_TIMEOUT'], example: '60s', default: '60s' },
};
