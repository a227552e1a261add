// Bundles src/ into dist/ with esbuild: one ESM entry (plus split chunks for lazily imported parts and worker
// entries named *.worker.ts). Fewer modules to resolve at start-up is what keeps `mme --version` fast.
// Type checking is `tsc --noEmit`, run before this by `npm run build`.
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const workers = readdirSync('src', { recursive: true })
  .filter((f) => String(f).endsWith('.worker.ts'))
  .map((f) => path.join('src', String(f)));

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts', ...workers],
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { __MME_VERSION__: JSON.stringify(version) },
});
