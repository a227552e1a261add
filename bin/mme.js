#!/usr/bin/env node
// Thin launcher: all code lives in dist/ (built from src/ by `npm run build`).
const cli = new URL('../dist/cli.js', import.meta.url);
let main;
try {
  ({ main } = await import(cli.href));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(cli.pathname)) throw err;
  process.stderr.write('mme: dist/ is not built in this checkout. Run `npm run build` (npm test, demo and bench build first).\n');
  process.exit(1);
}
main(process.argv);
