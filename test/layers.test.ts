// The layer map, enforced: src/commands/ holds thin command modules (parse, call, render) and only src/cli.ts and
// other commands may import them. Everything below works without knowing which command called it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
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

describe('the SDK bundles export what src/ imports (scripts/sdk-imports.mjs)', () => {
  // @ts-expect-error: a plain .mjs build script, without types
  const load = () => import('../scripts/sdk-imports.mjs') as Promise<{ sdkImports(dir: string, packages: string[]): Map<string, Set<string>> }>;
  const withSource = async (text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mme-sdk-imports-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), text);
      return (await load()).sdkImports(dir, ['@aws-sdk/client-s3']).get('@aws-sdk/client-s3');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it("src/'s own imports, types left out", async () => {
    const used = (await load()).sdkImports(SRC, ['@aws-sdk/client-s3', '@aws-sdk/lib-storage']);
    assert.ok(used.get('@aws-sdk/client-s3')!.has('S3Client') && used.get('@aws-sdk/client-s3')!.has('PutObjectCommand'));
    assert.deepEqual([...used.get('@aws-sdk/lib-storage')!], ['Upload']);
  });

  it('named, destructured and .then(({ … })) imports count; an import whose names cannot be told fails', async () => {
    const text = [
      "import { A, type B, C as D } from '@aws-sdk/client-s3';",
      "import type { E } from '@aws-sdk/client-s3';",
      "const { F } = await import('@aws-sdk/client-s3');",
      "const g = import('@aws-sdk/client-s3').then(({ G }) => G);",
      "type H = typeof import('@aws-sdk/client-s3').H;",
    ].join('\n');
    assert.deepEqual([...(await withSource(text))!].sort(), ['A', 'C', 'F', 'G']);
    await assert.rejects(withSource("import * as s3 from '@aws-sdk/client-s3';"), /a\.ts:1: a default or namespace import/);
    await assert.rejects(withSource("const m = await import('@aws-sdk/client-s3');"), /a\.ts:1: import\('@aws-sdk\/client-s3'\) not destructured/);
  });
});
