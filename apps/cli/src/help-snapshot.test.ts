// Every command's whole `--help` at 80 columns, pinned: flag names, aliases, defaults, help text
// and the order of groups and flags. A change here is a user-visible change: review the diff and
// add a changeset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './run-captured.js';

/** Every command and command group, as typed on the command line. */
const ALL_COMMANDS: readonly (readonly string[])[] = [
  [],
  ['push'],
  ['pull'],
  ['attach'],
  ['discover'],
  ['copy'],
  ['tag'],
  ['resolve'],
  ['login'],
  ['logout'],
  ['manifest'],
  ['manifest', 'fetch'],
  ['manifest', 'fetch-config'],
  ['manifest', 'push'],
  ['manifest', 'delete'],
  ['manifest', 'index'],
  ['manifest', 'index', 'create'],
  ['manifest', 'index', 'update'],
  ['blob'],
  ['blob', 'fetch'],
  ['blob', 'push'],
  ['blob', 'delete'],
  ['repo'],
  ['repo', 'ls'],
  ['repo', 'tags'],
  ['cache'],
  ['cache', 'prune'],
  ['backup'],
  ['restore'],
  ['bottle'],
  ['bottle', 'pull'],
  ['bottle', 'info'],
  ['bottle', 'push'],
  ['bottle', 'mirror'],
  ['model'],
  ['model', 'push'],
  ['model', 'pull'],
  ['model', 'inspect'],
  ['version'],
];

let columns: string | undefined;
beforeAll(() => {
  columns = process.env.COLUMNS;
  process.env.COLUMNS = '80';
});
afterAll(() => {
  if (columns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = columns;
});

describe('help text of every command', () => {
  it('matches the pinned text at 80 columns', async () => {
    const pages: string[] = [];
    for (const command of ALL_COMMANDS) {
      const result = await runCaptured(...command, '--help');
      expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(0);
      pages.push(`$ ferry ${[...command, '--help'].join(' ')}\n${result.stdout}`);
    }
    await expect(pages.join('\n')).toMatchFileSnapshot('./__snapshots__/help-80.txt');
  });
});
