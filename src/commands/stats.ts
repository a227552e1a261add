import { Option } from 'commander';
import { METRICS, type Kind } from '../metrics/catalog.js';
import { usageError } from '../output/errors.js';
import { errorDocument } from '../output/output.js';
import { collect, defineCommand } from './command.js';


const names = (...kinds: Kind[]) => METRICS.filter((m) => kinds.includes(m.kind)).map((m) => m.name).join(' ');
const conditionHelp = `
--fail-if NAME OP NUMBER[UNIT], OP one of < <= > >= == !=, over the summary of each fleet:
  durations, unit us, ms or s required: ${names('duration')}
  ratio, 0.9 or 90%:                    ${names('ratio')}
  percentages, 85 or 85%:               ${names('percent')}
  counts, plain numbers:                ${names('count', 'models')}
A metric without data is not checked (said on stderr). Exit codes: 0 ok, 1 AWS or network failure, 2 bad input,
4 a --fail-if condition holds (one stderr line each; the data is printed all the same).`;

export default defineCommand({
  name: 'stats',
  summary: "read the fleet's MME health from CloudWatch: cache hits, model loads and unloads, latency, errors, utilisation",
  configure: (cmd) =>
    cmd
      .option('--since <duration>', 'window ending now (or at --end): 90m, 3h, 2d, 1w (default 3h)')
      .option('--start <time>', 'window start: ISO 8601 with a zone (2026-11-22T01:00Z), a date, or "now"')
      .option('--end <time>', 'window end (default now)')
      .option('--period <seconds>', 'row length for --series: seconds, a multiple of 60, or 5m, 1h (default 60; 300 for data over 15 days old, 3600 over 63)')
      .option('--series', 'one row per period instead of one summary over the window')
      .option('--all-fleets', 'every fleet of the config file that has an endpointName, by name')
      .addOption(new Option('--output <format>', 'output format (--json is --output json)').choices(['table', 'json', 'csv', 'prom']))
      .option('--fail-if <condition>', "exit 4 when a condition holds, e.g. 'cache-hit<0.9', 'load-wait-p99>500ms', 'unloads>100' (repeatable)", collect)
      .addHelpText('after', conditionHelp),
  examples: [
    'mme stats',
    'mme stats --since 24h --fleet tail',
    'mme stats --start 2026-11-22T00:00Z --end 2026-11-22T06:00Z --series --period 300',
    "mme stats --all-fleets --fail-if 'cache-hit<0.9' --fail-if 'load-wait-p99>500ms' --fail-if 'unloads>100'",
    'mme stats --all-fleets --output prom > mme.prom.$$ && mv mme.prom.$$ mme.prom',
    'mme stats --all-fleets --series --output csv > stats.csv',
  ],
  async run(ctx, _args, opts) {
    const output = opts.output as string | undefined;
    const asJson = ctx.out.json || output === 'json';
    try {
      if (ctx.out.json && output !== undefined && output !== 'json') {
        throw usageError(`--json and --output ${output} ask for different formats.`, 'Use one of them (--json is --output json).');
      }
      const { runStats } = await import('../metrics/stats.js');
      return await runStats(ctx, {
        since: opts.since as string | undefined,
        start: opts.start as string | undefined,
        end: opts.end as string | undefined,
        period: opts.period as string | undefined,
        series: Boolean(opts.series),
        allFleets: Boolean(opts.allFleets),
        format: asJson ? 'json' : ((output ?? 'table') as 'table' | 'csv' | 'prom'),
        failIf: (opts.failIf as string[] | undefined) ?? [],
      });
    } catch (err) {
      // Under --output json a script reads stdout: give it the same error document the global --json gives.
      if (asJson && !ctx.out.json && !ctx.signal.aborted) process.stdout.write(errorDocument(err));
      throw err;
    }
  },
});
