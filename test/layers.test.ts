// The layer map, enforced: src/commands/ holds thin command modules (parse, call, render) and only src/cli.ts and
// other commands may import them. Everything below works without knowing which command called it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/cli.js';

const SRC = path.join(ROOT, 'src');
const COMMANDS = path.join(SRC, 'commands');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module a file imports: static imports, re-exports and dynamic import() calls. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

describe('layer map', () => {
  it('nothing below src/commands imports a command module', () => {
    const upward: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (file.startsWith(COMMANDS + path.sep) || file === path.join(SRC, 'cli.ts')) continue;
      for (const target of importsOf(file)) {
        if (target.startsWith(COMMANDS + path.sep)) upward.push(`${path.relative(ROOT, file)} imports ${path.relative(ROOT, target)}`);
      }
    }
    assert.deepEqual(upward, [], 'lower layers must receive what they need as arguments, not import from src/commands');
  });

  it('every relative import names a file that exists', () => {
    const missing = sourceFiles(SRC).flatMap((file) =>
      importsOf(file)
        .filter((t) => !fs.existsSync(t))
        .map((t) => `${path.relative(ROOT, file)} → ${path.relative(ROOT, t)}`),
    );
    assert.deepEqual(missing, []);
  });
});
