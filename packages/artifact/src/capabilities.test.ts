// The capability guards: they find a capability where it is (a class, a plain object, the proxy
// cachedTarget returns) and nowhere else, and the small interfaces do not declare it optionally.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry } from '@ferry/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from './blob-cache.js';
import { cachedTarget } from './cache-adapters.js';
import { canCopyTo, canDownloadToFile, canFetchBytes, canFetchReference } from './capabilities.js';
import { MemoryTarget } from './memory-target.js';
import { RegistryTarget } from './registry-target.js';
import type { Fetcher, Target } from './target.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-capabilities-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('capability guards', () => {
  it('a Fetcher declares fetch only: copies and downloads to files are capabilities', () => {
    const fetcher: Fetcher = { fetch: () => Promise.resolve(Readable.from([])) };
    // @ts-expect-error copyTo is FileCopier's, asked with canCopyTo
    expect(fetcher.copyTo).toBeUndefined();
    // @ts-expect-error downloadToFile is FileDownloader's, asked with canDownloadToFile
    expect(fetcher.downloadToFile).toBeUndefined();
    expect(canCopyTo(fetcher)).toBe(false);
    expect(canDownloadToFile(fetcher)).toBe(false);
    expect(canFetchReference(fetcher)).toBe(false);
    // @ts-expect-error fetchBytes is BytesFetcher's, asked with canFetchBytes
    expect(fetcher.fetchBytes).toBeUndefined();
    expect(canFetchBytes(fetcher)).toBe(false);
  });

  it('a Target declares no optional capability: mount, delete, pushTagged… are asked with a guard', () => {
    const target: Target = new MemoryTarget();
    // @ts-expect-error mount is Mounter's, asked with canMount
    expect(target.mount).toBeUndefined();
    // @ts-expect-error pushTagged is TaggedPusher's, asked with canPushTagged
    expect(target.pushTagged).toBeUndefined();
    // @ts-expect-error pushWhileHashing is StreamingPusher's, asked with canPushWhileHashing
    expect(target.pushWhileHashing).toBeUndefined();
    // @ts-expect-error delete is Deleter's, asked with canDelete (MemoryTarget has it)
    expect(typeof target.delete).toBe('function');
    // @ts-expect-error statBlob is BlobStater's, asked with canStatBlob (MemoryTarget has it)
    expect(typeof target.statBlob).toBe('function');
  });

  it('a member of that name that is not a function is not the capability', () => {
    expect(canCopyTo({ copyTo: 'yes' })).toBe(false);
    expect(canFetchReference({ fetchReference: true })).toBe(false);
  });

  it('a registry downloads to files and fetches by tag; a memory target does neither', async () => {
    const registry = new Registry('127.0.0.1:9', { plainHttp: true });
    try {
      const remote = new RegistryTarget(registry, 'a/b');
      expect(canDownloadToFile(remote)).toBe(true);
      expect(canFetchReference(remote)).toBe(true);
      expect(canFetchBytes(remote)).toBe(true);
      expect(canCopyTo(remote)).toBe(false);
    } finally {
      await registry.close();
    }
    const local = new MemoryTarget();
    expect(canDownloadToFile(local)).toBe(false);
    expect(canFetchReference(local)).toBe(false);
    expect(canFetchBytes(local)).toBe(false);
  });

  it('cachedTarget gives a remote target a copy out of the cache, and leaves a local one as it is', async () => {
    // A memory target that says it is remote (resumable), as a registry does.
    const remote = new (class extends MemoryTarget {
      readonly resumable = true;
    })('origin');
    const descriptor = await remote.add('cached bytes');
    const cache = new BlobCache(join(dir, 'cache'));
    const cached = cachedTarget(remote, cache);
    if (!canCopyTo(cached)) throw new Error('expected cachedTarget to add copyTo');
    await cached.copyTo(descriptor, join(dir, 'out.txt'));
    expect(await readFile(join(dir, 'out.txt'), 'utf8')).toBe('cached bytes');

    const local = new MemoryTarget();
    expect(cachedTarget(local, cache)).toBe(local);
    expect(canCopyTo(cachedTarget(local, cache))).toBe(false);
  });
});
