import { Option } from '@commander-js/extra-typings';
import { formatBytes, formatDate, renderTable } from '../output/format.js';
import type { ModelObject, Store } from '../store/index.js';
import { defineCommand } from './command.js';
import { mapLimit } from '../util/map-limit.js';

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
    const onSkip = (name: string, why: string) => ctx.out.warn(`skipped ${JSON.stringify(name)}: ${why}.`);
    // Read together; a manifest that cannot be read is said only when the listing itself worked.
    const aliasRead = aliasesByTarget(store).then(
      (byTarget) => ({ byTarget }),
      (err: unknown) => ({ err }),
    );
    const models = (await store.list({ onSkip })).sort(sorters[opts.sort]);
    const aliases = await aliasRead;
    if ('err' in aliases) ctx.out.warn(`aliases not shown: ${aliases.err instanceof Error ? aliases.err.message : String(aliases.err)}`);
    const aliasOf = 'byTarget' in aliases ? aliases.byTarget : new Map<string, string[]>();
    if (opts.long) {
      const heads = await mapLimit(models, 32, (m) => store.head(m.name, { sha256: true, signal: ctx.signal }));
      heads.forEach((h, i) => (models[i].sha256 = h?.sha256));
    }
    const totalBytes = models.reduce((n, m) => n + m.size, 0);
    // Releases: the aliases each version is live for, beside it (only when the prefix has aliases).
    const withAliases = aliasOf.size > 0;
    const aliasCell = (m: ModelObject) => aliasOf.get(m.name) ?? [];
    const rows = models.map((m) => ({
      name: m.name,
      size: m.size,
      lastModified: m.lastModified.toISOString(),
      ...(opts.long ? { sha256: m.sha256 ?? null } : {}),
      ...(withAliases ? { aliases: aliasCell(m) } : {}),
    }));
    const aliasJson = withAliases ? { aliases: Object.fromEntries([...aliasOf].flatMap(([target, names]) => names.map((a) => [a, target]))) } : {};
    ctx.out.result({ prefix: store.url, count: models.length, totalBytes, models: rows, ...aliasJson }, () => {
      const tty = ctx.out.stdoutIsTTY;
      const table = renderTable(
        [...(opts.long ? ['name', 'size', 'modified', 'sha256'] : ['name', 'size', 'modified']), ...(withAliases ? ['alias'] : [])],
        models.map((m) => {
          const row = [m.name, tty ? formatBytes(m.size) : m.size, formatDate(m.lastModified)];
          return [...(opts.long ? [...row, m.sha256 ?? '-'] : row), ...(withAliases ? [aliasCell(m).join(',') || '-'] : [])];
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

/** target → the aliases live on it; empty without a manifest (and, with a warning, when it cannot be read). */
async function aliasesByTarget(store: Store): Promise<Map<string, string[]>> {
  const { readManifest } = await import('../releases/update.js');
  const byTarget = new Map<string, string[]>();
  const { manifest } = await readManifest(store);
  for (const [alias, entry] of Object.entries(manifest.aliases)) byTarget.set(entry.target, [...(byTarget.get(entry.target) ?? []), alias]);
  return byTarget;
}
