import { readFileSync } from 'node:fs';
import { FerryError } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import { reportError } from './exit.js';
import { skipHelpCache } from './main.js';
import { runCaptured } from './run-captured.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

const ferry = runCaptured;

describe('ferry CLI basics', () => {
  it('--version prints the package version and exits 0', async () => {
    expect(await ferry('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help lists the commands and exit codes on stdout', async () => {
    const { code, stdout, stderr } = await ferry('--help');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('ferry <command> [options]');
    expect(stdout).toContain('ferry version');
    expect(stdout).toContain('ferry completion');
    expect(stdout).toContain('Exit codes: 0 success, 1 failure, 2 usage error.');
  });

  it('version --format json reports version, Node.js and platform', async () => {
    const { code, stdout } = await ferry('version', '--format', 'json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      version,
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
    });
  });

  it('version in text mode', async () => {
    const { stdout } = await ferry('version');
    expect(stdout).toBe(
      `Version:  ${version}\nNode.js:  ${process.version}\nPlatform: ${process.platform}/${process.arch}\n`,
    );
  });

  it('no command is a usage error: exit 2, usage and message on stderr, nothing on stdout', async () => {
    const { code, stdout, stderr } = await ferry();
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Error: Name a command to run.');
    expect(stderr).toContain("Run 'ferry --help' for usage.");
  });

  it('names an unknown command plainly', async () => {
    const result = await ferry('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: unknown command "frobnicate"\nRun \'ferry --help\' for usage.\n',
    );
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    const unknown = await ferry('pusj');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Error: unknown command "pusj". Did you mean push\?/);
    const badOption = await ferry('version', '--format', 'yaml');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('Invalid values');
  });

  it('speaks English whatever the locale: its messages and help layout are read as English', async () => {
    // yargs picks its messages from LC_ALL/LC_MESSAGES/LANG; in German the unknown-command hint
    // lost its first half and --help lost its Positionals and Options sections.
    const saved = process.env.LC_ALL;
    process.env.LC_ALL = 'de_DE.UTF-8';
    try {
      const unknown = await ferry('pusj');
      expect(unknown.stderr).toMatch(/^Error: unknown command "pusj". Did you mean push\?/);
      const help = await ferry('repo', 'tags', '--help');
      expect(help.stdout).toContain('Positionals:');
      expect(help.stdout).toContain('--exclude-digest-tags');
      const missing = await ferry('push');
      expect(missing.stderr).toContain('Not enough non-option arguments');
    } finally {
      if (saved === undefined) delete process.env.LC_ALL;
      else process.env.LC_ALL = saved;
    }
  });

  it('completion prints a shell script', async () => {
    const { code, stdout } = await ferry('completion');
    expect(code).toBe(0);
    expect(stdout).toContain('###-begin-ferry-completions-###');
  });
});

describe('reportError', () => {
  it('maps a FerryError to exit 1 with one Error line and a hint', () => {
    const error = new FerryError('ERR_DIGEST_MISMATCH', 'a.txt: digest mismatch');
    expect(reportError(error)).toEqual({
      exitCode: 1,
      lines: ['Error: a.txt: digest mismatch', expect.stringMatching(/^Hint: The content changed/)],
    });
  });

  it('a malformed reference is a usage error: exit 2, with the syntax as a hint', () => {
    const error = new FerryError('ERR_INVALID_REFERENCE', 'invalid reference "A/B": uppercase');
    expect(reportError(error)).toEqual({
      exitCode: 2,
      lines: [
        'Error: invalid reference "A/B": uppercase',
        expect.stringMatching(/^Hint: References look like registry\/repository/),
      ],
    });
  });

  it('keeps only the first line of an unexpected error', () => {
    expect(reportError(new Error('boom\n  at stack'))).toEqual({
      exitCode: 1,
      lines: ['Error: boom'],
    });
    expect(reportError('plain')).toEqual({ exitCode: 1, lines: ['Error: plain'] });
  });
});

// Hints for registry and network errors: exit.test.ts.

describe('parseSize', () => {
  it('reads byte counts with binary and decimal units', async () => {
    const { parseSize } = await import('./options/remote.js');
    expect(parseSize('8MiB')).toBe(8 * 1024 * 1024);
    expect(parseSize('50MB')).toBe(50_000_000);
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize('lots')).toBeNaN();
    expect(parseSize(undefined)).toBeUndefined();
  });
});

describe('skipHelpCache', () => {
  it('stops yargs rendering help after starting a handler, and help still works', async () => {
    const { default: yargs } = await import('yargs');
    let handled = 0;
    const parser = yargs(['go'])
      .command('go', 'a command', {}, () => void handled++)
      .help()
      .exitProcess(false);
    skipHelpCache(parser);
    await parser.parseAsync();
    expect(handled).toBe(1);
    // Fails if yargs renames its internals: then the render happens again, and this test says so.
    const internal = (parser as unknown as { getInternalMethods(): unknown }).getInternalMethods();
    const usage = (
      internal as { getUsageInstance(): { hasCachedHelpMessage(): boolean } }
    ).getUsageInstance();
    expect(usage.hasCachedHelpMessage()).toBe(false);
    // Help still renders on a parser that skipHelpCache was applied to.
    const helpParser = yargs(['--help'])
      .command('go', 'a command', {}, () => {})
      .help()
      .exitProcess(false);
    skipHelpCache(helpParser);
    const help = await new Promise<string>((resolve) =>
      helpParser.parse(['--help'], {}, (_e, _a, text) => resolve(text)),
    );
    expect(help).toContain('a command');
  });

  it('without it, yargs caches the help text (the cost skipped)', async () => {
    const { default: yargs } = await import('yargs');
    const parser = yargs(['go'])
      .command('go', 'a command', {}, () => {})
      .help()
      .exitProcess(false);
    await parser.parseAsync();
    const internal = (parser as unknown as { getInternalMethods(): unknown }).getInternalMethods();
    const usage = (
      internal as { getUsageInstance(): { hasCachedHelpMessage(): boolean } }
    ).getUsageInstance();
    expect(usage.hasCachedHelpMessage()).toBe(true);
  });
});
