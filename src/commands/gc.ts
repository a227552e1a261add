import { notFound, usageError } from '../output/errors.js';
import { confirmDeletion } from '../output/confirm.js';
import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'gc',
  summary: 'delete versions no alias needs: keeps the last N per alias and anything live within the drain period',
  configure: (cmd) =>
    cmd
      .argument('[version...]', 'delete only these versions (each must be collectable by the rules)')
      .option('--keep <n>', 'versions kept per alias, the live one included', '3')
      .option('--drain <duration>', 'keep anything live (or uploaded, if never live) this recently: clients and instances may still call it', '24h')
      .option('--dry-run', 'say what would be deleted, without deleting')
      .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)'),
  examples: ['mme gc --dry-run', 'mme gc --keep 5 --drain 48h --yes'],
  async run(ctx, [names], opts) {
    const [{ planGc }, { listVersions }, { readManifest }, { duration, wholeNumber }, { fleetStore }] = await Promise.all([
      import('../releases/gc.js'),
      import('../releases/versions.js'),
      import('../releases/update.js'),
      import('../util/units.js'),
      import('./fleet-store.js'),
    ]);
    const keep = wholeNumber(opts.keep, '--keep', 1, 10_000);
    const drainMs = duration(opts.drain, '--drain', { minMs: 0, maxMs: 366 * 86_400_000 });
    const store = await fleetStore(ctx);
    const [{ manifest }, objects] = await Promise.all([readManifest(store), listVersions(store)]);
    let decisions = planGc(manifest, objects, { keep, drainMs, now: new Date() });
    if (names.length) {
      const byName = new Map(decisions.map((d) => [d.name, d]));
      const missing = names.filter((n) => !byName.has(n));
      if (missing.length) throw notFound(`not versions under ${store.url}: ${missing.join(', ')}.`, 'Nothing was deleted. See `mme versions`.');
      const refused = names.map((n) => byName.get(n)!).filter((d) => !d.delete);
      if (refused.length) {
        throw usageError(
          `refusing to delete ${refused.map((d) => `${d.name} (${d.reason})`).join(', ')}.`,
          'Nothing was deleted. Roll the alias elsewhere first, or wait for the drain period (--drain) to pass.',
        );
      }
      decisions = names.map((n) => byName.get(n)!);
    }
    const doomed = decisions.filter((d) => d.delete);
    const bytesOf = () => doomed.reduce((n, d) => n + d.size, 0);
    const bytes = bytesOf();
    const report = (deleted: boolean) => ({
      dryRun: !deleted,
      deleted: deleted ? doomed.map((d) => ({ name: d.name, size: d.size, reason: d.reason })) : [],
      wouldDelete: deleted ? [] : doomed.map((d) => ({ name: d.name, size: d.size, reason: d.reason })),
      kept: decisions.filter((d) => !d.delete).map((d) => ({ name: d.name, reason: d.reason })),
      bytes: bytesOf(),
    });
    const human = (verb: string) => () =>
      doomed.length
        ? [...doomed.map((d) => `${verb} ${store.url}${d.name} (${d.reason})`), `${doomed.length} version(s), ${formatBytes(bytesOf())}`].join('\n')
        : `nothing to collect (${decisions.length} version(s) kept)`;
    if (opts.dryRun || !doomed.length) {
      ctx.out.result(report(false), human('would delete'));
      return;
    }
    if (!opts.yes) {
      const yes = await confirmDeletion(
        `delete ${doomed.length} version(s) (${formatBytes(bytes)}) from ${store.url}?`,
        `refusing to delete ${doomed.length} version(s) without confirmation.`,
        'Pass --yes when running non-interactively (see what would go with --dry-run).',
      );
      if (!yes) {
        ctx.out.info('nothing deleted.');
        return 1;
      }
    }
    // Someone may have promoted one of them while we planned (or asked): plan again on a fresh manifest, just before.
    const fresh = new Set(
      planGc((await readManifest(store)).manifest, objects, { keep, drainMs, now: new Date() })
        .filter((d) => d.delete)
        .map((d) => d.name),
    );
    const spared = doomed.filter((d) => !fresh.has(d.name));
    if (spared.length) {
      ctx.out.warn(`kept ${spared.map((d) => d.name).join(', ')}: an alias moved to it while gc ran.`);
      doomed.splice(0, doomed.length, ...doomed.filter((d) => fresh.has(d.name)));
    }
    if (doomed.length) await store.remove(doomed.map((d) => d.name));
    ctx.out.result(report(true), human('deleted'));
  },
});
