import { ExitCode, MmeError, usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';
import { mapLimit } from '../util/map-limit.js';

const PACKAGES_IN_FLIGHT = 4;
const UPLOADS_IN_FLIGHT = 10; // as `aws s3 sync`

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
    const [
      sync,
      { prepareArtifact, ensureVersion, makeWorkDir },
      { listVersions },
      { readManifest, updateManifest, releaser },
      { moveAlias },
      { fleetStore },
      fsp,
    ] = await Promise.all([
      import('../releases/sync.js'),
      import('../releases/artifact.js'),
      import('../releases/versions.js'),
      import('../releases/update.js'),
      import('../releases/manifest.js'),
      import('./fleet-store.js'),
      import('node:fs/promises'),
    ]);
    const { sources, skipped } = await sync.scanSyncDir(dir);
    if (skipped.length)
      ctx.out.info(`skipping ${skipped.length} file(s) that are not models: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
    if (!sources.length && opts.prune)
      throw usageError(`${dir} holds no models, and --prune would remove every alias.`, 'Check the folder. Nothing was changed.');
    const store = await fleetStore(ctx);
    const cache = await sync.HashCache.open();
    const work = await makeWorkDir();
    try {
      // What the prefix holds and what the folder holds, read at once: one GET, one listing, a stat per file.
      const [{ manifest }, objects, prints] = await Promise.all([readManifest(store), listVersions(store), Promise.all(sources.map(sync.fingerprint))]);
      const existing = new Set(objects.map((o) => o.name));
      // Sources whose sizes and times are unchanged since the last run keep their hash; the others are packaged.
      const progress = await ctx.out.progress(`hashing ${sources.length} model(s)`);
      const artifacts = new Map<string, Awaited<ReturnType<typeof prepareArtifact>>>();
      let done = 0;
      const hashes = await mapLimit(sources, PACKAGES_IN_FLIGHT, async (source, i) => {
        let sha256 = cache.get(prints[i]);
        if (sha256 === undefined) {
          const artifact = await prepareArtifact(source.path, work, source.alias);
          artifacts.set(source.alias, artifact);
          sha256 = artifact.sha256;
          cache.set(prints[i], sha256);
        }
        progress.update(`hashing ${sources.length} model(s): ${++done} done`);
        return { source, sha256 };
      }).finally(() => progress.stop());
      await cache.save(new Set(prints));
      const plan = sync.planSync(manifest, hashes, existing);
      const count = (a: string) => plan.items.filter((i) => i.action === a).length;
      const toUpload = plan.items.filter((i) => i.upload && i.action !== 'unchanged');
      const pruned = opts.prune ? plan.prune : [];
      const lines = [
        ...plan.items
          .filter((i) => i.action !== 'unchanged')
          .map(
            (i) =>
              `  ${i.action === 'added' ? '+' : '~'} ${i.alias} -> ${i.version}${i.previous ? ` (was ${i.previous})` : ''}${i.upload ? '' : ' (already uploaded)'}`,
          ),
        ...plan.prune.map((a) => `  ${opts.prune ? '-' : '?'} ${a}${opts.prune ? ' (pruned)' : ' (not in the folder; --prune would remove it)'}`),
      ];
      ctx.out.info(
        `plan for ${store.url}: ${count('added')} added, ${count('changed')} changed, ${count('unchanged')} unchanged, ${pruned.length} pruned; ${toUpload.length} upload(s)`,
      );
      lines.forEach((l) => ctx.out.info(l));
      const planJson = {
        added: count('added'),
        changed: count('changed'),
        unchanged: count('unchanged'),
        pruned,
        notInFolder: plan.prune,
        uploads: toUpload.length,
        items: plan.items,
      };
      if (opts.dryRun) {
        ctx.out.result({ dryRun: true, ...planJson, written: false });
        return;
      }

      // Uploads: every one is tried; one failure (or Ctrl-C) leaves the manifest untouched.
      const failures: { alias: string; error: unknown }[] = [];
      let sent = 0;
      let uploadedBytes = 0;
      const upProgress = await ctx.out.progress(`uploading ${toUpload.length} version(s)`);
      await mapLimit(toUpload, UPLOADS_IN_FLIGHT, async (item) => {
        if (ctx.signal.aborted) return;
        try {
          let artifact = artifacts.get(item.alias);
          if (!artifact) artifact = await prepareArtifact(item.source, work, item.alias); // hash from the cache, bytes gone from the prefix
          if (artifact.sha256 !== item.sha256) throw new MmeError(`${item.source} changed while syncing.`, ExitCode.failed, 'Run the sync again.');
          await ensureVersion(store, item.alias, artifact, false, ctx.signal);
          uploadedBytes += artifact.size;
          upProgress.update(`uploading ${toUpload.length} version(s): ${++sent} done`);
        } catch (error) {
          failures.push({ alias: item.alias, error });
        }
      }).finally(() => upProgress.stop());
      ctx.signal.throwIfAborted();
      if (failures.length) {
        const first = failures[0].error;
        throw new MmeError(
          `${failures.length} of ${toUpload.length} upload(s) failed (first, ${failures[0].alias}: ${first instanceof Error ? first.message : String(first)}); the manifest was not changed.`,
          first instanceof MmeError && first.exitCode === ExitCode.notFound ? first.exitCode : ExitCode.failed,
          'The versions that did upload stay unreferenced (collected by `mme gc`). Run the sync again.',
        );
      }

      const moves = plan.items.filter((i) => i.action !== 'unchanged');
      const note = opts.note ?? null;
      const by = releaser();
      const at = new Date();
      // One compare-and-swap write moves every alias: the fleet switches all at once, or not at all.
      const { written } = await updateManifest(
        store,
        (m) => {
          let changed = false;
          for (const item of moves) {
            if (m.aliases[item.alias]?.target === item.version) continue;
            moveAlias(m, item.alias, item.version, { by, note, at });
            changed = true;
          }
          for (const alias of pruned) {
            if (m.aliases[alias]) {
              delete m.aliases[alias];
              changed = true;
            }
          }
          return { write: changed, result: undefined };
        },
        ctx.signal,
      );
      ctx.out.result({ dryRun: false, ...planJson, uploadedBytes, written }, () =>
        written
          ? `moved ${moves.length} alias(es)${pruned.length ? `, pruned ${pruned.length}` : ''} in one manifest write; ${toUpload.length} upload(s), ${formatBytes(uploadedBytes)}`
          : 'nothing changed',
      );
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  },
});
