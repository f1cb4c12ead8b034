/**
 * Aborting an extraction while an entry is still being set up (its parent directories made, its
 * file opened) must reject promptly, leak no file handle and raise no uncaught error: the entry's
 * stream is destroyed under it before anything reads from it.
 */
import type * as FsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tarDirectory } from './tar-create.js';
import { extractTarGzip } from './tar-extract.js';

/** When set, open() calls it and waits for what it returns before opening anything. */
const opening = vi.hoisted(() => ({
  before: undefined as (() => Promise<void>) | undefined,
  handles: [] as FsPromises.FileHandle[],
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      await opening.before?.();
      const handle = await actual.open(...args);
      opening.handles.push(handle);
      return handle;
    },
  };
});

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-tar-abort-'));
  opening.handles = [];
});
afterEach(async () => {
  opening.before = undefined;
  await rm(dir, { recursive: true, force: true });
});

const settleOrTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<{ timedOut: true }>((resolve) => setTimeout(() => resolve({ timedOut: true }), ms)),
  ]);

describe('extractTarGzip: aborted while an entry is being opened', () => {
  it.each([['top/big'], ['top/sub/big']])(
    'rejects with AbortError and leaves no handle open (%s)',
    async (entry) => {
      const source = join(dir, 'src');
      await mkdir(join(source, 'sub'), { recursive: true });
      const name = entry.slice('top/'.length);
      await writeFile(join(source, name), Buffer.alloc(200_000, 0x61));
      const gz = join(dir, 'layer.tar.gz');
      await tarDirectory(source, 'top', gz);
      const bytes = await readFile(gz);

      // Half the archive arrives, then nothing more: the abort is what ends the extraction.
      const stalled = new PassThrough();
      stalled.write(bytes.subarray(0, bytes.length >> 1));
      const controller = new AbortController();
      opening.before = async () => {
        controller.abort();
        // Let the abort reach every stage (the entry's stream is destroyed) before open returns.
        await new Promise((resolve) => setTimeout(resolve, 20));
      };
      const staging = join(dir, 'staging');
      await mkdir(staging);
      const outcome = await settleOrTimeout(
        extractTarGzip(stalled, staging, 'top', { signal: controller.signal }),
        2_000,
      );
      expect(outcome).toMatchObject({ error: { name: 'AbortError' } });
      // Every handle the extraction opened has been closed (a closed handle's fd is -1).
      expect(opening.handles.length).toBeGreaterThan(0);
      expect(opening.handles.map((handle) => handle.fd)).toEqual(opening.handles.map(() => -1));
    },
  );
});
