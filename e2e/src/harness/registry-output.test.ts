import { appendFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryOutputFile } from './registry-output.js';

describe('RegistryOutputFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-registry-output-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands `log` whole lines only, a character split across writes intact, the rest at finish', () => {
    const lines: string[] = [];
    const output = new RegistryOutputFile(dir, (s) => lines.push(s));
    try {
      expect(existsSync(output.path)).toBe(true);
      expect(output.path.startsWith(dir)).toBe(true);
      const e = Buffer.from('é');
      appendFileSync(
        output.path,
        Buffer.concat([Buffer.from('first\nsecond caf'), e.subarray(0, 1)]),
      );
      output.follow();
      expect(lines).toEqual(['[registry] first']);
      appendFileSync(
        output.path,
        Buffer.concat([e.subarray(1), Buffer.from('\n\nlast, unterminated')]),
      );
      output.follow();
      expect(lines).toEqual(['[registry] first', '[registry] second café']);
      output.finish();
      expect(lines).toEqual([
        '[registry] first',
        '[registry] second café',
        '[registry] last, unterminated',
      ]);
    } finally {
      output.close();
    }
  });

  it('tail() gives the last lines of what was written, without `log`', () => {
    const output = new RegistryOutputFile(dir);
    try {
      const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
      appendFileSync(output.path, `${text}\n`);
      expect(output.tail(3)).toBe('line 97\nline 98\nline 99');
      // A tail never reads more than the last 16 KiB, whatever the file's size.
      appendFileSync(output.path, `${'x'.repeat(40_000)}\nend\n`);
      expect(output.tail(2)).toBe(`${'x'.repeat(16_384 - 5)}\nend`);
    } finally {
      output.close();
    }
  });
});
