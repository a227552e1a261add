import path from 'node:path';
import { ExitCode, MmeError, usageError } from '../output/errors.js';
import { formatBytes } from '../output/format.js';
import type { PackageResult } from '../artifacts/package.js';
import { defineCommand } from './command.js';
import { mapLimit } from '../util/map-limit.js';

/** Artifacts packaged at once: each one's gzip already spreads over libuv's pool, so a few keep the cores busy. */
const PACKAGES_IN_FLIGHT = 4;

export default defineCommand({
  name: 'package',
  summary: 'turn model folders or files into MME-ready .tar.gz artifacts (files at the root, reproducible bytes)',
  configure: (cmd) =>
    cmd
      .argument('<source...>', "model folders (each one's contents go to its archive root) or single model files")
      .option('-o, --output <file>', 'where to write the artifact (one source only; default: ./<name>.tar.gz)')
      .option('--out-dir <dir>', 'folder for the artifacts, each named <source name>.tar.gz (default: the current folder)'),
  examples: [
    'mme package ./models/m37/ -o m37.tar.gz',
    'mme package xgboost-model -o m37.tar.gz --json',
    'mme package examples/merchants/m*/ --out-dir artifacts/',
  ],
  async run(ctx, [sources], opts) {
    const [{ packageModel }, fsp, { checkOutputPath }] = await Promise.all([
      import('../artifacts/package.js'),
      import('node:fs/promises'),
      import('../store/output-path.js'),
    ]);
    const output = opts.output;
    const outDir = opts.outDir;
    if (output !== undefined && outDir !== undefined)
      throw usageError('-o and --out-dir both say where to write.', 'Use -o FILE for one source, or --out-dir DIR.');
    if (output !== undefined && sources.length > 1) {
      throw usageError(`-o names one artifact, but ${sources.length} sources were given.`, `Use --out-dir DIR: each source becomes DIR/<name>.tar.gz.`);
    }

    // Everything that can be told without reading the models is checked before the first artifact is written.
    const items = await Promise.all(
      sources.map(async (source) => {
        const full = path.resolve(source);
        const stat = await fsp.lstat(full).catch(() => undefined);
        if (!stat) throw usageError(`${source} does not exist.`, 'Give model folders or model files, e.g. `mme package ./m37/ ./m38/`.');
        const target = output !== undefined ? path.resolve(output) : path.resolve(outDir ?? '.', `${path.basename(full).replace(/\.tar\.gz$/, '')}.tar.gz`);
        if (stat.isDirectory() && (target + path.sep).startsWith(full + path.sep)) {
          throw usageError(
            `the output ${target} is inside the folder being packaged (${source}).`,
            outDir !== undefined ? 'Give an --out-dir outside the model folders.' : 'Write it elsewhere with -o or --out-dir.',
          );
        }
        // Its own input, a folder or a block device is refused; a character device or pipe is written directly.
        const checked = await checkOutputPath(output ?? target, output !== undefined ? '-o' : '--out-dir', sources);
        return { source, target: checked.path, checked };
      }),
    );
    const clash = items.find((it, i) => items.findIndex((o) => o.target === it.target) !== i);
    if (clash) {
      const first = items.find((o) => o.target === clash.target)!;
      throw usageError(
        `${first.source} and ${clash.source} would both be written to ${clash.target}.`,
        'Package them into different --out-dir folders, or rename one source.',
      );
    }

    let done = 0;
    const progress = await ctx.out.progress(items.length === 1 ? `packaging ${sources[0]}` : `packaging ${items.length} models`);
    type Settled = { source: string; result?: PackageResult; error?: unknown };
    const settled = await mapLimit(items, PACKAGES_IN_FLIGHT, async (it): Promise<Settled> => {
      try {
        return { source: it.source, result: await packageModel(it.source, it.checked) };
      } catch (error) {
        return { source: it.source, error: error ?? new Error('unknown failure') };
      } finally {
        done++;
        if (items.length > 1) progress.update(`packaging ${items.length} models: ${done} done`);
      }
    }).finally(() => progress.stop());

    const failed = settled.filter((s) => s.error !== undefined);
    if (items.length === 1 && failed.length) throw failed[0].error;
    const ok = settled.flatMap((s) => (s.result ? [{ source: s.source, result: s.result }] : []));
    const many = items.length > 1;
    for (const { source, result } of ok) for (const w of result.layout.warnings) ctx.out.warn(many ? `${source}: ${w}` : w);
    const json = (source: string, r: PackageResult) => ({
      ...(many ? { source } : {}),
      path: r.path,
      size: r.size,
      sha256: r.sha256,
      files: r.files,
      framework: r.layout.framework,
      modelFiles: r.layout.modelFiles,
      warnings: r.layout.warnings,
    });
    const line = (r: PackageResult) => `${r.path}\t${formatBytes(r.size)}\tsha256 ${r.sha256}`;

    if (!many) {
      const result = ok[0].result;
      const found = result.layout.modelFiles.map((m) => (m.format ? `${m.path} (${m.format})` : m.path)).join(', ');
      ctx.out.info(`found ${result.layout.framework} model${found ? `: ${found}` : ''}; ${result.files.length} file(s) at the archive root`);
      ctx.out.result(json(sources[0], result), () => line(result));
      return;
    }

    if (failed.length) {
      // The artifacts that did package are complete (each is written atomically); say which sources did not.
      for (const f of failed.slice(1))
        process.stderr.write(`${ctx.out.paint('mme:', 31)} ${f.source}: ${f.error instanceof Error ? f.error.message : String(f.error)}\n`);
      const first = failed[0].error;
      const known = first instanceof MmeError;
      throw new MmeError(
        `${failed.length} of ${items.length} sources failed to package; ${failed[0].source}: ${first instanceof Error ? first.message : String(first)}`,
        known ? first.exitCode : ExitCode.failed,
        `${known && first.hint ? first.hint + ' ' : ''}The other ${ok.length} artifact(s) were written.`,
      );
    }
    const frameworks = new Map<string, number>();
    for (const { result } of ok) frameworks.set(result.layout.framework, (frameworks.get(result.layout.framework) ?? 0) + 1);
    const total = ok.reduce((n, { result }) => n + result.size, 0);
    const where = outDir !== undefined ? path.resolve(outDir) : process.cwd();
    ctx.out.info(`packaged ${ok.length} models (${[...frameworks].map(([f, n]) => `${n} ${f}`).join(', ')}) into ${where}, ${formatBytes(total)} in all`);
    ctx.out.result({ artifacts: ok.map(({ source, result }) => json(source, result)), count: ok.length, totalSize: total }, () =>
      ok.map(({ result }) => line(result)).join('\n'),
    );
  },
});
