// Bundles src/ into dist/ with esbuild: one ESM entry (plus split chunks for lazily imported parts and worker
// entries named *.worker.ts), minified: fewer modules to resolve and less code to parse keep start-up fast.
// Type checking is `tsc --noEmit`, run before this by `npm run build`.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';

const workers = readdirSync('src', { recursive: true })
  .filter((f) => String(f).endsWith('.worker.ts'))
  .map((f) => path.join('src', String(f)));

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// Every dependency is bundled (the AWS SDK from its ES modules: loading hundreds of CommonJS files at run time cost
// more than the rest of a command), so an install carries only dist/ and needs no packages at run time.

// Built beside dist/ and swapped in at the end, so a command running meanwhile never sees a half-written dist/.
const fresh = `dist.build-${process.pid}`;

// The SDK packages are bundled apart, as CommonJS in dist/sdk/, and loaded through a V8 code cache
// (src/aws/bundled-sdk.ts): compiling them was most of a quick command's time. A package's bundle requires the
// packages it lists here from their own bundles (one copy of client-s3's classes for lib-storage and mme).
const SDK = {
  '@aws-sdk/client-s3': [],
  '@aws-sdk/lib-storage': ['@aws-sdk/client-s3'],
  '@aws-sdk/client-sagemaker-runtime': [],
  '@aws-sdk/client-cloudwatch': [],
};
const sdkFiles = {};
// A bundle is run as a script, which has no import(): Node's modules that the SDK imports dynamically are required.
const requireBuiltins = {
  name: 'require-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' && isBuiltin(args.path) ? { path: args.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
for (const [pkg, shared] of Object.entries(SDK)) {
  const out = path.join(fresh, 'sdk', `${pkg.split('/')[1]}.cjs`);
  await build({
    entryPoints: [pkg],
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: shared,
    plugins: [requireBuiltins],
    minify: true,
    keepNames: true,
    logLevel: 'warning',
  });
  // The content hash in the name keys the code cache: a cache never meets another build's bundle.
  const hash = createHash('sha256').update(readFileSync(out)).digest('hex').slice(0, 12);
  sdkFiles[pkg] = path.basename(out).replace(/\.cjs$/, `-${hash}.cjs`);
  renameSync(out, path.join(path.dirname(out), sdkFiles[pkg]));
}
const loader = path.resolve('src/aws/bundled-sdk.ts');
/** Each import of an SDK package in src/ becomes its bundle's exports, by name. */
const bundledSdk = {
  name: 'bundled-sdk',
  setup(b) {
    const names = Object.keys(SDK).map((p) => p.replace('/', '\\/'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'bundled-sdk' }));
    b.onLoad({ filter: /.*/, namespace: 'bundled-sdk' }, async ({ path: pkg }) => {
      const exported = Object.keys(await import(pkg)).filter((n) => n !== 'default');
      const shared = Object.fromEntries(SDK[pkg].map((p) => [p, sdkFiles[p]]));
      return {
        contents: `import { loadBundledSdk } from ${JSON.stringify(loader)};
export const { ${exported.join(', ')} } = loadBundledSdk(${JSON.stringify(sdkFiles[pkg])}, ${JSON.stringify(shared)});`,
        resolveDir: process.cwd(),
        loader: 'js',
      };
    });
  },
};

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
