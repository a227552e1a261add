/**
 * Loads an AWS SDK package of the built CLI from its CommonJS bundle in dist/sdk/, through a V8 code cache
 * (../util/code-cache.ts). The build (scripts/build.mjs) turns every `import … from '@aws-sdk/…'` of src/ into a call
 * of loadBundledSdk; under tsx the packages are imported as usual and this file is not used.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCachedScript, type Exports } from '../util/code-cache.js';

const loaded = new Map<string, Exports>();

/** The bundles' folder: dist/sdk, beside the bundle this code was built into (dist/, or dist/chunks/). */
function sdkDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.join(path.basename(here) === 'chunks' ? path.dirname(here) : here, 'sdk');
}

/** The exports of the bundle `file` (in dist/sdk). */
export function loadBundledSdk(file: string): Exports {
  let exports = loaded.get(file);
  if (!exports) loaded.set(file, (exports = runCachedScript(path.join(sdkDir(), file))));
  return exports;
}
