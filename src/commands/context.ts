import { findConfigFile, readConfigFile, resolveFleet, selectFleet, type GlobalFlags, type LoadedConfigFile, type ResolvedConfig } from '../config/load.js';
import { usageError } from '../output/errors.js';
import type { Output } from '../output/output.js';
import type { Context } from './command.js';

export function makeContext(out: Output, flags: GlobalFlags, signal: AbortSignal): Context {
  let loaded: LoadedConfigFile | undefined;
  let resolved: ResolvedConfig | undefined;
  const configFile = () => (loaded ??= readConfigFile(findConfigFile(flags, process.env, process.cwd())));
  return {
    out,
    flags,
    signal,
    configFile,
    config: () => (resolved ??= resolveFleet(flags, process.env, configFile(), selectFleet(flags, process.env, configFile()))),
    fleetConfig(name: string) {
      if (!(name in configFile().file.fleets)) throw usageError(`unknown fleet "${name}".`);
      // Only flags apply across fleets; a fleet's own file settings must not be overridden by one fleet's --fleet choice.
      return resolveFleet({ ...flags, fleet: name }, process.env, configFile(), name);
    },
  };
}
