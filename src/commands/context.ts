import { findConfigFile, readConfigFile, resolveFleet, selectFleet, type GlobalFlags, type LoadedConfigFile, type ResolvedConfig } from '../config/load.js';
import type { Output } from '../output/output.js';
import type { Context } from './command.js';

export async function makeContext(out: Output, flags: GlobalFlags, signal: AbortSignal): Promise<Context> {
  let loaded: LoadedConfigFile | undefined;
  let resolved: ResolvedConfig | undefined;
  // Finding the file is cheap; its errors (a --config that does not exist) surface when a command asks for config.
  let found: { path?: string; error?: unknown };
  try {
    found = { path: findConfigFile(flags, process.env, process.cwd()) };
  } catch (error) {
    found = { error };
  }
  const schema = found.path ? (await import('../config/schema.js')).configFileSchema : undefined;
  const configFile = () => {
    if (found.error) throw found.error;
    return (loaded ??= readConfigFile(found.path, schema));
  };
  return {
    out,
    flags,
    signal,
    configFile,
    config: () => (resolved ??= resolveFleet(flags, process.env, configFile(), selectFleet(flags, process.env, configFile()))),
    // One of the file's own fleets (stats --all-fleets): its file settings, with flags and environment on top.
    fleetConfig: (name: string) => resolveFleet(flags, process.env, configFile(), name),
  };
}
