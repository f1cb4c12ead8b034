/**
 * Aborting a directory's tar+gzip while a file's entry is being written (`push` of a directory,
 * Ctrl-C): the pack destroys that entry with the abort's error. With no 'error' listener on the
 * entry that was an uncaught exception, thrown from inside the destroy, and the entry never
 * closed, so tarDirectory waited forever for its drain.
 */
import type * as Fs from 'node:fs';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tarDirectory } from './tar-create.js';

/** When set, reading the file at `path` gives one 1 MiB chunk, then calls `after` and goes on. */
const reading = vi.hoisted(() => ({
  path: undefined as string | undefined,
  after: undefined as (() => void) | undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof Fs>();
  return {
    ...actual,
    createReadStream: (path: string, options?: Parameters<typeof actual.createReadStream>[1]) => {
      if (path !== reading.path) return actual.createReadStream(path, options);
      const after = reading.after;
      return Readable.from(
        (function* () {
          yield Buffer.alloc(1024 * 1024, 1);
          after?.();
          for (let i = 1; i < 8; i++) yield Buffer.alloc(1024 * 1024, 1);
        })(),
      );
    },
  };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-tar-create-abort-'));
});
afterEach(async () => {
  reading.path = undefined;
  reading.after = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('tarDirectory aborted while a file is being written', () => {
  it('rejects with the abort, raises no uncaught error and leaves no output', async () => {
    await mkdir(join(dir, 'src'));
    const big = join(dir, 'src', 'big.bin');
    await writeFile(big, Buffer.alloc(8 * 1024 * 1024, 1));
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const controller = new AbortController();
      reading.path = big;
      reading.after = () => controller.abort(new Error('stopped by the test'));
      const destination = join(dir, 'out.tar.gz');
      await expect(
        tarDirectory(join(dir, 'src'), 'src', destination, { signal: controller.signal }),
      ).rejects.toThrow(/abort|stopped by the test/);
      expect(uncaught).toEqual([]);
      expect(existsSync(destination)).toBe(false);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
