// The CLI's module structure, read from the source: no import circles (commands/ → run/args →
// options/, never back), no `as unknown as` where commands are declared and run, and a help path
// (main and commands/) that loads none of the heavy packages. Every commands/ and run/ module is
// also imported, so a module that fails to load fails here rather than in one command.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

interface Import {
  specifier: string;
  /** `import type`/`export type`: erased, costs nothing at run time, but still a dependency. */
  typeOnly: boolean;
  /** `import('…')`: loaded when reached, not with the module. */
  dynamic: boolean;
}

/** The imports of a module, read with a small parser (strings and comments aside). */
export function importsOf(text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: Import[] = [];
  const staticImport = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+['"]([^'"]+)['"]/gm;
  for (const match of code.matchAll(staticImport)) {
    const clause = match[3] ?? '';
    // `import { type A, type B }` is erased too (verbatimModuleSyntax keeps the statement, empty).
    const allTypes =
      /^\{[^}]*\}$/.test(clause.trim()) &&
      clause
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter(Boolean)
        .every((name) => name.startsWith('type'));
    found.push({
      specifier: match[4] as string,
      typeOnly: Boolean(match[2]) || allTypes,
      dynamic: false,
    });
  }
  for (const match of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) {
    found.push({ specifier: match[1] as string, typeOnly: false, dynamic: false });
  }
  for (const match of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push({ specifier: match[1] as string, typeOnly: false, dynamic: true });
  }
  return found;
}

const FILES = sourceFiles(SRC);
const name = (path: string) => relative(SRC, path);

/** module → the modules of this package it imports (resolved `.js` → `.ts`). */
function graph(include: (entry: Import) => boolean): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of FILES) {
    const local = importsOf(readFileSync(file, 'utf8'))
      .filter((entry) => entry.specifier.startsWith('.') && include(entry))
      .map((entry) => name(resolve(dirname(file), entry.specifier.replace(/\.js$/, '.ts'))));
    edges.set(name(file), local);
  }
  return edges;
}

/** Every circle, as the path that closes it (depth-first, each circle found once per entry). */
function circles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      found.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of edges.keys()) visit(node, []);
  return found;
}

describe('module structure', () => {
  it('the parser reads value, type-only and dynamic imports', () => {
    expect(
      importsOf(
        [
          "import type { A } from './a.js';",
          "import { type B, type C } from './b.js';",
          "import { d, type E } from './d.js';",
          "export { f } from './f.js';",
          "// import { g } from './g.js';",
          "const h = () => import('./h.js');",
        ].join('\n'),
      ),
    ).toEqual([
      { specifier: './a.js', typeOnly: true, dynamic: false },
      { specifier: './b.js', typeOnly: true, dynamic: false },
      { specifier: './d.js', typeOnly: false, dynamic: false },
      { specifier: './f.js', typeOnly: false, dynamic: false },
      { specifier: './h.js', typeOnly: false, dynamic: true },
    ]);
    expect(
      circles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('has no import circle, counting type-only and dynamic imports', () => {
    const edges = graph(() => true);
    expect(edges.size).toBeGreaterThan(100);
    expect(circles(edges)).toEqual([]);
  });

  it('commands/ imports run/ (its args and, lazily, its code); run/ and options/ never import commands/', () => {
    for (const [module, imports] of graph(() => true)) {
      if (module.startsWith('run/') || module.startsWith('options/')) {
        expect(
          imports.filter((target) => target.startsWith('commands/')),
          module,
        ).toEqual([]);
      }
      if (module.startsWith('options/')) {
        expect(
          imports.filter((target) => target.startsWith('run/')),
          module,
        ).toEqual([]);
      }
    }
  });

  it('has no `as unknown as` in commands/, run/ or options/', () => {
    const casts = FILES.filter((file) => /^(commands|run|options)\//.test(name(file))).filter(
      (file) => readFileSync(file, 'utf8').includes('as unknown as'),
    );
    expect(casts.map(name)).toEqual([]);
  });

  it('help loads none of the heavy packages: main and commands/ reach only yargs, @ferry/oci and node', () => {
    const reached = new Set<string>();
    const packages = new Set<string>();
    const visit = (module: string) => {
      if (reached.has(module)) return;
      reached.add(module);
      const file = join(SRC, module);
      for (const entry of importsOf(readFileSync(file, 'utf8'))) {
        if (entry.typeOnly || entry.dynamic) continue;
        if (entry.specifier.startsWith('.')) {
          visit(name(resolve(dirname(file), entry.specifier.replace(/\.js$/, '.ts'))));
        } else {
          packages.add(entry.specifier);
        }
      }
    };
    visit('main.ts');
    expect([...reached].filter((module) => module.startsWith('commands/')).length).toBeGreaterThan(
      30,
    );
    expect([...packages].filter((pkg) => !pkg.startsWith('node:')).sort()).toEqual([
      '@ferry/oci',
      'yargs',
    ]);
  });

  it('every commands/ and run/ module loads', async () => {
    const modules = FILES.map(name).filter((module) => /^(commands|run)\//.test(module));
    expect(modules.length).toBeGreaterThan(80);
    for (const module of modules) {
      const loaded: unknown = await import(`./${module.replace(/\.ts$/, '.js')}`);
      expect(typeof loaded, module).toBe('object');
    }
  });
});
