// Bundles src/ into dist/ with esbuild, minified: the CLI (src/cli.ts) as one CommonJS bundle, dist/cli-<hash>.cjs,
// run through a V8 code cache by dist/cli.js (src/boot.ts); the AWS SDK as one CommonJS bundle per service in
// dist/sdk/, also run through the code cache; the worker entries (*.worker.ts) as ES modules with split chunks.
// Type checking is `tsc --noEmit`, run before this by `npm run build`.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { sdkImports } from './sdk-imports.mjs';

const workers = readdirSync('src', { recursive: true })
  .filter((f) => String(f).endsWith('.worker.ts'))
  .map((f) => path.join('src', String(f)));

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// Every dependency is bundled (the AWS SDK from its ES modules: loading hundreds of CommonJS files at run time cost
// more than the rest of a command), so an install carries only dist/ and needs no packages at run time.

// Built beside dist/ and swapped in at the end, so a command running meanwhile never sees a half-written dist/.
const fresh = `dist.build-${process.pid}`;

// The SDK is bundled apart, as CommonJS in dist/sdk/ (one bundle per service), and loaded through a V8 code cache
// (src/aws/bundled-sdk.ts): compiling it was most of a quick command's time. Each bundle exports only what src/
// imports from its packages (scripts/sdk-imports.mjs); lib-storage goes with client-s3, whose classes it uses.
const SDK_BUNDLES = {
  s3: ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
  'sagemaker-runtime': ['@aws-sdk/client-sagemaker-runtime'],
  cloudwatch: ['@aws-sdk/client-cloudwatch'],
};
const imported = sdkImports('src', Object.values(SDK_BUNDLES).flat());
// A bundle is run as a script, which has no import(): Node's modules that it imports dynamically are required.
const requireBuiltins = {
  name: 'require-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' && isBuiltin(args.path) ? { path: args.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
/**
 * Builds a CommonJS bundle to run through the code cache (src/util/code-cache.ts) as `dir/<name>-<hash>.cjs`: the
 * content hash keys its cache, since V8 checks a cache against the source's length only. Its file name.
 */
async function buildCodeCached(dir, name, options) {
  const out = path.join(dir, `${name}.cjs`);
  await build({
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    minify: true,
    keepNames: true, // error classes are told apart by name
    logLevel: 'warning',
    ...options,
  });
  const file = `${name}-${createHash('sha256').update(readFileSync(out)).digest('hex').slice(0, 12)}.cjs`;
  renameSync(out, path.join(dir, file));
  return file;
}

/** package → the file name of its bundle. */
const bundleOf = {};
for (const [name, packages] of Object.entries(SDK_BUNDLES)) {
  const file = await buildCodeCached(path.join(fresh, 'sdk'), name, {
    stdin: {
      contents: packages.map((p) => `export { ${[...imported.get(p)].join(', ')} } from '${p}';`).join('\n'),
      resolveDir: process.cwd(),
    },
    plugins: [requireBuiltins],
  });
  for (const p of packages) bundleOf[p] = file;
}
const loader = path.resolve('src/aws/bundled-sdk.ts');
/** Each import of an SDK package in src/ becomes its bundle's exports, by name. */
const bundledSdk = {
  name: 'bundled-sdk',
  setup(b) {
    const names = Object.keys(bundleOf).map((p) => p.replace('/', '\\/'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'bundled-sdk' }));
    b.onLoad({ filter: /.*/, namespace: 'bundled-sdk' }, ({ path: pkg }) => ({
      contents: `import { loadBundledSdk } from ${JSON.stringify(loader)};
export const { ${[...imported.get(pkg)].join(', ')} } = loadBundledSdk(${JSON.stringify(bundleOf[pkg])});`,
      resolveDir: process.cwd(),
      loader: 'js',
    }));
  },
};

/** The CLI's bundle: `import.meta.url` is its own file's URL, as it was in an ES module. */
const cliBundle = await buildCodeCached(fresh, 'cli', {
  entryPoints: ['src/cli.ts'],
  banner: { js: "var __mmeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { __MME_VERSION__: JSON.stringify(version), 'import.meta.url': '__mmeImportMetaUrl' },
  plugins: [bundledSdk, requireBuiltins],
});

await build({
  entryPoints: [{ in: 'src/boot.ts', out: 'cli' }, ...workers],
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
  define: { __MME_VERSION__: JSON.stringify(version), __MME_CLI_BUNDLE__: JSON.stringify(cliBundle) },
  plugins: [bundledSdk],
});
// The Python server of `mme local --handler` ships as it is, beside the bundle (src/local/container/setup.ts finds it).
copyFileSync('src/local/handler/mme_handler_server.py', path.join(fresh, 'mme_handler_server.py'));
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  /* first build */
}
renameSync(fresh, 'dist');
rmSync(old, { recursive: true, force: true });
