import { defineCommand } from './command.js';
import { addWarmOptions, warmPlan } from './warm-options.js';

export default defineCommand({
  name: 'promote',
  summary: 'point an alias at one of its versions (a hash prefix or the full name)',
  configure: (cmd) =>
    addWarmOptions(
      cmd
        .argument('<alias>', 'the alias, e.g. m37')
        .argument('<version>', 'a hash prefix (3f2a9c) or the full name (m37/3f2a9c1b7d04.tar.gz), as `mme versions` prints it')
        .option('--note <text>', "why: recorded in the alias's history"),
    ),
  examples: ['mme versions m37', 'mme promote m37 9303a0 --note "fixes the threshold"'],
  async run(ctx, [alias, ref], opts) {
    const [{ checkAlias }, { findVersion }, { pointAlias }, { fleetStore }] = await Promise.all([
      import('../releases/names.js'),
      import('../releases/versions.js'),
      import('../releases/update.js'),
      import('./fleet-store.js'),
    ]);
    checkAlias(alias);
    const warm = await warmPlan(ctx, opts);
    const store = await fleetStore(ctx);
    const version = await findVersion(store, alias, ref);
    const warmed = warm ? await warm.run(version.name) : undefined;
    const { previous, written } = await pointAlias(store, alias, version.name, opts.note ?? null, ctx.signal);
    ctx.out.result(
      {
        alias,
        version: version.name,
        url: store.url + version.name,
        promoted: written,
        previous: written ? previous : null,
        ...(warmed ? { warm: warmed } : {}),
      },
      () =>
        written
          ? `${alias} -> ${version.name}${previous ? ` (was ${previous})` : ' (new alias)'}`
          : `${alias} -> ${version.name} (already live: nothing changed)`,
    );
  },
});
