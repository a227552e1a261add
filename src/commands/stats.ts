import { Option } from '@commander-js/extra-typings';
import { METRICS, type Kind } from '../stats/catalog.js';
import { ExitCode } from '../output/errors.js';
import { collect, defineCommand } from './command.js';

const names = (...kinds: Kind[]) =>
  METRICS.filter((m) => kinds.includes(m.kind))
    .map((m) => m.name)
    .join(' ');
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
      .addOption(new Option('--output <format>', 'output format (--json is --output json)').choices(['table', 'json', 'csv', 'prom'] as const))
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
    const [{ readStats }, render] = await Promise.all([import('../stats/stats.js'), import('../stats/render.js')]);
    const format = ctx.out.json ? 'json' : (opts.output ?? 'table');
    const report = await readStats(
      ctx,
      {
        since: opts.since,
        start: opts.start,
        end: opts.end,
        period: opts.period,
        series: Boolean(opts.series),
        allFleets: Boolean(opts.allFleets),
        format,
        failIf: opts.failIf ?? [],
      },
      {
        signal: ctx.signal,
        warn: (message) => ctx.out.warn(message),
        reading: async (queries, endpoints) => {
          const progress = await ctx.out.progress(`reading ${queries} CloudWatch statistics for ${endpoints} endpoint(s)`);
          return () => progress.stop();
        },
      },
    );
    switch (format) {
      case 'json':
        ctx.out.result(render.toJson(report));
        break;
      case 'csv':
        ctx.out.raw(render.renderCsv(report));
        break;
      case 'prom':
        ctx.out.raw(render.renderProm(report));
        break;
      default: {
        const aside = (line: string) => ctx.out.info(line);
        const tty = ctx.out.stdoutIsTTY;
        const text = opts.series ? render.renderSeriesTable(report, tty, aside) : render.renderSummaryTable(report, tty, aside);
        ctx.out.raw(text.endsWith('\n') ? text : text + '\n');
      }
    }
    let breached = false;
    for (const c of report.checks) {
      const who = `${render.displayName(c.fleet)} (${c.fleet.target.endpoint}/${c.fleet.target.variant})`;
      if (c.status === 'no-data') {
        ctx.out.warn(`${who}: ${c.condition.spec.name} has no data in the window, so --fail-if '${c.condition.text}' was not checked.`);
      } else if (c.status === 'breach') {
        breached = true;
        ctx.out.message('breach:', `${who}: ${c.condition.spec.name} is ${render.formatValue(c.condition.spec, c.value)} (--fail-if '${c.condition.text}')`);
      }
    }
    return breached ? ExitCode.threshold : ExitCode.ok;
  },
});
