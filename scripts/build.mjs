// Bundles src/ into dist/ with esbuild: one ESM entry (plus split chunks for lazily imported parts and worker
// entries named *.worker.ts), minified: fewer modules to resolve and less code to parse keep start-up fast.
// Type checking is `tsc --noEmit`, run before this by `npm run build`.
import { build } from 'esbuild';
import { readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const workers = readdirSync('src', { recursive: true })
  .filter((f) => String(f).endsWith('.worker.ts'))
  .map((f) => path.join('src', String(f)));

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// Every dependency is bundled (the AWS SDK from its ES modules: loading hundreds of CommonJS files at run time cost
// more than the rest of a command), so an install carries only dist/ and needs no packages at run time.

// Built beside dist/ and swapped in at the end, so a command running meanwhile never sees a half-written dist/.
const fresh = `dist.build-${process.pid}`;
await build({
  entryPoints: ['src/cli.ts', ...workers],
  outdir: fresh,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies inside the ESM bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __mmeCreateRequire } from 'node:module'; const require = __mmeCreateRequire(import.meta.url);" },
  mainFields: ['module', 'main'],
  sourcemap: 'linked',
  minify: true,
  keepNames: true, // error classes are told apart by name
  logLevel: 'warning',
  define: { __MME_VERSION__: JSON.stringify(version) },
});
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  /* first build */
}
renameSync(fresh, 'dist');
rmSync(old, { recursive: true, force: true });
