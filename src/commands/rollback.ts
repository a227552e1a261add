import { ExitCode, MmeError, notFound } from '../output/errors.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'rollback',
  summary: 'point an alias back at its previous version (or --to an earlier one)',
  configure: (cmd) =>
    cmd
      .argument('<alias>', 'the alias, e.g. m37')
      .option('--to <version>', 'the version to go back to: a hash prefix or the full name (default: the one live before the current)')
      .option('--note <text>', "why: recorded in the alias's history"),
  examples: ['mme rollback m37 --note "fraud scores off since 02:00"', 'mme rollback m37 --to 9303a0'],
  async run(ctx, [alias], opts) {
    const [{ checkAlias }, { findVersion }, { readManifest, updateManifest, releaser, manifestUrl }, { moveAlias }, { fleetStore }] = await Promise.all([
      import('../releases/names.js'),
      import('../releases/versions.js'),
      import('../releases/update.js'),
      import('../releases/manifest.js'),
      import('./fleet-store.js'),
    ]);
    checkAlias(alias);
    const store = await fleetStore(ctx);
    const { manifest } = await readManifest(store);
    const entry = manifest.aliases[alias];
    if (!entry) throw notFound(`alias ${alias} does not exist in ${manifestUrl(store)}.`, 'List the aliases with `mme versions`.');
    const seen = entry.target;
    let target: string;
    if (opts.to !== undefined) {
      target = (await findVersion(store, alias, opts.to)).name;
    } else {
      const earlier = entry.history.find((h) => h.target !== seen);
      if (!earlier) throw notFound(`alias ${alias} has no earlier version than ${seen} to roll back to.`, `See \`mme versions ${alias}\`.`);
      target = earlier.target;
      if (!(await store.head(target)))
        throw notFound(
          `the previous version of ${alias}, ${target}, no longer exists under ${store.url} (collected by \`mme gc\`?).`,
          `Pick another with --to; see \`mme versions ${alias}\`.`,
        );
    }
    const note = opts.note ?? `rollback from ${seen}`;
    const by = releaser();
    const { written } = await updateManifest(
      store,
      (m) => {
        const now = m.aliases[alias]?.target;
        // "Back to the previous one" means nothing if someone else moved the alias since we looked: stop and say so.
        if (opts.to === undefined && now !== seen) {
          throw new MmeError(
            `${alias} moved from ${seen} to ${now ?? '(removed)'} while rolling back; nothing was changed.`,
            ExitCode.wouldOverwrite,
            `Look at \`mme versions ${alias}\` and roll back again (or use --to).`,
          );
        }
        if (now === target) return { write: false, result: undefined };
        moveAlias(m, alias, target, { by, note, at: new Date() });
        return { write: true, result: undefined };
      },
      ctx.signal,
    );
    ctx.out.result({ alias, version: target, url: store.url + target, previous: seen, rolledBack: written }, () =>
      written ? `${alias} -> ${target} (rolled back from ${seen})` : `${alias} -> ${target} (already live: nothing changed)`,
    );
  },
});
