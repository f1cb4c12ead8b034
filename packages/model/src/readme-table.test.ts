// The README's classification table is the documentation users read: it must say what the code does.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLASSIFICATION_TABLE } from './classify.js';
import { modelPackLayerMediaType } from './media-types.js';

describe("README's classification table", () => {
  it('lists every kind, its media type and its names, in the order the code tries them', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Models'));
    const rows = section
      .split('\n')
      .filter((line) => /^\| `(weights|config|code|datasets|docs)` /.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((cells) => cells[1])).toEqual(CLASSIFICATION_TABLE.map((r) => `\`${r.kind}\``));
    for (const [index, rule] of CLASSIFICATION_TABLE.entries()) {
      const cells = rows[index] ?? [];
      expect(cells[2]).toBe(`\`${modelPackLayerMediaType(rule.kind)}\``);
      const names = [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]?.toLowerCase());
      expect(names).toEqual(rule.names);
    }
  });
});
