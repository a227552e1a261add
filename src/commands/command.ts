import type { Command, OptionValues } from '@commander-js/extra-typings';
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

/** Options every command accepts (declared once in cli.ts). */
export interface GlobalOptions extends GlobalFlags {
  json?: true;
  quiet?: true;
  debug?: true;
  color: boolean;
}

/**
 * A command is declared as data: its name, its arguments and options, and a handler. The handler's arguments and
 * options are typed from what `configure` declares (commander's extra typings), so handlers never cast. It returns
 * an exit code (0 when it returns nothing); errors it throws are reported by the CLI in one line.
 */
export interface CommandSpec<Args extends unknown[] = unknown[], Opts extends OptionValues = OptionValues> {
  name: string;
  summary: string;
  /** Arguments and options, declared on the commander Command. */
  configure?(cmd: Command): Command<Args, Opts>;
  /** Examples shown at the end of `mme <name> --help`. */
  examples?: string[];
  run(ctx: Context, args: Args, options: Opts & GlobalOptions): Promise<number | undefined | void>;
}

/** The registry's view of a command: its types erased once, here, where the CLI hands commander's values over. */
// biome-ignore lint/suspicious/noExplicitAny: the one place a command's own argument and option types are erased
export type AnyCommandSpec = CommandSpec<any, any>;

// biome-ignore lint/complexity/noBannedTypes: commander's extra typings start a command's options from {}
export const defineCommand = <Args extends unknown[] = [], Opts extends OptionValues = {}>(spec: CommandSpec<Args, Opts>): AnyCommandSpec => spec;

/** For an option given several times: its values in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
