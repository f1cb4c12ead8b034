// Where the file system has reflinks, a large blob is cloned to the file and the cache keeps its
// entry: no second write to avoid. ext4 and tmpfs (where tests run) have none, so the clone is
// played by a plain copy through a mocked `reflink`.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeDigest, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { BlobCache } from './blob-cache.js';
import type * as CacheFiles from './cache-files.js';

const cloned: string[] = [];
vi.mock('./cache-files.js', async (importOriginal) => {
  const original = await importOriginal<typeof CacheFiles>();
  return {
    ...original,
    reflink: async (from: string, to: string) => {
      await copyFile(from, to);
      cloned.push(to);
      return true;
    },
  };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cache-reflink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('clones a large blob to the file and keeps the cache entry when reflinks work', async () => {
  const bytes = randomBytes(500_000);
  const descriptor: Descriptor = {
    mediaType: 'application/octet-stream',
    digest: computeDigest(bytes),
    size: bytes.byteLength,
  };
  let requests = 0;
  const source = {
    resumable: true,
    fetch: async () => {
      requests++;
      return Readable.from([bytes]);
    },
  };
  const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: 400_000 });
  const out = join(dir, 'out.bin');
  await cache.copyTo(source, descriptor, out);
  expect(cloned).toEqual([out]);
  expect((await readFile(out)).equals(bytes)).toBe(true);
  const entry = join(dir, 'cache', 'blobs', 'sha256', descriptor.digest.slice(7));
  expect(await readdir(join(dir, 'cache', 'blobs', 'sha256'))).toEqual([
    descriptor.digest.slice(7),
  ]);
  expect((await stat(entry)).ino).not.toBe((await stat(out)).ino);
  await cache.copyTo(source, descriptor, join(dir, 'again.bin'));
  expect(requests).toBe(1);
});
