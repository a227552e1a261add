import { ExitCode, MmeError } from '../output/errors.js';

/** Where the alias manifest lives, relative to the fleet's prefix (never listed as a model). */
export const MANIFEST_NAME = '.mme/aliases.json';
export const SCHEMA_VERSION = 1;
/** History entries kept per alias (newest first): enough to roll back weeks of nightly releases. */
export const MAX_HISTORY = 200;

export interface HistoryEntry {
  /** The version (TargetModel) the alias pointed at from `at` on. */
  target: string;
  /** ISO 8601 time the alias was moved. */
  at: string;
  /** Who moved it: the caller's user name (or MME_RELEASE_BY). */
  by: string;
  note: string | null;
}

export interface AliasEntry {
  target: string;
  /** Newest first; the first entry is the live target. */
  history: HistoryEntry[];
}

export interface Manifest {
  schemaVersion: number;
  aliases: Record<string, AliasEntry>;
}

export const emptyManifest = (): Manifest => ({ schemaVersion: SCHEMA_VERSION, aliases: {} });

/** Parses the manifest's bytes into trusted types; anything else is a one-line usage error naming the file. */
export function parseManifest(bytes: Buffer, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(where, `is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw invalid(where, 'is not a JSON object');
  const version = raw.schemaVersion;
  if (!Number.isInteger(version) || (version as number) < 1) throw invalid(where, `has no valid "schemaVersion" (found ${JSON.stringify(version)})`);
  if (!isObject(raw.aliases)) throw invalid(where, 'has no "aliases" object');
  const aliases: Record<string, AliasEntry> = {};
  for (const [alias, value] of Object.entries(raw.aliases)) {
    if (!isObject(value) || typeof value.target !== 'string') throw invalid(where, `aliases.${alias} has no "target" string`);
    const history = value.history === undefined ? [] : value.history;
    if (!Array.isArray(history)) throw invalid(where, `aliases.${alias}.history is not an array`);
    aliases[alias] = {
      target: value.target,
      history: history.map((h, i) => {
        if (!isObject(h) || typeof h.target !== 'string' || typeof h.at !== 'string')
          throw invalid(where, `aliases.${alias}.history[${i}] needs "target" and "at" strings`);
        return { target: h.target, at: h.at, by: typeof h.by === 'string' ? h.by : 'unknown', note: typeof h.note === 'string' ? h.note : null };
      }),
    };
  }
  return { schemaVersion: version as number, aliases };
}

/** Writes are refused for a manifest written by a newer mme: this one would drop what it does not understand. */
export function checkWritable(manifest: Manifest, where: string): void {
  if (manifest.schemaVersion > SCHEMA_VERSION) {
    throw new MmeError(
      `${where} has schemaVersion ${manifest.schemaVersion}, newer than this mme understands (${SCHEMA_VERSION}); refusing to change it.`,
      ExitCode.usage,
      'Upgrade mme, or run the release with the newer mme that wrote it. Nothing was changed.',
    );
  }
}

export function serializeManifest(manifest: Manifest): Buffer {
  const sorted = Object.fromEntries(Object.entries(manifest.aliases).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return Buffer.from(JSON.stringify({ schemaVersion: SCHEMA_VERSION, aliases: sorted }, null, 2) + '\n');
}

/** Points an alias at a target, recording who and why at the head of its history. */
export function moveAlias(manifest: Manifest, alias: string, target: string, who: { by: string; note: string | null; at: Date }): void {
  const previous = manifest.aliases[alias]?.history ?? [];
  manifest.aliases[alias] = {
    target,
    history: [{ target, at: who.at.toISOString(), by: who.by, note: who.note }, ...previous].slice(0, MAX_HISTORY),
  };
}

function invalid(where: string, what: string): MmeError {
  return new MmeError(
    `${where} ${what}; refusing to read or change it.`,
    ExitCode.usage,
    'Fix the file by hand (see "Releasing models" in the README for its schema) or restore an earlier copy. Nothing was changed.',
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
