import { describe, expect, it } from 'vitest';
import type { Context } from './context.js';
import { printStatusLines } from './output.js';

function capture(format?: string) {
  const writes: string[] = [];
  const context = {
    args: { format },
    io: { stdout: (text: string) => writes.push(text), stderr: () => {} },
  } as unknown as Context;
  return { context, writes };
}

describe('printStatusLines', () => {
  it('writes all the lines of a pull with one write, as printStatus would line by line', () => {
    const { context, writes } = capture();
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      name: `small/f${i}.bin`,
      digest: `sha256:${String(i).padStart(4, '0')}${'a'.repeat(60)}`,
    }));
    printStatusLines(context, 'Downloaded', entries);
    expect(writes).toHaveLength(1);
    const lines = (writes[0] ?? '').split('\n');
    expect(lines).toHaveLength(1001);
    expect(lines[0]).toBe('Downloaded small/f0.bin  0000aaaaaaaa');
    expect(lines[999]).toBe('Downloaded small/f999.bin  0999aaaaaaaa');
  });

  it('keeps a title on one line, and prints nothing in JSON mode or for no files', () => {
    const text = capture();
    printStatusLines(text.context, 'Downloaded', [{ name: 'a\nb' }]);
    expect(text.writes).toEqual(['Downloaded a\\u000ab\n']);
    const json = capture('json');
    printStatusLines(json.context, 'Downloaded', [{ name: 'a' }]);
    printStatusLines(text.context, 'Downloaded', []);
    expect(json.writes).toEqual([]);
    expect(text.writes).toHaveLength(1);
  });
});
