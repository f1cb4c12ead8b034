import { describe, expect, it } from 'vitest';
import { factRows, fileTable, parseKinds, terminalSafe } from './model-shared.js';

describe('terminalSafe', () => {
  it('escapes control characters and bidirectional overrides from a registry', () => {
    expect(terminalSafe('ok\x1b[2J\rname\u202egpj.exe\x07\x9b')).toBe(
      'ok\\u001b[2J\\u000dname\\u202egpj.exe\\u0007\\u009b',
    );
    expect(terminalSafe('模型 model-1.safetensors')).toBe('模型 model-1.safetensors');
  });

  it('is applied to every fact and path shown', () => {
    expect(factRows({ name: 'evil\x1b]0;title\x07', licenses: ['MIT', 'A\nB'] })).toEqual([
      ['Name', 'evil\\u001b]0;title\\u0007'],
      ['Licenses', 'MIT, A\\u000aB'],
    ]);
    const table = fileTable([
      {
        path: 'a\x1b[31m.bin',
        kind: 'weights',
        packing: 'raw',
        descriptor: { mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 2048 },
      },
    ]);
    expect(table[1]).toBe('weights  2.00 KiB  sha256:aaaaaaaaaaaa  a\\u001b[31m.bin');
  });
});

describe('parseKinds', () => {
  it('reads comma-separated and repeated kinds, with singular aliases', () => {
    expect(parseKinds(['weights,config', 'doc', 'dataset'])).toEqual([
      'weights',
      'config',
      'docs',
      'datasets',
    ]);
    expect(parseKinds(undefined)).toBeUndefined();
  });

  it('refuses an unknown kind as a usage error naming it', () => {
    expect(() => parseKinds(['weights,tokenizer'])).toThrowError(
      expect.objectContaining({
        code: 'ERR_USAGE',
        message: expect.stringContaining('"tokenizer"'),
      }),
    );
  });
});
