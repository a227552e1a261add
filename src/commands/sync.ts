import { usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'sync',
  summary: 'release a folder of models (one sub-folder or <alias>.tar.gz per alias): new content only, all aliases in one switch',
  configure: (cmd) =>
    cmd
      .argument('<dir>', 'a folder holding one model folder or <alias>.tar.gz per alias')
      .option('--prune', 'remove aliases that have no model in the folder (their versions stay until `mme gc`)')
      .option('--dry-run', 'print the plan, upload nothing, change nothing')
      .option('--note <text>', 'why: recorded in the history of every alias moved'),
  examples: ['mme sync examples/merchants --dry-run', 'mme sync examples/merchants --note "nightly $(date +%F)"'],
  async run(ctx, [dir], opts) {
    const [{ scanSyncDir }, { runSync }, { fleetStore }] = await Promise.all([
      import('../releases/sync.js'),
      import('../releases/sync-run.js'),
      import('./fleet-store.js'),
    ]);
    const { sources, skipped } = await scanSyncDir(dir);
    if (skipped.length)
      ctx.out.info(`skipping ${skipped.length} file(s) that are not models: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
    if (!sources.length && opts.prune)
      throw usageError(`${dir} holds no models, and --prune would remove every alias.`, 'Check the folder. Nothing was changed.');
    const store = await fleetStore(ctx);
    const prune = Boolean(opts.prune);
    const outcome = await runSync(store, sources, {
      dryRun: Boolean(opts.dryRun),
      prune,
      note: opts.note,
      signal: ctx.signal,
      progress: (text) => ctx.out.progress(text),
      onPlan: (plan, s) => {
        ctx.out.info(
          `plan for ${store.url}: ${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.pruned.length} pruned; ${s.uploads} upload(s)`,
        );
        for (const i of plan.items) {
          if (i.action === 'unchanged') continue;
          ctx.out.info(
            `  ${i.action === 'added' ? '+' : '~'} ${i.alias} -> ${i.version}${i.previous ? ` (was ${i.previous})` : ''}${i.upload ? '' : ' (already uploaded)'}`,
          );
        }
        for (const a of plan.prune) ctx.out.info(`  ${prune ? '-' : '?'} ${a}${prune ? ' (pruned)' : ' (not in the folder; --prune would remove it)'}`);
      },
    });
    const { moved, ...result } = outcome;
    if (outcome.dryRun) return ctx.out.result(result);
    ctx.out.result(result, () =>
      outcome.written
        ? `moved ${moved} alias(es)${outcome.pruned.length ? `, pruned ${outcome.pruned.length}` : ''} in one manifest write; ${outcome.uploads} upload(s), ${formatBytes(outcome.uploadedBytes ?? 0)}`
        : 'nothing changed',
    );
  },
});
