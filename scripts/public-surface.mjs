// The test every package runs on its public face (src/public-surface.test.ts): the runtime names
// of its entry, the named lists of its index.ts (read with the TypeScript parser) and the names
// the READMEs' examples import from it must all agree with the lists the package pins. One copy
// here, so that the five packages check the same rule.
import { readdir, readFile } from 'node:fs/promises';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** index.ts's `export { … } from` lists: values and type-only names. */
async function declaredExports(indexUrl) {
  const text = await readFile(indexUrl, 'utf8');
  const source = ts.createSourceFile('index.ts', text, ts.ScriptTarget.Latest);
  const values = [];
  const types = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) {
      // A declaration in index.ts itself (`export interface …`) would slip past the lists.
      const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
      if (modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
        throw new Error(`index.ts declares \`${statement.getText(source)}\`; re-export it instead`);
      }
      continue;
    }
    const clause = statement.exportClause;
    if (!clause || !ts.isNamedExports(clause)) {
      throw new Error(`index.ts: \`${statement.getText(source)}\` exports unnamed; list the names`);
    }
    for (const element of clause.elements) {
      (statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
    }
  }
  return { values: values.sort(), types: types.sort() };
}

/** Names the READMEs' examples (the repository's and every package's) import from `name`. */
async function namesInReadmeExamples(name, indexUrl) {
  const packages = new URL('../../', indexUrl);
  const readmes = [new URL('../README.md', packages)];
  for (const dir of await readdir(packages)) readmes.push(new URL(`${dir}/README.md`, packages));
  const names = new Set();
  const imports = new RegExp(String.raw`import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'${name}'`, 'g');
  for (const readme of readmes) {
    const text = await readFile(readme, 'utf8').catch(() => '');
    for (const [, list] of text.matchAll(imports)) {
      for (const item of list.split(',')) {
        const imported = item
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)[0]
          .trim();
        if (imported) names.add(imported);
      }
    }
  }
  return [...names].sort();
}

/** Pins a package's public face: see scripts/public-surface.d.mts. */
export function pinPublicSurface({ name, indexUrl, load, values, types }) {
  describe(`${name} public surface`, () => {
    it('exports exactly these runtime names', async () => {
      expect(Object.keys(await load()).sort()).toEqual([...values].sort());
      expect((await declaredExports(indexUrl)).values).toEqual([...values].sort());
    });

    it('exports exactly these type-only names', async () => {
      expect((await declaredExports(indexUrl)).types).toEqual([...types].sort());
    });

    it("exports every name the READMEs' examples import from it", async () => {
      const used = await namesInReadmeExamples(name, indexUrl);
      expect(
        used.length,
        'no README example imports this package: is the pattern still right?',
      ).toBeGreaterThan(0);
      expect(used.filter((n) => !values.includes(n) && !types.includes(n))).toEqual([]);
    });
  });
}
