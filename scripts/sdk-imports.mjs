// Which names of each AWS SDK package src/ uses, read from its syntax (TypeScript's parser): the SDK bundles export
// those and nothing else, so that the rest of a client (its other commands, their schemas) is never run or compiled.
// An import whose names cannot be told (a namespace import, a dynamic import not destructured) fails the build.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** package → the names src/ imports from it (types excluded). */
export function sdkImports(srcDir, packages) {
  const used = new Map(packages.map((p) => [p, new Set()]));
  const files = readdirSync(srcDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const full = path.join(srcDir, file);
    const source = ts.createSourceFile(full, readFileSync(full, 'utf8'), ts.ScriptTarget.Latest, true);
    const fail = (node, what) => {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      throw new Error(`${full}:${line + 1}: ${what}: name what is used ({ A, B } = …) so the SDK bundle exports it`);
    };
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && used.has(node.moduleSpecifier.text)) {
        const clause = node.importClause;
        if (clause && !clause.isTypeOnly) {
          if (clause.name || (clause.namedBindings && !ts.isNamedImports(clause.namedBindings))) fail(node, 'a default or namespace import');
          for (const el of clause.namedBindings?.elements ?? []) if (!el.isTypeOnly) used.get(node.moduleSpecifier.text).add((el.propertyName ?? el.name).text);
        }
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const spec = node.arguments[0];
        if (spec && ts.isStringLiteral(spec) && used.has(spec.text)) {
          for (const name of destructured(node) ?? fail(node, `import('${spec.text}') not destructured`)) used.get(spec.text).add(name);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return used;
}

/** The names taken from `import(…)`: `const { A } = await import(…)` or `import(…).then(({ A }) => …)`. */
function destructured(call) {
  const names = (pattern) => (pattern && ts.isObjectBindingPattern(pattern) ? pattern.elements.map((e) => (e.propertyName ?? e.name).text) : undefined);
  const parent = call.parent;
  if (ts.isAwaitExpression(parent) && ts.isVariableDeclaration(parent.parent)) return names(parent.parent.name);
  if (ts.isPropertyAccessExpression(parent) && parent.name.text === 'then' && ts.isCallExpression(parent.parent)) {
    const callback = parent.parent.arguments[0];
    if (callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) return names(callback.parameters[0]?.name);
  }
  return undefined;
}
