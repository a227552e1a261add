// Pure logic of releases (issue 12), beside the end-to-end tests: gc's choices at chosen times, the manifest parser,
// alias and version names.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planGc } from '../src/releases/gc.js';
import { parseManifest, type Manifest } from '../src/releases/manifest.js';
import { aliasProblem, parseVersionName, versionName } from '../src/releases/names.js';

const H = 3600_000;
const t0 = Date.parse('2026-12-01T00:00:00Z');
const at = (hours: number) => new Date(t0 + hours * H).toISOString();
const v = (alias: string, n: number) => `${alias}/${String(n).repeat(12).slice(0, 12)}.tar.gz`;
const obj = (name: string, hours = 0) => ({ name, size: 10, lastModified: new Date(t0 + hours * H) });

describe('gc at chosen times', () => {
  // m1 went v1 (0 h) → v2 (10 h) → v3 (20 h) → v4 (30 h) → v5 (40 h); now is 50 h.
  const manifest: Manifest = {
    schemaVersion: 1,
    aliases: { m1: { target: v('m1', 5), history: [5, 4, 3, 2, 1].map((n) => ({ target: v('m1', n), at: at((n - 1) * 10), by: 'x', note: null })) } },
  };
  const objects = [1, 2, 3, 4, 5].map((n) => obj(v('m1', n))).concat([obj(v('m2', 7), 45), obj(v('m2', 8), 10), obj('flat.tar.gz')]);
  const decide = (keep: number, drainHours: number) =>
    Object.fromEntries(planGc(manifest, objects, { keep, drainMs: drainHours * H, now: new Date(t0 + 50 * H) }).map((d) => [d.name, d.delete]));

  test('keep 2, drain 24 h: v3 was live until 30 h (20 h ago) and stays; v1 and v2 go', () => {
    const d = decide(2, 24);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => d[v('m1', n)]),
      [true, true, false, false, false],
    );
  });
  test('keep 1, drain 5 h: only the live version of m1 stays', () => {
    const d = decide(1, 5);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => d[v('m1', n)]),
      [true, true, true, true, false],
    );
  });
  test('never-live versions go once older than the drain; flat names are never considered', () => {
    const d = decide(3, 24);
    assert.equal(d[v('m2', 7)], false); // uploaded 5 h ago
    assert.equal(d[v('m2', 8)], true); // uploaded 40 h ago, never live
    assert.equal('flat.tar.gz' in d, false);
  });
});

describe('manifest and names', () => {
  test('the parser takes the documented schema and names what is wrong', () => {
    const m = parseManifest(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 1,
          aliases: { m37: { target: 'm37/abc.tar.gz', history: [{ target: 'm37/abc.tar.gz', at: at(0), by: 'me', note: 'n' }] } },
        }),
      ),
      'x',
    );
    assert.equal(m.aliases.m37.history[0].note, 'n');
    assert.throws(() => parseManifest(Buffer.from('{'), 'x'), /x is not valid JSON/);
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"aliases":{"m":{}}}'), 'x'), /aliases\.m has no "target"/);
    assert.throws(() => parseManifest(Buffer.from('{"aliases":{}}'), 'x'), /no valid "schemaVersion"/);
  });
  test('aliases never look like artifacts; versions round-trip', () => {
    assert.equal(aliasProblem('m37'), undefined);
    assert.equal(aliasProblem('eu/m37'), undefined);
    assert.match(aliasProblem('m37.tar.gz')!, /ends in \.tar\.gz/);
    assert.match(aliasProblem('../m37')!, /may hold only/);
    assert.match(aliasProblem('.mme')!, /may hold only/);
    const name = versionName('eu/m37', 'ab'.repeat(32));
    assert.equal(name, 'eu/m37/abababababab.tar.gz');
    assert.deepEqual(parseVersionName(name), { alias: 'eu/m37', hash: 'abababababab' });
    assert.equal(parseVersionName('m37.tar.gz'), undefined);
  });
});
