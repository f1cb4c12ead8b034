import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileHasher } from './digest-cache.js';
import { digestFileOnWorker, offThreadHasher } from './digest-worker.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-digest-worker-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hashing on a worker thread', () => {
  it('gives the digest and size of the file, across several 4 MiB reads', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 17);
    const path = join(dir, 'big.bin');
    await writeFile(path, bytes);
    expect(await digestFileOnWorker(path)).toEqual({
      digest: computeDigest(bytes),
      size: bytes.byteLength,
    });
  });

  it('names the file the user gave when it cannot be read', async () => {
    const path = join(dir, 'missing.bin');
    await expect(digestFileOnWorker(path)).rejects.toMatchObject({
      code: 'ERR_FILE_NOT_FOUND',
      message: expect.stringContaining('missing.bin') as string,
    });
  });

  it('stops when aborted', async () => {
    const path = join(dir, 'a.bin');
    await writeFile(path, randomBytes(1024));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(digestFileOnWorker(path, controller.signal)).rejects.toThrow('stop');
  });

  it('sends only files from the threshold up to the worker', async () => {
    const calls: string[] = [];
    const inner: FileHasher = async (path) => {
      calls.push(path);
      return { digest: computeDigest(Buffer.alloc(0)), size: 0 };
    };
    const hasher = offThreadHasher(inner, 1000);
    const small = join(dir, 'small.bin');
    const large = join(dir, 'large.bin');
    const largeBytes = randomBytes(1000);
    await writeFile(small, 'x');
    await writeFile(large, largeBytes);
    await hasher(small, undefined, 1);
    expect(await hasher(large, undefined, 1000)).toEqual({
      digest: computeDigest(largeBytes),
      size: 1000,
    });
    expect(calls).toEqual([small]);
  });
});
