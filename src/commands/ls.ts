import { Option } from 'commander';
import { formatBytes, formatDate, renderTable } from '../output/format.js';
import type { ModelObject } from '../store/index.js';
import { defineCommand } from './command.js';
import { mapLimit } from './fleet.js';

const sorters: Record<string, (a: ModelObject, b: ModelObject) => number> = {
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  size: (a, b) => b.size - a.size || sorters.name(a, b),
  modified: (a, b) => b.lastModified.getTime() - a.lastModified.getTime() || sorters.name(a, b),
};

export default defineCommand({
  name: 'ls',
  summary: "list every model under the fleet's prefix, named exactly as TargetModel takes them",
  configure: (cmd) =>
    cmd
      .option('-l, --long', 'also show each sha256: recorded by `mme push` on S3 (one HEAD request per model), hashed in a folder')
      .addOption(new Option('--sort <key>', 'order').choices(['name', 'size', 'modified']).default('name')),
  examples: ['mme ls', 'mme ls --sort size', 'mme ls --json | jq -r ".result.models[].name"'],
  async run(ctx, _args, opts) {
    const { fleetStore } = await import('./fleet-store.js');
    const store = await fleetStore(ctx);
    const models = (await store.list({ onSkip: (name, why) => ctx.out.warn(`skipped ${JSON.stringify(name)}: ${why}.`) })).sort(sorters[opts.sort as string]);
    if (opts.long) {
      const heads = await mapLimit(models, 32, (m) => store.head(m.name, { sha256: true, signal: ctx.signal }));
      heads.forEach((h, i) => (models[i].sha256 = h?.sha256));
    }
    const totalBytes = models.reduce((n, m) => n + m.size, 0);
    const rows = models.map((m) => ({ name: m.name, size: m.size, lastModified: m.lastModified.toISOString(), ...(opts.long ? { sha256: m.sha256 ?? null } : {}) }));
    ctx.out.result({ prefix: store.url, count: models.length, totalBytes, models: rows }, () => {
      const tty = ctx.out.stdoutIsTTY;
      const table = renderTable(
        opts.long ? ['name', 'size', 'modified', 'sha256'] : ['name', 'size', 'modified'],
        models.map((m) => {
          const row = [m.name, tty ? formatBytes(m.size) : m.size, formatDate(m.lastModified)];
          return opts.long ? [...row, m.sha256 ?? '-'] : row;
        }),
        tty,
      );
      const summary = `${models.length} model(s), ${formatBytes(totalBytes)} under ${store.url}`;
      // On a terminal the summary closes the table; in a pipe it goes to stderr so stdout stays one row per model.
      if (!tty) {
        ctx.out.info(summary);
        return table;
      }
      return models.length ? `${table}\n${summary}` : summary;
    });
  },
});
