#!/usr/bin/env node
// Every workspace declares each package its code imports. npm hoists every workspace's
// dependencies into one node_modules, so an undeclared import works in this checkout and fails
// only once the package is installed on its own (`Cannot find package 'tar-stream'`). This reads
// each workspace's non-test sources (src/ and bin/) with the TypeScript parser — static imports,
// `export … from`, dynamic `import('x')`, `require('x')`, `import x = require('x')` and
// `import('x')` types — and fails listing every package that its package.json does not declare.
//
// Usage: node scripts/check-deps.mjs [--root <dir>]   (default: this repository)
// A published workspace must list what it imports in dependencies, peerDependencies or
// optionalDependencies (its users get nothing else); a private one (e2e) may use devDependencies.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SOURCE_DIRS = ['src', 'bin'];
const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js|tsx|jsx)$/;
const TEST_DIRS = new Set(['testing', '__fixtures__']);
const TEST_FILE = /\.(?:test|spec)\.[^.]+$|\.d\.[cm]?ts$/;
const BUILTINS = new Set(builtinModules);

/** The workspace directories named by the root package.json (`dir` or `dir/*` patterns). */
export function workspaceDirs(root) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const patterns = Array.isArray(manifest.workspaces)
    ? manifest.workspaces
    : (manifest.workspaces?.packages ?? []);
  const dirs = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const name of readdirSync(parent).sort()) {
        if (existsSync(join(parent, name, 'package.json'))) dirs.push(join(parent, name));
      }
    } else if (existsSync(join(root, pattern, 'package.json'))) {
      dirs.push(join(root, pattern));
    }
  }
  return dirs;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for relative and builtins. */
export function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('#')) {
    return undefined;
  }
  if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  if (BUILTINS.has(name)) return undefined;
  return name;
}

/** Every module specifier a source text refers to, each with whether only types use it. */
export function importsOf(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (node, typeOnly) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ specifier: node.text, typeOnly });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference)) {
        add(node.moduleReference.expression, node.isTypeOnly);
      }
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(arg.literal, true);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if ((isImport || isRequire) && node.arguments.length > 0) add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir) {
  const files = [];
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      // Test support (loopback servers, reference ports) is left out of every tarball's `files`.
      if (entry.isDirectory() && TEST_DIRS.has(entry.name)) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (SOURCE_FILE.test(entry.name) && !TEST_FILE.test(entry.name)) files.push(path);
    }
  };
  for (const sub of SOURCE_DIRS) {
    const path = join(dir, sub);
    if (existsSync(path) && statSync(path).isDirectory()) walk(path);
  }
  return files.sort();
}

/**
 * The undeclared imports of every workspace under `root`: a list of
 * `{ workspace, packageJson, dependency, files, typeOnly }`, empty when all is well.
 */
export function findUndeclared(root) {
  const problems = [];
  for (const dir of workspaceDirs(root)) {
    const packageJsonPath = join(dir, 'package.json');
    const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
    const runtime = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...(manifest.private ? Object.keys(manifest.devDependencies ?? {}) : []),
    ]);
    const missing = new Map();
    for (const file of sourceFiles(dir)) {
      for (const { specifier, typeOnly } of importsOf(file, readFileSync(file, 'utf8'))) {
        const name = packageOf(specifier);
        if (name === undefined || name === manifest.name || runtime.has(name)) continue;
        // Type-only imports count too: the published .d.ts files import the same package.
        const entry = missing.get(name) ?? { files: new Set(), typeOnly: true };
        entry.files.add(relative(root, file));
        entry.typeOnly &&= typeOnly;
        missing.set(name, entry);
      }
    }
    for (const [dependency, { files, typeOnly }] of [...missing].sort()) {
      problems.push({
        workspace: manifest.name ?? relative(root, dir),
        packageJson: relative(root, packageJsonPath),
        dependency,
        files: [...files].sort(),
        typeOnly,
      });
    }
  }
  return problems;
}

export function formatProblems(problems) {
  const field = (p) =>
    p.typeOnly
      ? 'dependencies (imported for types only; its .d.ts files still need it)'
      : 'dependencies';
  return problems
    .map(
      (p) =>
        `${p.packageJson}: ${p.workspace} imports '${p.dependency}' but does not declare it in ` +
        `${field(p)}\n  imported by: ${p.files.join(', ')}`,
    )
    .join('\n');
}

function main(argv) {
  const at = argv.indexOf('--root');
  const root =
    at >= 0 && argv[at + 1]
      ? resolve(argv[at + 1])
      : resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = findUndeclared(root);
  if (problems.length > 0) {
    process.stderr.write(
      `check-deps: ${problems.length} undeclared import(s):\n${formatProblems(problems)}\n` +
        'Add each to that package.json (`npm install <name> -w <workspace>`): npm hoisting hides ' +
        'a missing one here, but an installed package fails with "Cannot find package".\n',
    );
    return 1;
  }
  const count = workspaceDirs(root).length;
  process.stdout.write(`check-deps: every import of ${count} workspaces is declared\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
