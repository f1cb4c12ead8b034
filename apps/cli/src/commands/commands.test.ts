// Every command's help lists exactly the flags (and aliases) of the option groups it composes: a
// flag declared outside a group, or a group that adds flags help does not show, fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Options } from 'yargs';
import { runCaptured } from '../run-captured.js';
import { COMMANDS } from './all.js';
import type { Command } from './define.js';

let columns: string | undefined;
beforeAll(() => {
  columns = process.env.COLUMNS;
  process.env.COLUMNS = '100';
});
afterAll(() => {
  if (columns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = columns;
});

interface Listed {
  path: string[];
  command: Command;
}

function walk(commands: readonly Command[], parent: string[] = []): Listed[] {
  return commands.flatMap((command) => {
    const path = [...parent, command.command.split(' ')[0] as string];
    return [{ path, command }, ...walk(command.subcommands, path)];
  });
}

const ALL = walk(COMMANDS);

/** Flag → its one-letter alias ('' for none), as the groups declare them. */
function declared(command: Command): Map<string, string> {
  const flags = new Map<string, string>([['help', 'h']]);
  for (const group of command.groups) {
    if (group.kind !== 'flags') continue;
    for (const [name, options] of Object.entries(group.flags) as [string, Options][]) {
      expect(flags.has(name), `--${name} declared by two groups of ${command.command}`).toBe(false);
      const alias = typeof options.alias === 'string' ? options.alias : '';
      flags.set(name, alias);
    }
  }
  return flags;
}

/** Flag → alias, as the rendered help lists them (`  -o, --output` or `      --format`). */
function listed(help: string): Map<string, string> {
  const flags = new Map<string, string>();
  for (const line of help.split('\n')) {
    const match = /^(?: {2}-(\w), | {6})--([\w-]+)/.exec(line);
    if (match) flags.set(match[2] as string, match[1] ?? '');
  }
  return flags;
}

describe('command help against the option groups', () => {
  it('walks every command, subcommands included', () => {
    expect(ALL.map(({ path }) => path.join(' '))).toEqual(
      expect.arrayContaining(['push', 'manifest index create', 'bottle mirror', 'model inspect']),
    );
    expect(ALL).toHaveLength(38);
  });

  for (const { path, command } of ALL) {
    it(`ferry ${path.join(' ')} --help lists exactly the flags of its groups`, async () => {
      const result = await runCaptured(...path, '--help');
      expect(result.code, result.stderr).toBe(0);
      const expected = declared(command);
      expect(Object.fromEntries(listed(result.stdout))).toEqual(Object.fromEntries(expected));
    });
  }

  it('every command that runs composes a --format group (what the context reads)', () => {
    for (const { path, command } of ALL) {
      if (command.subcommands.length) continue;
      expect(declared(command).has('format'), path.join(' ')).toBe(true);
    }
  });
});
