import { ExitCode, MmeError, notFound } from '../output/errors.js';
import { confirmDeletion } from '../output/confirm.js';
import { defineCommand } from './command.js';
import { mapLimit } from '../util/map-limit.js';

export default defineCommand({
  name: 'rm',
  summary: "delete models from the fleet's prefix (all or nothing: every name must exist)",
  configure: (cmd) =>
    cmd
      .argument('<name...>', 'model names as `mme ls` prints them')
      .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
      .option('--dry-run', 'say what would be deleted, without deleting'),
  examples: ['mme rm m37.tar.gz --dry-run', 'mme rm m12.tar.gz m13.tar.gz --yes --fleet tail'],
  async run(ctx, [names], opts) {
    const [{ checkModelName }, { fleetStore }] = await Promise.all([import('../artifacts/names.js'), import('./fleet-store.js')]);
    names.forEach((n) => checkModelName(n));
    const unique = [...new Set(names)];
    const store = await fleetStore(ctx);
    const found = await mapLimit(unique, 16, (n) => store.head(n));
    const missing = unique.filter((_, i) => !found[i]);
    if (missing.length) {
      throw notFound(`not found under ${store.url}: ${missing.join(', ')}.`, 'Nothing was deleted. Check the names with `mme ls`.');
    }
    const urls = unique.map((n) => store.url + n);
    if (opts.dryRun) {
      ctx.out.result({ dryRun: true, deleted: [], wouldDelete: urls }, () => urls.map((u) => `would delete ${u}`).join('\n'));
      return;
    }
    if (!opts.yes) {
      const yes = await confirmDeletion(
        `delete ${unique.length} model(s) from ${store.url} (${unique.slice(0, 3).join(', ')}${unique.length > 3 ? ', …' : ''})?`,
        `refusing to delete ${unique.length} model(s) without confirmation.`,
      );
      if (!yes) {
        ctx.out.info('nothing deleted.');
        return 1;
      }
    }
    await store.remove(unique).catch((err) => {
      // The request may have reached the store before the signal: do not claim that nothing was deleted.
      if (ctx.signal.aborted)
        throw new MmeError(
          `rm interrupted while deleting ${unique.length} model(s); some may already be deleted.`,
          ExitCode.interrupted,
          'Check with `mme ls`.',
        );
      throw err;
    });
    ctx.out.info('instances that already loaded these models may serve them until they are evicted; stop sending them traffic.');
    ctx.out.result({ deleted: urls }, () => urls.map((u) => `deleted ${u}`).join('\n'));
  },
});
