/**
 * The built CLI's entry, dist/cli.js (bin/mme.js imports it): runs the CommonJS bundle of src/cli.ts, built beside it
 * as cli-<hash>.cjs, through a V8 code cache (util/code-cache.ts). Loading the CLI as ES modules (two dozen chunks for
 * a command) cost about 25 ms of every run in resolving, reading and compiling them; Node 20 caches none of it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCachedScript } from './util/code-cache.js';

declare const __MME_CLI_BUNDLE__: string;

export function main(argv: string[]): unknown {
  const bundle = path.join(path.dirname(fileURLToPath(import.meta.url)), __MME_CLI_BUNDLE__);
  return (runCachedScript(bundle) as { main(argv: string[]): unknown }).main(argv);
}
