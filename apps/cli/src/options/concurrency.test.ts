import { LARGE_TRANSFER_MIN_SIZE } from '@ferry/artifact';
import { FerryError } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import { ExitCode, reportError, UsageError } from '../exit.js';
import { runCaptured } from '../run-captured.js';
import {
  DEFAULT_CONCURRENCY,
  SMALL_BLOB_CONCURRENCY,
  SMALL_PULL_CONCURRENCY,
  transferLimits,
} from './concurrency.js';

const ferry = runCaptured;

/** The error transferLimits throws for `given`; fails the test when it throws none. */
function refusal(given: number): unknown {
  try {
    transferLimits(given);
  } catch (error) {
    return error;
  }
  throw new Error(`transferLimits(${given}) did not throw`);
}

describe('transfer concurrency defaults', () => {
  it('allow 5 blobs at once, and up to 16 under 1 MiB', () => {
    expect(DEFAULT_CONCURRENCY).toBe(5);
    expect(SMALL_BLOB_CONCURRENCY).toBe(16);
    expect(SMALL_BLOB_CONCURRENCY).toBeGreaterThan(DEFAULT_CONCURRENCY);
    // Pull writes and fsyncs while others wait for the registry: twice as many.
    expect(SMALL_PULL_CONCURRENCY).toBe(32);
    expect(LARGE_TRANSFER_MIN_SIZE).toBe(1024 * 1024);
  });
});

describe('transferLimits', () => {
  it('without --concurrency: 5 large blobs at once, 16 in all', () => {
    expect(transferLimits(undefined)).toEqual({ concurrency: 5, total: 16 });
    expect(transferLimits(undefined)).toEqual({
      concurrency: DEFAULT_CONCURRENCY,
      total: SMALL_BLOB_CONCURRENCY,
    });
  });

  it.each([1, 2, 5, 8, 16, 64])('--concurrency %s applies to every blob', (given) => {
    expect(transferLimits(given)).toEqual({ concurrency: given, total: given });
  });

  it('keeps an explicit value below the small-blob default as the total too', () => {
    const limits = transferLimits(1);
    expect(limits).toEqual({ concurrency: 1, total: 1 });
    expect(limits.total).toBeLessThan(SMALL_BLOB_CONCURRENCY);
  });

  it('keeps an explicit value above the small-blob default', () => {
    expect(transferLimits(32)).toEqual({ concurrency: 32, total: 32 });
  });

  it.each([
    [0, '0'],
    [-1, '-1'],
    [2.5, '2.5'],
    [0.5, '0.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('refuses %s as a usage error that names the flag and the value', (given, shown) => {
    const error = refusal(given);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as UsageError).code).toBe('ERR_USAGE');
    const message = (error as Error).message;
    expect(message).toContain('--concurrency');
    expect(message).toContain(shown);
    expect(message).toBe(`--concurrency ${shown}: give a whole number of at least 1, like 5`);
    // The CLI reports it as a usage error: exit 2.
    const reported = reportError(error);
    expect(reported.exitCode).toBe(ExitCode.Usage);
    expect(reported.exitCode).toBe(2);
    expect(reported.lines[0]).toBe(`Error: ${message}`);
  });
});

describe('--concurrency on the command line', () => {
  // transferLimits runs before any registry is opened, so these never touch the network.
  it.each([
    ['pull', ['pull', 'localhost:5000/test/none:v1', '--concurrency', '0'], '0'],
    ['pull', ['pull', 'localhost:5000/test/none:v1', '--concurrency', '2.5'], '2.5'],
    ['pull', ['pull', 'localhost:5000/test/none:v1', '--concurrency', 'many'], 'NaN'],
    ['push', ['push', 'localhost:5000/test/none:v1', 'x.bin', '--concurrency', '-1'], '-1'],
    [
      'attach',
      ['attach', 'localhost:5000/test/none:v1', '--artifact-type', 'a/b', '--concurrency', '0'],
      '0',
    ],
    // cp and the bottle commands keep a yargs default, and check the value as yargs reads it.
    ['cp', ['cp', 'localhost:5000/a:v1', 'localhost:5000/b:v1', '--concurrency', 'abc'], 'NaN'],
    ['cp', ['cp', 'localhost:5000/a:v1', 'localhost:5000/b:v1', '--concurrency', '0'], '0'],
    ['bottle pull', ['bottle', 'pull', 'wget', '--concurrency', '1.5'], '1.5'],
    // Tags at once, and backup/restore: the same check and message, before any file is read.
    ['tag', ['tag', 'localhost:1/a:v1', 'v2', '--concurrency', '0'], '0'],
    [
      'manifest push',
      ['manifest', 'push', 'localhost:1/a:v1', 'none.json', '--concurrency', '0'],
      '0',
    ],
    ['backup', ['backup', 'localhost:1/a:v1', '-o', 'b.tar', '--concurrency', '0'], '0'],
    ['restore', ['restore', 'localhost:1/a', '--input', 'b.tar', '--concurrency', '-2'], '-2'],
  ])('%s refuses a bad value with exit 2 (%j)', async (_command, argv, shown) => {
    const { code, stdout, stderr } = await ferry(...argv);
    expect(code).toBe(ExitCode.Usage);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `Error: --concurrency ${shown}: give a whole number of at least 1, like 5`,
    );
  });

  it('refuses --concurrency given twice (exit 2)', async () => {
    const result = await ferry(
      'pull',
      'localhost:1/a:v1',
      '--concurrency',
      '2',
      '--concurrency',
      '3',
    );
    expect(result.code).toBe(ExitCode.Usage);
    expect(result.stderr).toContain('Error: --concurrency was given 2 times: give it once');
  });

  it.each(['push', 'pull', 'attach'])(
    '%s --help shows the default and the small-blob allowance',
    async (command) => {
      const { code, stdout } = await ferry(command, '--help');
      expect(code).toBe(0);
      // yargs wraps the description: compare with the line breaks folded.
      const text = stdout.replace(/\s+/g, ' ');
      expect(text).toContain('--concurrency Blobs transferred at once');
      expect(text).toContain(
        `[default: ${DEFAULT_CONCURRENCY}; blobs under 1 MiB: up to ${SMALL_BLOB_CONCURRENCY} on push, ${SMALL_PULL_CONCURRENCY} on pull]`,
      );
    },
  );
});

describe('--parallel (ranges of one large blob at once)', () => {
  it.each([
    ['pull', ['pull', 'localhost:5000/a:v1', '--parallel', '0'], '0'],
    ['cp', ['cp', 'localhost:5000/a:v1', 'localhost:5000/b:v1', '--parallel', '2.5'], '2.5'],
    [
      'blob fetch',
      ['blob', 'fetch', 'localhost:5000/a@sha256:' + 'a'.repeat(64), '--parallel', '17'],
      '17',
    ],
    ['bottle pull', ['bottle', 'pull', 'wget', '--parallel', 'x'], 'NaN'],
  ])('%s refuses a bad value with exit 2 (%j)', async (_command, argv, shown) => {
    const { code, stdout, stderr } = await ferry(...argv);
    expect(code).toBe(ExitCode.Usage);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `Error: --parallel ${shown}: give a whole number of connections from 1 to 16, like 4`,
    );
  });

  it.each(['pull', 'cp', 'blob fetch', 'bottle pull'])(
    '%s --help offers --parallel',
    async (command) => {
      const { code, stdout } = await ferry(...command.split(' '), '--help');
      expect(code).toBe(0);
      expect(stdout.replace(/\s+/g, ' ')).toContain(
        '--parallel Connections per blob of 64 MiB or more',
      );
    },
  );
});
