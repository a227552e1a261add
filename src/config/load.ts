import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../output/errors.js';
import type { ConfigFile, configFileSchema } from './schema.js';
import { settingKeys, settingSources, type SettingKey } from './settings.js';
import { checkEndpointName, checkEndpointUrl, checkTimeout, describeOrigin, normalisePrefix, type Origin } from './validate.js';

export const CONFIG_FILE_NAME = 'mme.config.json';

/** Flags every command accepts, as commander hands them over. */
export interface GlobalFlags {
  fleet?: string;
  config?: string;
  prefix?: string;
  endpointName?: string;
  variant?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  connectTimeout?: string;
  requestTimeout?: string;
}

export interface Setting {
  value: string | undefined;
  origin: Origin;
}

/** The settings of one fleet after flags > environment > config file > defaults. */
export interface ResolvedConfig {
  fleet: string | undefined;
  configPath: string | undefined;
  settings: Record<SettingKey, Setting>;
  /** The fleets of the config file, to name the choices when none was picked. */
  fleets?: string[];
}

export interface LoadedConfigFile {
  path: string | undefined;
  file: ConfigFile;
}

/** Where commands get fleets from: the selected one, the file's others, and whether --fleet chose one. */
export interface FleetSource {
  flags: Pick<GlobalFlags, 'fleet'>;
  configFile(): LoadedConfigFile;
  config(): ResolvedConfig;
  fleetConfig(name: string): ResolvedConfig;
}

/** Finds the config file: --config, then MME_CONFIG, then mme.config.json walking up, then ~/.config/mme/. */
export function findConfigFile(flags: GlobalFlags, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const explicit = flags.config ?? env.MME_CONFIG;
  if (explicit) {
    const p = path.resolve(cwd, explicit);
    if (!fs.existsSync(p)) {
      const from = flags.config ? '--config' : 'MME_CONFIG';
      throw usageError(`config file ${p} (from ${from}) does not exist.`, `Create it, or point ${from} at an existing ${CONFIG_FILE_NAME}.`);
    }
    return p;
  }
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const p = path.join(dir, CONFIG_FILE_NAME);
    if (fs.existsSync(p)) return p;
    if (path.dirname(dir) === dir) break;
  }
  const home = env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  const user = path.join(home, 'mme', 'config.json');
  return fs.existsSync(user) ? user : undefined;
}

/** The zod schema, passed in by the caller that imported it: zod costs start-up time, so only a file pays for it. */
export type ConfigSchema = typeof configFileSchema;

export function readConfigFile(p: string | undefined, schema?: ConfigSchema): LoadedConfigFile {
  if (!p || !schema) return { path: undefined, file: { fleets: {} } };
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    throw usageError(`cannot read config file ${p}: ${(e as NodeJS.ErrnoException).code ?? e}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw usageError(
      `${p} is not valid JSON: ${(e as Error).message}.`,
      'Expected e.g. {"defaultFleet":"tail","fleets":{"tail":{"prefix":"s3://my-bucket/models/"}}}.',
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join('.') || '(top level)';
    let what = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const known = issue.path.length === 0 ? ['defaultFleet', 'fleets'] : [...settingKeys];
      what = `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')} (known keys: ${known.join(', ')})`;
    }
    throw usageError(
      `${p}: ${key}: ${what}.`,
      'Expected e.g. {"defaultFleet":"tail","fleets":{"tail":{"prefix":"s3://my-bucket/models/","endpointName":"fraud-mme"}}}.',
    );
  }
  const file = parsed.data;
  if (file.defaultFleet !== undefined && !(file.defaultFleet in file.fleets)) {
    throw usageError(`${p}: defaultFleet: "${file.defaultFleet}" is not one of the fleets (${knownFleets(file)}).`);
  }
  return { path: p, file };
}

export function knownFleets(file: ConfigFile): string {
  const names = Object.keys(file.fleets);
  return names.length ? names.join(', ') : 'none configured';
}

const ENV_FLEET = 'MME_FLEET';

/** Picks the fleet: --fleet, MME_FLEET, the file's defaultFleet, or the only fleet there is. */
export function selectFleet(flags: GlobalFlags, env: NodeJS.ProcessEnv, loaded: LoadedConfigFile): string | undefined {
  const asked = flags.fleet ?? env[ENV_FLEET];
  const names = Object.keys(loaded.file.fleets);
  if (asked !== undefined) {
    if (!names.includes(asked)) {
      const where = loaded.path ? `in ${loaded.path}` : `(no ${CONFIG_FILE_NAME} found)`;
      const from = flags.fleet !== undefined ? '--fleet' : ENV_FLEET;
      throw usageError(`unknown fleet "${asked}" (from ${from}) ${where}; known fleets: ${knownFleets(loaded.file)}.`);
    }
    return asked;
  }
  if (loaded.file.defaultFleet) return loaded.file.defaultFleet;
  return names.length === 1 ? names[0] : undefined;
}

const flagNames: Record<SettingKey, keyof GlobalFlags> = {
  prefix: 'prefix',
  endpointName: 'endpointName',
  variant: 'variant',
  region: 'region',
  profile: 'profile',
  endpointUrl: 'endpointUrl',
  connectTimeout: 'connectTimeout',
  requestTimeout: 'requestTimeout',
};

/** Resolves one fleet's settings: flags > environment > config file > defaults, each value with its origin. */
export function resolveFleet(flags: GlobalFlags, env: NodeJS.ProcessEnv, loaded: LoadedConfigFile, fleet: string | undefined): ResolvedConfig {
  const fromFile = fleet ? loaded.file.fleets[fleet] : undefined;
  const settings = {} as Record<SettingKey, Setting>;
  for (const key of settingKeys) {
    const src = settingSources[key];
    let setting: Setting = { value: src.default, origin: { kind: 'default' } };
    const flagValue = flags[flagNames[key]];
    const envName = src.env.find((name) => env[name]);
    if (flagValue !== undefined) setting = { value: flagValue, origin: { kind: 'flag', where: src.flag } };
    else if (envName) setting = { value: env[envName], origin: { kind: 'env', where: envName } };
    else if (fromFile?.[key] !== undefined) setting = { value: fromFile[key], origin: { kind: 'file', where: loaded.path, fleet } };
    settings[key] = { value: check(key, setting), origin: setting.origin };
  }
  return { fleet, configPath: loaded.path, settings, fleets: Object.keys(loaded.file.fleets) };
}

function check(key: SettingKey, s: Setting): string | undefined {
  if (s.value === undefined) return undefined;
  if (s.value.trim() === '') throw usageError(`${describeOrigin(s.origin, key)}: ${key} is empty.`, `Give a value, e.g. "${settingSources[key].example}".`);
  switch (key) {
    case 'prefix':
      return normalisePrefix(s.value, s.origin);
    case 'endpointName':
      return checkEndpointName(s.value, s.origin);
    case 'endpointUrl':
      return checkEndpointUrl(s.value, s.origin);
    case 'connectTimeout':
    case 'requestTimeout':
      return checkTimeout(key, s.value, s.origin);
    default:
      return s.value;
  }
}

/** A setting a command cannot do without; the error lists every way to provide it. */
export function requireSetting(config: ResolvedConfig, key: SettingKey): string {
  const value = config.settings[key].value;
  if (value !== undefined) return value;
  const src = settingSources[key];
  const fleet = config.fleet ? `fleets.${config.fleet}.${key}` : `a fleet's "${key}"`;
  const file = config.configPath ?? CONFIG_FILE_NAME;
  const choices = config.fleets ?? [];
  if (!config.fleet && choices.length > 1) {
    // Several fleets and no choice: the missing setting is only a symptom.
    throw usageError(
      `${file} has ${choices.length} fleets and none was chosen (no --fleet, MME_FLEET or "defaultFleet"), so no ${key} is configured.`,
      `Pick one with --fleet ${choices.join('|')}, set MME_FLEET, or add "defaultFleet" to ${file}.`,
    );
  }
  throw usageError(`no ${key} configured.`, `Pass ${src.flag} ${src.example}, set ${src.env[0]}, or add ${fleet} to ${file}.`);
}
