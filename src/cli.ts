import { setMaxListeners } from 'node:events';
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { commands } from './commands/index.js';
import type { AnyCommandSpec, GlobalOptions } from './commands/command.js';
import { ExitCode, MmeError, usageError } from './output/errors.js';
import { Output } from './output/output.js';
import { VERSION } from './version.js';

/** Flags accepted by every command, before or after the command name. */
function addGlobalOptions(program: Command): void {
  program
    .option('--fleet <name>', 'fleet from the config file (env MME_FLEET)')
    .option('--config <file>', 'config file (env MME_CONFIG; default: mme.config.json found walking up)')
    .option('--prefix <url>', 'model prefix, s3://bucket/path/ or file://path/ (env MME_PREFIX)')
    .option('--endpoint-name <name>', 'SageMaker endpoint name (env MME_ENDPOINT_NAME)')
    .option('--variant <name>', 'production variant (env MME_VARIANT; default AllTraffic)')
    .option('--region <region>', 'AWS region (env AWS_REGION)')
    .option('--profile <profile>', 'AWS profile (env AWS_PROFILE)')
    .option('--endpoint-url <url>', 'service URL override: moto, LocalStack, mme local (env AWS_ENDPOINT_URL)')
    .option('--connect-timeout <duration>', 'limit on connecting to AWS, e.g. 10s (env MME_CONNECT_TIMEOUT; default 10s)')
    .option('--request-timeout <duration>', 'an AWS request silent this long fails, e.g. 60s (env MME_REQUEST_TIMEOUT; default 60s)')
    .option('--json', 'print one JSON document on stdout')
    .option('-q, --quiet', 'print only data and errors')
    .option('--debug', 'show stack traces and SDK details on errors')
    .addOption(new Option('--no-color', 'no colour (also under NO_COLOR, CI or TERM=dumb, and off a terminal)'));
}

export function buildProgram(onRun: (spec: AnyCommandSpec, args: unknown[], opts: GlobalOptions, format: string | undefined) => Promise<void>): Command {
  const program = new Command('mme')
    .description('Manage Amazon SageMaker multi-model endpoints: package, push, list, invoke, measure, and run one locally.')
    .version(VERSION, '-V, --version')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    // commander's own error text is reported by main() as one `mme:` line (and a JSON document under --json).
    .configureOutput({ outputError: () => {} });
  addGlobalOptions(program);
  program.exitOverride();
  for (const spec of commands) {
    const cmd = program
      .command(spec.name)
      .description(spec.summary)
      .exitOverride()
      .configureOutput({ outputError: () => {} });
    spec.configure?.(cmd);
    if (spec.examples?.length) cmd.addHelpText('after', '\nExamples:\n' + spec.examples.map((e) => `  $ ${e}`).join('\n'));
    cmd.action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command<unknown[]>;
      // A command whose --output picks a format (table, json, csv, …), unlike package's -o/--output FILE.
      const formats = self.options.find((o) => o.long === '--output')?.argChoices?.includes('json');
      const opts = self.optsWithGlobals() as GlobalOptions & { output?: string };
      await onRun(spec, self.processedArgs, opts, formats ? opts.output : undefined);
    });
  }
  return program;
}

/** commander's "error: unknown command 'pus'\n(Did you mean push?)" as one line with the fix. */
function usageFromCommander(err: CommanderError, argv: string[]): MmeError {
  const [first, ...rest] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = rest.map((l) => l.replace(/^\((.*)\)$/, '$1')).join(' ');
  const command = commands.find((c) => argv.slice(2).includes(c.name));
  const help = `Run mme ${command ? command.name + ' ' : ''}--help for usage.`;
  return usageError(first.replace(/\.$/, '') + '.', suggestion ? `${suggestion} ${help}` : help);
}

export async function main(argv: string[]): Promise<void> {
  // dist/ is minified; under --debug, stack traces point into src/ through the source maps beside it.
  if (argv.includes('--debug')) process.setSourceMapsEnabled(true);
  let out = new Output({ json: argv.includes('--json'), quiet: false, debug: argv.includes('--debug'), color: !argv.includes('--no-color') });
  const controller = new AbortController();
  // Every request a command has in flight listens to this signal (the SDK adds listeners per request): no limit.
  setMaxListeners(0, controller.signal);
  let exitCode: number = ExitCode.ok;

  const onRun = async (spec: AnyCommandSpec, args: unknown[], opts: GlobalOptions, output: string | undefined) => {
    // A command's `--output json` is the global --json: one envelope, errors included, built in one place.
    if (opts.json && output !== undefined && output !== 'json') {
      throw usageError(`--json and --output ${output} ask for different formats.`, 'Use one of them (--json is --output json).');
    }
    out = new Output({ json: Boolean(opts.json) || output === 'json', quiet: Boolean(opts.quiet), debug: Boolean(opts.debug), color: opts.color !== false });
    // Config (and zod) load only once a command runs: `mme --help` and `--version` stay fast.
    const { makeContext } = await import('./commands/context.js');
    const ctx = await makeContext(out, opts, controller.signal);
    let caught: string | undefined;
    const interrupt = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) {
        // The second signal: the user wants out now, cleanup or not.
        out.error(new MmeError(`interrupted again (${signal}); exiting without waiting for cleanup.`, ExitCode.interrupted));
        process.exit(ExitCode.interrupted);
      }
      caught = signal;
      controller.abort();
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    const interrupted = () => new MmeError(`interrupted (${caught ?? 'signal'}).`, ExitCode.interrupted);
    try {
      exitCode = (await spec.run(ctx, args, opts)) ?? ExitCode.ok;
      if (controller.signal.aborted && spec.name !== 'local') {
        // One line, and under --json one document, unless the command had already printed its result.
        exitCode = out.resultWritten ? ExitCode.interrupted : out.error(interrupted());
      }
    } catch (err) {
      const own = err instanceof MmeError && err.exitCode === ExitCode.interrupted;
      exitCode = controller.signal.aborted ? out.error(own ? err : interrupted()) : out.error(err);
    }
  };

  try {
    await buildProgram(onRun).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; everything else commander refuses is a usage error.
      exitCode =
        err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
          ? ExitCode.ok
          : out.error(usageFromCommander(err, argv));
    } else {
      exitCode = out.error(err);
    }
  }
  // Exit explicitly: idle keep-alive sockets or timers must not keep a finished command alive.
  process.exit(exitCode);
}
