import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeDigest, Digester, DigestMismatchError, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache, defaultCacheDir } from './blob-cache.js';
import { cachedTarget } from './cache-adapters.js';
import type { FetchOptions, Target } from './target.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const blob = randomBytes(300_000);
const descriptor: Descriptor = {
  mediaType: 'application/octet-stream',
  digest: computeDigest(blob),
  size: blob.byteLength,
};

/** A remote that serves `bytes` (verifying like a registry would) and records what it sent. */
function remote(bytes: Buffer = blob) {
  const served: { offset: number; bytes: number }[] = [];
  const fetch = async (_d: Descriptor, options: FetchOptions = {}) => {
    const offset = options.resume?.offset ?? 0;
    const digester = options.resume?.digester ?? new Digester();
    const rest = bytes.subarray(offset);
    served.push({ offset, bytes: rest.byteLength });
    digester.update(rest);
    options.onProgress?.(rest.byteLength);
    const actual = digester.digest();
    return Readable.from(
      (async function* () {
        yield rest;
        if (actual !== descriptor.digest) throw new DigestMismatchError(descriptor.digest, actual);
      })(),
    );
  };
  return { fetch, served, resumable: true };
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const partialPath = () => join(dir, 'blobs', 'sha256', `${descriptor.digest.slice(7)}.partial`);

describe('BlobCache', () => {
  it('downloads once, then serves from disk with no request', async () => {
    const cache = new BlobCache(dir);
    const source = remote();
    expect((await read(await cache.fetch(source, descriptor))).equals(blob)).toBe(true);
    expect((await read(await cache.fetch(source, descriptor))).equals(blob)).toBe(true);
    expect(source.served).toEqual([{ offset: 0, bytes: blob.byteLength }]);
    expect(cache.stats).toEqual({
      hits: blob.byteLength,
      resumedBytes: 0,
      fetchedBytes: blob.byteLength,
    });
  });

  it('resumes from a partial file left by a killed run, fetching only the rest', async () => {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(partialPath(), blob.subarray(0, 120_000));
    const cache = new BlobCache(dir);
    const source = remote();
    expect((await read(await cache.fetch(source, descriptor))).equals(blob)).toBe(true);
    expect(source.served).toEqual([{ offset: 120_000, bytes: 180_000 }]);
    expect(cache.stats.resumedBytes).toBe(120_000);
    expect(await readdir(join(dir, 'blobs', 'sha256'))).toEqual([descriptor.digest.slice(7)]);
  });

  it('discards a tampered partial file (the digest check catches it) and fetches the whole blob', async () => {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const tampered = Buffer.from(blob.subarray(0, 120_000));
    tampered[500] = (tampered[500] ?? 0) ^ 0xff;
    await writeFile(partialPath(), tampered);
    const cache = new BlobCache(dir);
    const source = remote();
    expect((await read(await cache.fetch(source, descriptor))).equals(blob)).toBe(true);
    expect(source.served).toEqual([
      { offset: 120_000, bytes: 180_000 },
      { offset: 0, bytes: blob.byteLength },
    ]);
  });

  it('keeps nothing when the remote serves the wrong bytes', async () => {
    const cache = new BlobCache(dir);
    const wrong = Buffer.from(blob);
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    await expect(cache.fetch(remote(wrong), descriptor)).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    expect(await readdir(join(dir, 'blobs', 'sha256'))).toEqual([]);
  });

  it('detects a cached file changed on disk', async () => {
    const cache = new BlobCache(dir);
    await read(await cache.fetch(remote(), descriptor));
    const path = join(dir, 'blobs', 'sha256', descriptor.digest.slice(7));
    const bytes = await readFile(path);
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    await writeFile(path, bytes);
    await expect(read(await cache.fetch(remote(), descriptor))).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
  });

  it('prunes everything and says how much', async () => {
    const cache = new BlobCache(dir);
    await read(await cache.fetch(remote(), descriptor));
    expect(await cache.prune()).toEqual({ files: 1, bytes: blob.byteLength });
    expect(await cache.prune()).toEqual({ files: 0, bytes: 0 });
  });

  it('lives in FERRY_CACHE, else XDG_CACHE_HOME/ferry, else ~/.cache/ferry', () => {
    expect(defaultCacheDir({ FERRY_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/ferry');
    expect(defaultCacheDir({ HOME: '/h' })).toBe('/h/.cache/ferry');
  });

  it('is bypassed for local targets and for manifests', async () => {
    const cache = new BlobCache(dir);
    const local = { ...remote(), resumable: false } as unknown as Target;
    expect(cachedTarget(local, cache)).toBe(local);
    const source = remote();
    const target = cachedTarget(source as unknown as Target, cache);
    const manifest = { ...descriptor, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
    await read(await target.fetch(manifest));
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('BlobCache.copyTo', () => {
  it('downloads once and copies the verified file; a cached file changed on disk is fetched again', async () => {
    const cache = new BlobCache(dir);
    const source = remote();
    const first = join(dir, 'first.bin');
    await cache.copyTo(source, descriptor, first);
    expect((await readFile(first)).equals(blob)).toBe(true);
    const path = join(dir, 'blobs', 'sha256', descriptor.digest.slice(7));
    const bytes = await readFile(path);
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    await writeFile(path, bytes);
    const second = join(dir, 'second.bin');
    await cache.copyTo(source, descriptor, second);
    expect((await readFile(second)).equals(blob)).toBe(true);
    expect(source.served).toHaveLength(2);
    await expect(cache.copyTo(source, descriptor, second)).rejects.toMatchObject({
      code: 'EEXIST',
    });
  });
});

describe('BlobCache.copyTo, small blobs', () => {
  const small = randomBytes(4096);
  const smallDescriptor: Descriptor = {
    mediaType: 'application/octet-stream',
    digest: computeDigest(small),
    size: small.byteLength,
  };
  /** Serves `bytes` in two chunks, failing at the end (as a registry stream does) when they differ. */
  const smallRemote = (bytes: Buffer) => {
    let fetched = 0;
    return {
      resumable: true,
      get fetched() {
        return fetched;
      },
      fetch: async () => {
        fetched++;
        const actual = computeDigest(bytes);
        return Readable.from(
          (async function* () {
            yield bytes.subarray(0, 1000);
            yield bytes.subarray(1000);
            if (actual !== smallDescriptor.digest)
              throw new DigestMismatchError(smallDescriptor.digest, actual);
          })(),
        );
      },
    };
  };

  it('writes the bytes straight to the destination, never into the cache', async () => {
    const cache = new BlobCache(dir);
    const source = smallRemote(small);
    const destination = join(dir, 'out.bin');
    await cache.copyTo(source, smallDescriptor, destination);
    expect((await readFile(destination)).equals(small)).toBe(true);
    expect(await readdir(dir)).toEqual(['out.bin']);
    await expect(cache.copyTo(source, smallDescriptor, destination)).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect((await readFile(destination)).equals(small)).toBe(true);
  });

  it('writes nothing when the source fails its check', async () => {
    const cache = new BlobCache(dir);
    const forged = Buffer.from(small);
    forged[5] = (forged[5] ?? 0) ^ 1;
    const destination = join(dir, 'out.bin');
    await expect(
      cache.copyTo(smallRemote(forged), smallDescriptor, destination),
    ).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await readdir(dir)).toEqual([]);
  });
});
