import type { ModelObject } from '../store/index.js';
import type { Manifest } from './manifest.js';
import { parseVersionName } from './names.js';

export interface GcOptions {
  /** Versions kept per alias, counting the live one. */
  keep: number;
  /** A version live (or, if never live, uploaded) less than this long ago is kept. */
  drainMs: number;
  now: Date;
}

export interface GcDecision {
  name: string;
  size: number;
  delete: boolean;
  reason: string;
}

/**
 * Decides, for every version-named object, whether `mme gc` may delete it. Kept: the live target of any alias; the
 * last `keep` targets of each alias; anything live within the drain period (instances and clients with a cached
 * manifest may still call it); a never-live version uploaded within the drain period (it may be about to be
 * promoted). Flat names (`m37.tar.gz`) are never considered.
 */
export function planGc(manifest: Manifest, objects: ModelObject[], o: GcOptions): GcDecision[] {
  const live = new Set(Object.values(manifest.aliases).map((a) => a.target));
  const recent = new Set<string>();
  const lastLiveEnd = new Map<string, number>();
  const drainStart = o.now.getTime() - o.drainMs;
  for (const entry of Object.values(manifest.aliases)) {
    const distinct = [...new Set([entry.target, ...entry.history.map((h) => h.target)])];
    distinct.slice(0, o.keep).forEach((t) => recent.add(t));
    // An entry was live from its `at` until the `at` of the entry before it (newer); the first is live now.
    entry.history.forEach((h, i) => {
      const end = i === 0 ? o.now.getTime() : Date.parse(entry.history[i - 1].at);
      lastLiveEnd.set(h.target, Math.max(lastLiveEnd.get(h.target) ?? 0, Number.isNaN(end) ? o.now.getTime() : end));
    });
  }
  return objects
    .filter((obj) => parseVersionName(obj.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((obj): GcDecision => {
      const keep = (reason: string) => ({ name: obj.name, size: obj.size, delete: false, reason });
      const drop = (reason: string) => ({ name: obj.name, size: obj.size, delete: true, reason });
      if (live.has(obj.name)) return keep('live');
      if (recent.has(obj.name)) return keep(`among the last ${o.keep} of its alias`);
      const end = lastLiveEnd.get(obj.name);
      if (end !== undefined) {
        return end > drainStart ? keep(`live until ${new Date(end).toISOString()}, within the drain period`) : drop(`last live ${new Date(end).toISOString()}`);
      }
      return obj.lastModified.getTime() > drainStart ? keep('never live, uploaded within the drain period') : drop('never live');
    });
}
