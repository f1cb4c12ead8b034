import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ferry, repositoryRoot, runCommand } from './support/cli.js';

const { version } = JSON.parse(
  readFileSync(join(repositoryRoot, 'apps/cli/package.json'), 'utf8'),
) as {
  version: string;
};

describe('the built ferry binary', () => {
  it('npx ferry --version works from the repository root', async () => {
    const result = await runCommand('npx', ['--no-install', 'ferry', '--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('npx ferry --help lists commands and exit codes', async () => {
    const result = await runCommand('npx', ['--no-install', 'ferry', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ferry <command> [options]');
    expect(result.stdout).toContain('Exit codes: 0 success, 1 failure, 2 usage error.');
  });

  it('exits 2 with one Error line on a usage error', async () => {
    const result = await ferry(['no-such-command']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: unknown command "no-such-command"\nRun \'ferry --help\' for usage.\n',
    );
  });
});
