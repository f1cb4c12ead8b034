// A fresh clone must pass its own tests: nothing in the repository may read files that exist only
// beside this checkout (the design notes and fixtures in ../shared). The Homebrew fixtures the
// tests need live in fixtures/homebrew/.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from './support/cli.js';

const SKIP = new Set([
  'node_modules',
  'dist',
  '.git',
  '.turbo',
  '.test-results',
  'tmp',
  'coverage',
]);
const TEXT = /\.(?:[cm]?[jt]s|json|sh|md|ya?ml)$|^run$/;
const OUTSIDE = /\.\.\/shared\b|'\.\.',\s*'shared'|\/work\/shared/;

async function* textFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* textFiles(path);
    else if (entry.isFile() && TEXT.test(entry.name)) yield path;
  }
}

describe('the repository stands on its own', () => {
  it('has the Homebrew fixtures the tests read, with where they came from', async () => {
    const dir = join(repositoryRoot, 'fixtures', 'homebrew');
    expect((await readdir(dir)).sort()).toEqual([
      'README.md',
      'sqlite-3.40.1.index.json',
      'sqlite-3.40.1.x86_64_linux.manifest.json',
    ]);
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('Real responses from ghcr.io');
  });

  it('reads nothing from ../shared', async () => {
    const offenders: string[] = [];
    const self = fileURLToPath(import.meta.url);
    for await (const path of textFiles(repositoryRoot)) {
      if (path === self) continue;
      const text = await readFile(path, 'utf8');
      text.split('\n').forEach((line, i) => {
        if (OUTSIDE.test(line))
          offenders.push(`${relative(repositoryRoot, path)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
