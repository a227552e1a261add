import path from 'node:path';
import { usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';
import { mapLimit } from './fleet.js';

const PUSHES_IN_FLIGHT = 4;

export default defineCommand({
  name: 'push',
  summary: "upload artifacts under the fleet's prefix (refuses to overwrite: a new version needs a new name)",
  configure: (cmd) =>
    cmd
      .argument('<artifact...>', '.tar.gz files made by `mme package`')
      .option('--as <name>', 'model name under the prefix (one artifact only; default: the file name)')
      .option('--force', 'overwrite an existing model (instances may keep serving the cached old copy)')
      .option('--dry-run', 'check everything and say what would be uploaded, without uploading'),
  examples: ['mme push m71.tar.gz', 'mme push m71.tar.gz --as v2/m71.tar.gz', 'mme push artifacts/*.tar.gz --fleet tail --json'],
  async run(ctx, files, opts) {
    const [{ checkArtifact }, { sha256File }, { checkModelName }, { wouldOverwrite }, { fleetStore }] = await Promise.all([
      import('../artifacts/inspect.js'), import('../artifacts/bytes.js'), import('../artifacts/names.js'), import('../store/overwrite.js'), import('./fleet-store.js'),
    ]);
    const as = opts.as as string | undefined;
    if (as !== undefined && files.length > 1) throw usageError(`--as names one model, but ${files.length} artifacts were given.`, 'Push them one at a time, or drop --as.');
    // Everything is checked before the first byte is sent.
    const items = await Promise.all(
      files.map(async (file) => {
        const name = checkModelName(as ?? path.basename(file), as !== undefined ? '--as' : `model name (from ${file})`);
        const { size, warning } = await checkArtifact(file);
        if (warning) ctx.out.warn(warning);
        return { file, name, size };
      }),
    );
    const dup = items.find((it, i) => items.findIndex((o) => o.name === it.name) !== i);
    if (dup) throw usageError(`two artifacts would both be pushed as ${dup.name}.`, 'Push them under different names.');

    const store = await fleetStore(ctx);
    const force = Boolean(opts.force);
    const existing = await mapLimit(items, 16, (it) => store.head(it.name));
    const taken = items.filter((_, i) => existing[i]);
    if (taken.length && !force) throw wouldOverwrite(taken.map((t) => t.name).join(', '), store.url);

    if (opts.dryRun) {
      const plan = items.map((it, i) => ({ name: it.name, file: it.file, size: it.size, url: store.url + it.name, overwrites: Boolean(existing[i]) }));
      ctx.out.result({ dryRun: true, pushes: plan }, () =>
        plan.map((p) => `would push ${p.file} (${formatBytes(p.size)}) to ${p.url}${p.overwrites ? ' (overwriting)' : ''}`).join('\n'),
      );
      return;
    }

    const totalBytes = items.reduce((n, it) => n + it.size, 0);
    const sent = new Array<number>(items.length).fill(0);
    const progress = await ctx.out.progress(`pushing ${items.length} artifact(s)`);
    const pushed = await mapLimit(items, PUSHES_IN_FLIGHT, async (it, i) => {
      const sha256 = await sha256File(it.file);
      const stored = await store.put(it.name, it.file, {
        overwrite: force,
        sha256,
        signal: ctx.signal,
        onProgress: (bytes) => {
          sent[i] = bytes;
          const done = sent.reduce((a, b) => a + b, 0);
          progress.update(`pushing ${items.length} artifact(s): ${formatBytes(done)} of ${formatBytes(totalBytes)} (${Math.floor((100 * done) / Math.max(1, totalBytes))}%)`);
        },
      });
      return { name: it.name, file: it.file, url: store.url + it.name, size: stored.size, sha256, overwrote: Boolean(existing[i]) };
    }).finally(() => progress.stop());
    if (pushed.some((p) => p.overwrote)) {
      ctx.out.warn('overwrote an existing model: instances that already loaded it keep serving the old copy until it is evicted.');
    }
    ctx.out.result({ pushes: pushed }, () =>
      pushed.map((p) => `pushed ${p.name} (${formatBytes(p.size)}, sha256 ${p.sha256.slice(0, 12)}…) to ${p.url}`).join('\n'),
    );
  },
});
