// scripts/check-deps.mjs (run by `npm run lint`, and here by `npm test`): every workspace declares
// each package its non-test sources import. A repository laid out like this one, with a workspace
// that imports what it does not declare in every syntax the checker must see, fails it by name.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from './support/cli.js';

const CHECKER = join(repositoryRoot, 'scripts/check-deps.mjs');

interface CheckResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function check(root: string): Promise<CheckResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [CHECKER, '--root', root],
      { timeout: 30_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failure = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failure.code !== 'number') throw err;
    return { code: failure.code, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

async function write(root: string, files: Record<string, unknown>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    const text = typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
    await writeFile(join(root, path), text);
  }
}

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-check-deps-'));
  await write(root, {
    'package.json': { name: 'fake-monorepo', private: true, workspaces: ['packages/*', 'tools'] },
    'packages/good/package.json': { name: '@fake/good', dependencies: { undici: '^7.0.0' } },
    'packages/good/src/index.ts': [
      "import { request } from 'undici';",
      "import { readFile } from 'node:fs/promises';",
      "import { join } from 'path';",
      "import { helper } from './helper.js';",
      "export * from '@fake/good/sub';", // its own name
      'export { request, readFile, join, helper };',
    ].join('\n'),
    'packages/good/src/index.test.ts': "import { it } from 'vitest';\nit('x', () => {});\n",
    'packages/bad/package.json': {
      name: '@fake/bad',
      dependencies: { '@fake/good': '*' },
      devDependencies: { 'dev-only': '*' },
    },
    'packages/bad/src/index.ts': [
      "import { extract } from 'tar-stream';",
      "export { thing } from 'reexported-pkg/deep/path';",
      "export * from '@scoped/pkg/sub';",
      "import type { Shape } from 'types-only-pkg';",
      "import { good } from '@fake/good';",
      "import devThing from 'dev-only';",
      "// import('in-a-comment') and 'from \"in-a-string\"' are not imports",
      'const note = "import x from \'in-a-string\'";',
      'export async function load(): Promise<unknown> {',
      "  return import('dynamic-pkg');",
      '}',
      'export { extract, good, devThing, note };',
      'export type { Shape };',
    ].join('\n'),
    'packages/bad/src/index.test.ts': "import { it } from 'test-only-pkg';\nit('x', () => {});\n",
    'packages/bad/bin/run.js': "#!/usr/bin/env node\nimport 'side-effect-pkg';\n",
    'tools/package.json': { name: 'tools', private: true, devDependencies: { vitest: '*' } },
    'tools/src/fixture.ts': "import { expect } from 'vitest';\nexport { expect };\n",
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('scripts/check-deps.mjs', () => {
  it('fails on a workspace with undeclared imports, naming each package, file and package.json', async () => {
    const result = await check(root);
    expect(result.code).toBe(1);
    const named = [...result.stderr.matchAll(/@fake\/bad imports '([^']+)'/g)].map((m) => m[1]);
    expect(named).toEqual([
      '@scoped/pkg',
      'dev-only',
      'dynamic-pkg',
      'reexported-pkg',
      'side-effect-pkg',
      'tar-stream',
      'types-only-pkg',
    ]);
    expect(result.stderr).toContain('check-deps: 7 undeclared import(s):');
    expect(result.stderr).toContain(
      "packages/bad/package.json: @fake/bad imports 'tar-stream' but does not declare it in dependencies\n" +
        '  imported by: packages/bad/src/index.ts',
    );
    expect(result.stderr).toContain("'side-effect-pkg'");
    expect(result.stderr).toContain('packages/bad/bin/run.js');
    expect(result.stderr).toContain('imported for types only');
    // Test files, comments, strings, builtins, relative paths, declared and own names are not flagged.
    for (const absent of ['test-only-pkg', 'in-a-comment', 'in-a-string', '@fake/good', 'vitest']) {
      expect(result.stderr).not.toContain(`'${absent}'`);
    }
    expect(result.stdout).toBe('');
  });

  it('passes once every import is declared', async () => {
    const fixed = await mkdtemp(join(tmpdir(), 'ferry-check-deps-fixed-'));
    try {
      await write(fixed, {
        'package.json': { name: 'fake-monorepo', private: true, workspaces: ['packages/*'] },
        'packages/one/package.json': {
          name: 'one',
          dependencies: { 'tar-stream': '*' },
          peerDependencies: { 'peer-pkg': '*' },
        },
        'packages/one/src/index.ts':
          "export { extract } from 'tar-stream';\nexport const p = import('peer-pkg');\n",
      });
      const result = await check(fixed);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe('check-deps: every import of 1 workspaces is declared\n');
    } finally {
      await rm(fixed, { recursive: true, force: true });
    }
  });

  it('passes on this repository', async () => {
    const result = await check(repositoryRoot);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^check-deps: every import of \d+ workspaces is declared\n$/);
  });
});
