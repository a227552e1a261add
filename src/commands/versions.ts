import { notFound } from '../output/errors.js';
import { formatBytes, renderTable } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'versions',
  summary: 'per alias its live version and the earlier ones (time, who, note, size), plus versions never made live',
  configure: (cmd) => cmd.argument('[alias]', 'only this alias'),
  examples: ['mme versions', 'mme versions m37', 'mme versions --json | jq -r ".result.aliases[] | [.alias, .live.target] | @tsv"'],
  async run(ctx, [alias], _opts) {
    const [{ checkAlias }, { listVersions, versionsView }, { readManifest, manifestUrl }, { fleetStore }] = await Promise.all([
      import('../releases/names.js'),
      import('../releases/versions.js'),
      import('../releases/update.js'),
      import('./fleet-store.js'),
    ]);
    if (alias !== undefined) checkAlias(alias);
    const store = await fleetStore(ctx);
    const [{ manifest }, objects] = await Promise.all([readManifest(store), listVersions(store, alias)]);
    const view = versionsView(manifest, objects, alias);
    if (alias !== undefined && !view.aliases.length && !view.unreferenced.length) {
      throw notFound(`alias ${alias} does not exist in ${manifestUrl(store)} and has no versions under ${store.url}.`, 'List the aliases with `mme versions`.');
    }
    ctx.out.result({ prefix: store.url, ...view }, () => {
      const tty = ctx.out.stdoutIsTTY;
      const size = (n: number | null) => (n === null ? 'deleted' : tty ? formatBytes(n) : n);
      const rows: (string | number)[][] = [];
      for (const a of view.aliases) {
        rows.push([a.alias, 'live', a.live.target, size(a.live.size), a.live.at, a.live.by, a.live.note ?? '']);
        for (const p of a.previous) rows.push([a.alias, 'previous', p.target, size(p.size), p.at, p.by, p.note ?? '']);
      }
      for (const u of view.unreferenced) rows.push([u.name.slice(0, u.name.lastIndexOf('/')), 'unreferenced', u.name, size(u.size), u.lastModified, '', '']);
      if (!rows.length) return tty ? `no aliases under ${store.url}; release one with \`mme release ALIAS FOLDER\`` : undefined;
      return renderTable(['alias', 'state', 'version', 'size', 'at', 'by', 'note'], rows, tty);
    });
  },
});
