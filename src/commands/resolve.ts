import { notFound } from '../output/errors.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'resolve',
  summary: 'print the TargetModel an alias points at (for scripts)',
  configure: (cmd) => cmd.argument('<alias>', 'the alias, e.g. m37'),
  examples: ['mme resolve m37', 'mme invoke --target "$(mme resolve m37)" --body-file examples/merchants/request.csv'],
  async run(ctx, [alias], _opts) {
    const [{ checkAlias }, { readManifest, manifestUrl }, { fleetStore }] = await Promise.all([
      import('../releases/names.js'),
      import('../releases/update.js'),
      import('./fleet-store.js'),
    ]);
    checkAlias(alias);
    const store = await fleetStore(ctx);
    const { manifest } = await readManifest(store);
    const entry = manifest.aliases[alias];
    if (!entry)
      throw notFound(`alias ${alias} does not exist in ${manifestUrl(store)}.`, 'List the aliases with `mme versions`; release one with `mme release`.');
    ctx.out.result({ alias, target: entry.target, url: store.url + entry.target }, () => entry.target);
  },
});
