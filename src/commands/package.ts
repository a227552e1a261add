import { formatBytes } from '../output/format.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'package',
  summary: 'turn a model folder or file into an MME-ready .tar.gz (files at the root, reproducible bytes)',
  configure: (cmd) =>
    cmd
      .argument('<source>', 'model folder (its contents go to the archive root) or a single model file')
      .option('-o, --output <file>', 'where to write the artifact (default: ./<name>.tar.gz)'),
  examples: ['mme package ./models/m37/ -o m37.tar.gz', 'mme package xgboost-model -o m37.tar.gz --json'],
  async run(ctx, [source], opts) {
    const { packageModel } = await import('../artifacts/package.js');
    const progress = await ctx.out.progress(`packaging ${source}`);
    const result = await packageModel(source, opts.output as string | undefined).finally(() => progress.stop());
    for (const w of result.layout.warnings) ctx.out.warn(w);
    const found = result.layout.modelFiles.map((m) => (m.format ? `${m.path} (${m.format})` : m.path)).join(', ');
    ctx.out.info(`found ${result.layout.framework} model${found ? `: ${found}` : ''}; ${result.files.length} file(s) at the archive root`);
    ctx.out.result(
      { path: result.path, size: result.size, sha256: result.sha256, files: result.files, framework: result.layout.framework, modelFiles: result.layout.modelFiles, warnings: result.layout.warnings },
      () => `${result.path}\t${formatBytes(result.size)}\tsha256 ${result.sha256}`,
    );
  },
});
