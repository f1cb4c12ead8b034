// `--help` at 80 columns reads like ORAS's: usage, description, examples (whole commands), then
// the command's own flags before the shared Remote and Output groups; no `--version` on
// subcommands, no `[required] [default: []]` on arguments the usage line already explains.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapCommand } from './help-layout.js';
import { runCaptured } from './run-captured.js';

let columns: string | undefined;
beforeAll(() => {
  columns = process.env.COLUMNS;
  process.env.COLUMNS = '80';
});
afterAll(() => {
  if (columns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = columns;
});

async function help(...command: string[]): Promise<string[]> {
  const result = await runCaptured(...command, '--help');
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout.trimEnd().split('\n');
}

/** The heading lines, in order. */
const headings = (lines: string[]) => lines.filter((line) => /^[A-Z][\w ]*:$/.test(line));

describe('help at 80 columns', () => {
  for (const command of [
    ['push'],
    ['pull'],
    ['cp'],
    ['manifest', 'fetch'],
    ['blob', 'fetch'],
    ['bottle', 'pull'],
    ['login'],
  ]) {
    it(`ferry ${command.join(' ')} --help: fits, usage first, own flags before shared ones`, async () => {
      const lines = await help(...command);
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
      expect(lines[0]).toMatch(new RegExp(`^ferry ${command.join(' ')}`.replace('cp', 'copy')));
      expect(lines[1]).toBe('');
      expect(lines[2]).toMatch(/^[A-Z]/); // the description
      const order = headings(lines);
      expect(order.indexOf('Options:')).toBeGreaterThanOrEqual(0);
      if (order.includes('Examples:')) expect(order[0]).toBe('Examples:');
      if (order.includes('Remote options:')) {
        expect(order.indexOf('Options:')).toBeLessThan(order.indexOf('Remote options:'));
      }
      expect(lines.join('\n')).not.toMatch(/Show version number|\[required\]|\[default: \[\]\]/);
    });
  }

  it('examples are whole commands, continued with \\ and never broken inside a word', async () => {
    const lines = await help('push');
    const start = lines.indexOf('Examples:');
    const end = lines.indexOf('', start);
    expect(lines.slice(start, end)).toEqual([
      'Examples:',
      '  Push a file with a media type under two tags:',
      '    ferry push localhost:5000/models/tiny:v1,latest \\',
      '      model.safetensors:application/vnd.example.weights',
      '  Push a directory (as reproducible tar+gzip) with an annotation:',
      '    ferry push localhost:5000/data/set:v1 ./dataset/ \\',
      '      -a org.opencontainers.image.description="training data"',
      '  Push from stdin:',
      '    cat report.pdf | ferry push localhost:5000/docs:v1 - --title report.pdf',
    ]);
    // The examples come right after the description, before any flag.
    expect(lines.slice(0, start)).toEqual([
      'ferry push <reference> [files..]',
      '',
      'Push files (and directories) to a registry as an OCI artifact',
      '',
    ]);
  });

  it('arguments keep their descriptions without type tags', async () => {
    const lines = await help('push');
    const at = lines.indexOf('Positionals:');
    expect(lines.slice(at, at + 3)).toEqual([
      'Positionals:',
      '  reference  registry/repository[:tag[,tag…]]',
      '  files      <file>[:<mediaType>], or - for stdin',
    ]);
  });

  it('the top level still shows --version, and a subcommand refuses it as unknown', async () => {
    expect(await help()).toContain(
      '      --version  Show version number                                   [boolean]',
    );
    const result = await runCaptured('resolve', 'localhost:5000/a/b:v1', '--version');
    expect(result.code).toBe(2);
  });

  it('wrapCommand keeps quoted words and flag values together', () => {
    expect(wrapCommand('ferry x --include "a b c" -o out', 24)).toEqual([
      '    ferry x \\',
      '      --include "a b c" \\',
      '      -o out',
    ]);
  });
});
