import { describe, expect, it } from 'vitest';
import { protectDashes, restoreDashes } from './stdin-argument.js';

describe('a lone - argument survives parsing', () => {
  it('is swapped before parsing and restored after, in strings and arrays', () => {
    const protectedArgv = protectDashes(['push', 'r:v1', '-', '--title', 'x', '-o', '-']);
    expect(protectedArgv.filter((a) => a === '-')).toEqual([]);
    expect(protectedArgv).toContain('--title');
    const [marker] = protectedArgv.filter((a) => a.includes('ferry-dash'));
    const args = restoreDashes({ files: [marker, 'a.txt'], output: marker, title: 'x' });
    expect(args).toEqual({ files: ['-', 'a.txt'], output: '-', title: 'x' });
  });

  it('gives each run its own arrays (yargs shares an array default between parses)', () => {
    const sharedDefault: string[] = [];
    const args = restoreDashes({ files: sharedDefault });
    args.files.push('a.txt');
    expect(sharedDefault).toEqual([]);
  });

  it('leaves everything after -- alone', () => {
    expect(protectDashes(['a', '--', '-'])).toEqual(['a', '--', '-']);
  });
});
