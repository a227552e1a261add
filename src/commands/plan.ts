import { Option } from '@commander-js/extra-typings';
import { usageError } from '../output/errors.js';
import { defineCommand } from './command.js';

const details = `
Models: --models FILE.csv (name,bytes: in-memory bytes per copy), --models DIR (a folder of model folders, .tar.gz
artifacts or model files; --measure loads each with mme's XGBoost runtime for its footprint, otherwise uncompressed
bytes x --memory-factor), or the fleet's prefix (mme ls sizes, compressed, x --memory-factor).
Traffic: --traffic FILE, a weights file ("name weight" lines, as mme invoke --targets-file; Poisson arrivals at --rate
for --duration) or a request log (CSV timestamp,target or JSONL, replayed in order with its own timing / --speed);
or --tiers '5:80%,50:19%,15:1%' over the models in name order.
Exit codes: 0 ok, 1 failure (reading the fleet, writing --svg), 2 bad input.`;

export default defineCommand({
  name: 'plan',
  summary: 'size an MME before paying for it: simulate caching over a traffic trace across instance types and counts, with cost',
  configure: (cmd) =>
    cmd
      .option('--models <file|dir>', "models and their in-memory bytes: a CSV name,bytes or a folder of models (default: the fleet's prefix)")
      .option('--measure', 'load each model of a --models folder with the XGBoost runtime and use its measured footprint')
      .option('--memory-factor <n>', 'in-memory bytes per byte of model file when not measured (default 1)')
      .option('--copies <n>', 'copies of each model in memory (containers with one worker per vCPU load one per worker; default 1)')
      .option('--traffic <file>', 'a weights file ("name weight") or a request log (timestamp,target CSV or JSONL)')
      .option('--tiers <spec>', "synthetic traffic: COUNT:SHARE% tiers over the models in order, e.g. '5:80%,50:19%,15:1%'")
      .option('--rate <n/min>', 'request rate for weights and tiers: 3000/min, 50/s, 180000/h')
      .option('--duration <d>', 'span of generated traffic: 1h, 30m, 1d (default 1h)')
      .option('--daily-profile <24 numbers>', 'relative traffic per hour of the day from 00:00 (use with --duration 1d)')
      .addOption(
        new Option(
          '--order <order>',
          'which model each generated arrival asks for: random (by weight) or invoke (as mme invoke --targets-file sends: each once, then weighted round-robin)',
        ).choices(['random', 'invoke']),
      )
      .option('--speed <n>', 'replay a request log n times faster (default 1)')
      .option('--types <list>', 'instance types, comma-separated (default: every type of the catalogue)')
      .option('--counts <list>', 'instance counts, comma-separated (default 1)')
      .option('--catalog <file>', 'JSON list of {"type","memoryBytes","vcpus","pricePerHour"} replacing or adding to the built-in list prices')
      .option('--overhead <size|pct>', 'memory per instance not available to models: 1GiB, 10%, or 0 (default 1GiB)')
      .option('--seed <n>', 'seed of the generated arrivals (default 1)')
      .option('--target-hit <ratio>', 'hit ratio to reach: 0.99 or 99% (default 0.99)')
      .option('--max-p99 <duration>', 'largest added wait p99 (load and queue): 50ms (default 50ms)')
      .option('--p99-top <n>', 'check the --max-p99 target on the requests of the N busiest models only (the latency-critical ones; default: every request)')
      .option(
        '--calibrate [since]',
        "set the load-time model from the fleet's CloudWatch averages (ModelDownloadingTime, ModelLoadingTime) over the last SINCE (default 1d)",
      )
      .option('--model-latency <duration>', "a worker's time per request (default 2ms)")
      .option('--dedicated-type <type>', 'instance type of a dedicated endpoint (default ml.m5.large)')
      .option('--dedicated-count <n>', 'minimum instances of a dedicated endpoint (default 1)')
      .option('--hybrid-max <k>', 'most models to try on dedicated endpoints in the hybrid shape (default 10)')
      .option('--strict', 'refuse traffic naming models the fleet lacks (default: warn and leave them out)')
      .option('--threads <n>', 'simulation threads (default: the number of cores)')
      .option('--svg <file>', 'also write the chart as an SVG file')
      .addOption(new Option('--output <format>', 'output format (--json is --output json)').choices(['table', 'json', 'csv'] as const))
      .addHelpText('after', details),
  examples: [
    "mme plan --models examples/merchants --measure --tiers '5:80%,50:19%,15:1%' --rate 3000/min",
    "mme plan --models examples/merchants --measure --tiers '5:80%,50:19%,15:1%' --rate 3000/min --types ml.c5.large,ml.m5.large --counts 1,2 --json",
    "mme plan --models examples/merchants --tiers '5:80%,50:19%,15:1%' --rate 3000/min --memory-factor 2000 --copies 2 --svg plan.svg --output csv",
  ],
  async run(ctx, _args, opts) {
    const { planFromFlags, writeSvg } = await import('../plan/run.js');
    let listing: (() => Promise<{ objects: { name: string; size: number }[]; prefix: string }>) | undefined;
    if (opts.models === undefined) {
      listing = async () => {
        if (ctx.config().settings.prefix.value === undefined) {
          throw usageError(
            'no models given and no fleet prefix configured.',
            'Pass --models FILE.csv or --models DIR (e.g. --models examples/merchants), or a fleet with --fleet/--prefix.',
          );
        }
        const { fleetStore } = await import('./fleet-store.js');
        const store = await fleetStore(ctx);
        return { objects: await store.list(), prefix: store.url };
      };
    }
    const { result, svg } = await planFromFlags(opts, {
      listing,
      calibrate: async (since) => (await import('../plan/calibrate.js')).fleetLoadTimes(ctx.config(), since, ctx.signal),
      signal: ctx.signal,
      warn: (m) => ctx.out.warn(m),
    });
    if (svg) {
      await writeSvg(svg.file, svg.text);
      ctx.out.info(`chart written to ${svg.file}`);
    }
    if (opts.output === 'csv') {
      const { renderCsv } = await import('../plan/render.js');
      ctx.out.raw(renderCsv(result));
      return;
    }
    const { renderReport } = await import('../plan/render.js');
    ctx.out.result(result, () => renderReport(result, ctx.out.stdoutIsTTY));
  },
});
