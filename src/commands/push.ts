import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'push',
  summary: "upload artifacts under the fleet's prefix (refuses to overwrite: a new version needs a new name)",
  configure: (cmd) =>
    cmd
      .argument('<artifact...>', '.tar.gz files made by `mme package`')
      .option('--as <name>', 'model name under the prefix (one artifact only; default: the file name)')
      .option('--force', 'overwrite an existing model (instances may keep serving the cached old copy)')
      .option('--skip-identical', 'skip artifacts whose bytes (sha256) are already stored under that name; say which')
      .option('--dry-run', 'check everything and say what would be uploaded, without uploading'),
  examples: [
    'mme push m71.tar.gz',
    'mme push m71.tar.gz --as v2/m71.tar.gz',
    'mme push artifacts/*.tar.gz --fleet tail --json',
    'mme push artifacts/*.tar.gz --skip-identical',
  ],
  async run(ctx, [files], opts) {
    const [{ pushArtifacts, listSome }, { fleetStore }] = await Promise.all([import('../push/push.js'), import('./fleet-store.js')]);
    ctx.signal.throwIfAborted();
    const store = await fleetStore(ctx);
    const progress = await ctx.out.progress(`pushing ${files.length} artifact(s)`);
    const outcome = await pushArtifacts(store, {
      files,
      as: opts.as,
      force: Boolean(opts.force),
      skipIdentical: Boolean(opts.skipIdentical),
      dryRun: Boolean(opts.dryRun),
      signal: ctx.signal,
      warn: (m) => ctx.out.warn(m),
      onProgress: (done, total) =>
        progress.update(
          `pushing ${files.length} artifact(s): ${formatBytes(done)} of ${formatBytes(total)} (${Math.floor((100 * done) / Math.max(1, total))}%)`,
        ),
    }).finally(() => progress.stop());

    const skippedLine = outcome.skipped.length
      ? `skipped ${outcome.skipped.length} artifact(s) already stored with the same sha256: ${listSome(outcome.skipped.map((s) => s.name))}`
      : undefined;
    if (outcome.dryRun) {
      const plan = outcome.pushes;
      ctx.out.result({ dryRun: true, pushes: plan, skipped: outcome.skipped }, () =>
        [
          ...plan.map((p) => `would push ${p.file} (${formatBytes(p.size)}) to ${p.url}${p.overwrites ? ' (overwriting)' : ''}`),
          ...(skippedLine ? [`would ${skippedLine}`] : []),
        ].join('\n'),
      );
      return;
    }
    const pushed = outcome.pushes;
    if (pushed.some((p) => p.overwrote)) {
      ctx.out.warn('overwrote an existing model: instances that already loaded it keep serving the old copy until it is evicted.');
    }
    if (skippedLine) ctx.out.info(skippedLine);
    ctx.out.result({ pushes: pushed, skipped: outcome.skipped }, () =>
      pushed.map((p) => `pushed ${p.name} (${formatBytes(p.size)}, sha256 ${p.sha256.slice(0, 12)}…) to ${p.url}`).join('\n'),
    );
  },
});
