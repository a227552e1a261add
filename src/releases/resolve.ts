import type { ClientSettings } from '../aws/clients.js';
import { ExitCode, MmeError } from '../output/errors.js';
import { openStore } from '../store/index.js';
import { mayBeAlias } from './names.js';
import { readManifest } from './update.js';

/**
 * Which of these TargetModel names are aliases, and what they point at: one read of the manifest (one GET on S3),
 * and none at all when every name is an artifact name (`m37.tar.gz`), so flat names cost nothing extra.
 */
export async function resolveAliases(
  names: string[],
  prefix: string | undefined,
  clients: ClientSettings,
  warn: (m: string) => void,
): Promise<Map<string, string>> {
  const candidates = names.filter(mayBeAlias);
  if (!candidates.length || prefix === undefined) return new Map();
  let manifest;
  try {
    manifest = (await readManifest(await openStore(prefix, clients))).manifest;
  } catch (err) {
    // A broken manifest is the user's to fix; an unreadable prefix should not stop a call by a plain model name.
    if (err instanceof MmeError && err.exitCode === ExitCode.usage) throw err;
    warn(`could not read the alias manifest under ${prefix} (${err instanceof Error ? err.message : String(err)}); calling ${candidates.join(', ')} as given.`);
    return new Map();
  }
  return new Map(candidates.flatMap((n) => (manifest.aliases[n] ? [[n, manifest.aliases[n].target] as [string, string]] : [])));
}
