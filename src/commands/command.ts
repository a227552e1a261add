import type { Command } from 'commander';
import type { Output } from '../output/output.js';
import type { GlobalFlags, LoadedConfigFile, ResolvedConfig } from '../config/load.js';

/** What every command's handler receives: output, the resolved configuration, and a cancellation signal. */
export interface Context {
  out: Output;
  flags: GlobalFlags;
  /** The config file (if any), read once. */
  configFile(): LoadedConfigFile;
  /** The selected fleet's settings, resolved once. */
  config(): ResolvedConfig;
  /** Resolves another fleet of the same file (for commands that span fleets). */
  fleetConfig(name: string): ResolvedConfig;
  /** Aborted on the first Ctrl-C / SIGTERM, so commands can clean up (abort uploads, stop servers). */
  signal: AbortSignal;
}

/**
 * A command is declared as data: its name, its arguments and options, and a handler. The handler returns an exit
 * code (0 when it returns nothing); errors it throws are reported by the CLI in one line.
 */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Arguments and options, declared on the commander Command. */
  configure?(cmd: Command): void;
  /** Examples shown at the end of `mme <name> --help`. */
  examples?: string[];
  run(ctx: Context, args: string[], options: Record<string, unknown>): Promise<number | void>;
}

export const defineCommand = (spec: CommandSpec): CommandSpec => spec;

/** For an option given several times: its values in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
