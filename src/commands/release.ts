import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';
import { addWarmOptions, warmPlan } from './warm-options.js';

export default defineCommand({
  name: 'release',
  summary: 'upload a new version of a model under a content-addressed name and point its alias at it',
  configure: (cmd) =>
    addWarmOptions(
      cmd
        .argument('<alias>', "the model's stable name, e.g. m37 (callers use it with --target m37)")
        .argument('<source>', 'a model folder or file (packaged on the fly) or a .tar.gz artifact')
        .option('--note <text>', "why: recorded in the alias's history")
        .option('--no-promote', 'upload the version without moving the alias (promote it later)'),
    ),
  examples: [
    'mme release m37 examples/merchants/m37 --note "nightly retrain"',
    'mme release m37 examples/merchants/m37 --no-promote',
    'mme release m37 examples/merchants/m37 --warm 3 --warm-body-file examples/merchants/request.csv',
  ],
  async run(ctx, [alias, source], opts) {
    const [{ checkAlias }, { prepareArtifact, ensureVersion, makeWorkDir }, { pointAlias }, { fleetStore }, fsp] = await Promise.all([
      import('../releases/names.js'),
      import('../releases/artifact.js'),
      import('../releases/update.js'),
      import('./fleet-store.js'),
      import('node:fs/promises'),
    ]);
    checkAlias(alias);
    const warm = await warmPlan(ctx, opts);
    const store = await fleetStore(ctx);
    const work = await makeWorkDir();
    try {
      const artifact = await prepareArtifact(source, work, alias);
      const { name, uploaded } = await ensureVersion(store, alias, artifact, undefined, ctx.signal);
      ctx.out.info(
        uploaded ? `uploaded ${name} (${formatBytes(artifact.size)}) to ${store.url}` : `${name} is already under ${store.url} (same bytes): nothing uploaded`,
      );
      const base = { alias, version: name, url: store.url + name, sha256: artifact.sha256, size: artifact.size, uploaded };
      if (opts.promote === false) {
        ctx.out.result({ ...base, promoted: false, previous: null }, () => `${name}\t(not promoted: \`mme promote ${alias} ${name}\`)`);
        return;
      }
      const warmed = warm ? await warm.run(name) : undefined;
      const { previous, written } = await pointAlias(store, alias, name, opts.note ?? null, ctx.signal);
      ctx.out.result({ ...base, promoted: written, previous: written ? previous : null, ...(warmed ? { warm: warmed } : {}) }, () =>
        written ? `${alias} -> ${name}${previous ? ` (was ${previous})` : ' (new alias)'}` : `${alias} -> ${name} (already live: nothing changed)`,
      );
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  },
});
