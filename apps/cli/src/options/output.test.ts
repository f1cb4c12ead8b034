// -o/--output: one path, not empty, checked as the command line is read (exit 2, naming it).
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../run-captured.js';
import { parseGroups } from '../testing/parse-groups.js';
import {
  keepOldFilesOption,
  outputDirectoryOption,
  outputFileOption,
  requiredOutputOption,
} from './output.js';

const directory = outputDirectoryOption('Output directory');
const file = outputFileOption('Write to this file instead of stdout');

describe('--output', () => {
  it('a directory defaults to the current one; -o sets it; - is stdout', async () => {
    expect(await parseGroups([directory], [])).toMatchObject({ ok: true, args: { output: '.' } });
    expect(await parseGroups([directory], ['-o', 'out'])).toMatchObject({
      ok: true,
      args: { output: 'out', o: 'out' },
    });
    expect(await parseGroups([file], ['--output', '-'])).toMatchObject({
      ok: true,
      args: { output: '-' },
    });
    const absent = await parseGroups([file], []);
    expect(absent.ok && absent.args.output).toBeUndefined();
  });

  it('refuses an empty path and a path given twice', async () => {
    expect(await parseGroups([directory], ['-o', ''])).toEqual({
      ok: false,
      message: '--output needs a path: give a directory or file, or - for stdout',
    });
    expect(await parseGroups([file], ['-o', 'a', '--output', 'b'])).toEqual({
      ok: false,
      message: '--output was given 2 times: give it once',
    });
  });

  it('a required output must be given', async () => {
    const parsed = await parseGroups([requiredOutputOption('A directory')], []);
    expect(parsed).toEqual({ ok: false, message: 'Missing required argument: output' });
  });

  it.each([
    ['pull', ['pull', 'localhost:1/a:v1', '-o', '']],
    ['blob fetch', ['blob', 'fetch', `localhost:1/a@sha256:${'a'.repeat(64)}`, '-o', '']],
    ['model pull', ['model', 'pull', 'localhost:1/a:v1', '--output', '']],
  ])('%s: an empty -o exits 2 before any registry is contacted', async (_command, argv) => {
    expect(await runCaptured(...argv)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "Error: --output needs a path: give a directory or file, or - for stdout\nRun 'ferry --help' for usage.\n",
    });
  });

  it('pull: two -o exit 2', async () => {
    const result = await runCaptured('pull', 'localhost:1/a:v1', '-o', 'a', '-o', 'b');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: --output was given 2 times: give it once\nRun 'ferry --help' for usage.\n",
    );
  });

  it('discover: --output is a format, and refuses another (exit 2)', async () => {
    const result = await runCaptured('discover', 'localhost:1/a:v1', '--output', 'yaml');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Invalid values:\n  Argument: output, Given: "yaml", Choices: "tree", "table", "json"\n' +
        "Run 'ferry --help' for usage.\n",
    );
  });

  it('manifest index update: --output (a file) and --tag (push) conflict (exit 2)', async () => {
    const result = await runCaptured(
      'manifest',
      'index',
      'update',
      'localhost:1/a:v1',
      '--tag',
      'v2',
      '--output',
      'index.json',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: Arguments tag and output are mutually exclusive\nRun 'ferry --help' for usage.\n",
    );
  });
});

describe('--keep-old-files', () => {
  it('-k sets it', async () => {
    expect(await parseGroups([keepOldFilesOption], ['-k'])).toMatchObject({
      ok: true,
      args: { 'keep-old-files': true },
    });
  });
});
