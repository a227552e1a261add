import { notFound, usageError } from '../output/errors.js';
import type { ModelObject, Store } from '../store/index.js';
import type { HistoryEntry, Manifest } from './manifest.js';
import { parseVersionName } from './names.js';

/** Every version-named object (`<alias>/<hash>.tar.gz`) under the prefix, or of one alias. */
export async function listVersions(store: Store, alias?: string): Promise<ModelObject[]> {
  const objects = await store.list(alias === undefined ? undefined : { under: `${alias}/` });
  return objects.filter((o) => {
    const v = parseVersionName(o.name);
    return v !== undefined && (alias === undefined || v.alias === alias);
  });
}

/**
 * The version a user means: a full name (`m37/3f2a9c1b7d04.tar.gz`, or any artifact under the prefix, such as a flat
 * `m37.tar.gz`) or a prefix of the hash (`3f2a9c`). Not found: exit 3; a prefix matching several: exit 2.
 */
export async function findVersion(store: Store, alias: string, ref: string): Promise<ModelObject> {
  if (ref.includes('/') || ref.endsWith('.tar.gz')) {
    const found = await store.head(ref);
    if (!found) throw notFound(`version ${ref} does not exist under ${store.url}.`, `List the versions of ${alias} with \`mme versions ${alias}\`.`);
    return found;
  }
  if (!/^[0-9a-f]{4,64}$/.test(ref)) {
    throw usageError(
      `version "${ref.slice(0, 60)}" is neither a version name nor a hash prefix (4 or more hex digits).`,
      `E.g. \`mme promote ${alias} 3f2a9c\`; see \`mme versions ${alias}\`.`,
    );
  }
  const matches = (await listVersions(store, alias)).filter((o) => parseVersionName(o.name)!.hash.startsWith(ref));
  if (!matches.length)
    throw notFound(`no version of ${alias} has a hash starting with ${ref} under ${store.url}.`, `List them with \`mme versions ${alias}\`.`);
  if (matches.length > 1) {
    throw usageError(`hash prefix ${ref} matches ${matches.length} versions of ${alias}: ${matches.map((m) => m.name).join(', ')}.`, 'Give more hex digits.');
  }
  return matches[0];
}

export interface VersionRow extends HistoryEntry {
  size: number | null;
  /** False when the object is gone (deleted by `mme gc` or by hand). */
  exists: boolean;
}

export interface AliasView {
  alias: string;
  live: VersionRow;
  previous: VersionRow[];
}

export interface VersionsView {
  aliases: AliasView[];
  /** Versions that were never live for any alias (`--no-promote`, an unfinished sync): what `mme gc` collects. */
  unreferenced: { name: string; size: number; lastModified: string }[];
}

/** Per alias its live version and the earlier ones (with time, who, note and size), then the never-live versions. */
export function versionsView(manifest: Manifest, objects: ModelObject[], only?: string): VersionsView {
  const byName = new Map(objects.map((o) => [o.name, o]));
  const row = (h: HistoryEntry): VersionRow => ({ ...h, size: byName.get(h.target)?.size ?? null, exists: byName.has(h.target) });
  const aliases = Object.entries(manifest.aliases)
    .filter(([alias]) => only === undefined || alias === only)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([alias, entry]) => {
      const [head, ...rest] = entry.history;
      const live = head?.target === entry.target ? head : { target: entry.target, at: '', by: 'unknown', note: null };
      return { alias, live: row(live), previous: (head?.target === entry.target ? rest : entry.history).map(row) };
    });
  const everLive = new Set(Object.values(manifest.aliases).flatMap((e) => [e.target, ...e.history.map((h) => h.target)]));
  const unreferenced = objects
    .filter((o) => !everLive.has(o.name) && parseVersionName(o.name) && (only === undefined || parseVersionName(o.name)!.alias === only))
    .map((o) => ({ name: o.name, size: o.size, lastModified: o.lastModified.toISOString() }));
  return { aliases, unreferenced };
}
