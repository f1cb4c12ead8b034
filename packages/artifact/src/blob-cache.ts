/**
 * A content-addressed cache of downloaded blobs that survives the process: bytes are appended to
 * `blobs/<alg>/<hex>.partial` as they arrive, so a download killed halfway resumes with Range
 * from what is on disk (hashed once to continue the digest), and a blob already cached is read
 * from disk without touching the network. Every read is verified; a partial file whose bytes were
 * tampered with fails the final digest check, is discarded and fetched again from the start.
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pipeline as streamPipeline, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Digester,
  DigestMismatchError,
  DigestTransform,
  digestStream,
  parseDigest,
  type Descriptor,
} from '@ferry/oci';
import { isManifest, readAll } from './content.js';
import type { FetchOptions, Fetcher, Target } from './target.js';

/** Where the cache lives: FERRY_CACHE, else $XDG_CACHE_HOME/ferry, else ~/.cache/ferry. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.FERRY_CACHE) return env.FERRY_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'ferry');
}

/** Blobs smaller than this bypass the cache in copyTo: a resume could save only a round trip. */
export const SMALL_BLOB = 256 * 1024;

export interface CacheStats {
  /** Bytes served from the cache without a request. */
  hits: number;
  /** Bytes that were on disk from an earlier, interrupted download. */
  resumedBytes: number;
  /** Bytes fetched over the network. */
  fetchedBytes: number;
}

export class BlobCache {
  readonly dir: string;
  readonly stats: CacheStats = { hits: 0, resumedBytes: 0, fetchedBytes: 0 };

  constructor(dir: string = defaultCacheDir()) {
    this.dir = dir;
  }

  #path(digest: string, suffix = ''): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, 'blobs', algorithm, `${hex}${suffix}`);
  }

  /**
   * A verified stream of the blob: from the cache when complete, else downloaded into it through
   * `source` (resuming a partial file) and then read back.
   */
  async fetch(
    source: Fetcher,
    descriptor: Descriptor,
    options: FetchOptions = {},
  ): Promise<Readable> {
    const complete = this.#path(descriptor.digest);
    if ((await sizeOf(complete)) !== descriptor.size)
      await this.#download(source, descriptor, options);
    else {
      this.stats.hits += descriptor.size;
      options.onProgress?.(descriptor.size);
    }
    const verified = new DigestTransform({
      expectedDigest: descriptor.digest,
      expectedSize: descriptor.size,
      subject: `cached ${descriptor.digest}`,
    });
    // pipeline, not pipe: a read error must reach the consumer.
    streamPipeline(createReadStream(complete, { highWaterMark: 1024 * 1024 }), verified, () => {});
    return verified;
  }

  /**
   * Puts the verified blob at `destination` (which must not exist) as a hard link to the cached
   * file, or a kernel copy: one hash pass for a download, none for placing it. A cached file that
   * no longer matches its digest is fetched again rather than placed.
   */
  async copyTo(
    source: Fetcher,
    descriptor: Descriptor,
    destination: string,
    options: FetchOptions = {},
  ): Promise<void> {
    if (descriptor.size < SMALL_BLOB) {
      // Nothing to resume in a small blob, and its cache file operations would cost more than
      // its transfer (a pull of 1,000 small files is bound by them): write it straight through,
      // in one call rather than through a write stream (the source verifies what it yields).
      const bytes = await readAll(await source.fetch(descriptor, options), descriptor.size);
      await writeFile(destination, bytes, { flag: 'wx' });
      return;
    }
    const complete = this.#path(descriptor.digest);
    let cached = (await sizeOf(complete)) === descriptor.size;
    if (cached) {
      const { digest } = await digestStream(
        createReadStream(complete, { highWaterMark: 1024 * 1024 }),
      );
      cached = digest === descriptor.digest;
      if (cached) {
        this.stats.hits += descriptor.size;
        options.onProgress?.(descriptor.size);
      } else {
        await rm(complete, { force: true });
      }
    }
    if (!cached) await this.#download(source, descriptor, options);
    // A hard link costs no second write of the blob. It is safe because every later use of the
    // cached file re-verifies it (and fetches again if the pulled copy was edited in place);
    // across file systems, a copy (a reflink where possible).
    try {
      await link(complete, destination);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw error;
      await copyFile(complete, destination, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    }
  }

  /** Downloads in progress in this process, so that two pulls of one blob share one. */
  readonly #inflight = new Map<string, Promise<void>>();

  async #download(source: Fetcher, descriptor: Descriptor, options: FetchOptions): Promise<void> {
    let shared = this.#inflight.get(descriptor.digest);
    if (!shared) {
      shared = this.#downloadOnce(source, descriptor, options).finally(() =>
        this.#inflight.delete(descriptor.digest),
      );
      this.#inflight.set(descriptor.digest, shared);
    }
    return shared;
  }

  async #downloadOnce(
    source: Fetcher,
    descriptor: Descriptor,
    options: FetchOptions,
    fresh = false,
  ): Promise<void> {
    const partial = this.#path(descriptor.digest, '.partial');
    await mkdir(join(partial, '..'), { recursive: true });
    if (fresh) await rm(partial, { force: true });
    // Large blobs over several connections at once, where the source can (it keeps its own
    // per-range progress beside the partial file, and verifies and fsyncs it).
    const ranged = fresh ? undefined : await source.downloadToFile?.(descriptor, partial, options);
    if (ranged) {
      this.stats.resumedBytes += ranged.resumedBytes;
      this.stats.fetchedBytes += ranged.fetchedBytes;
      await rename(partial, this.#path(descriptor.digest));
      return;
    }
    let offset = (await sizeOf(partial)) ?? 0;
    if (offset > descriptor.size) {
      await rm(partial, { force: true });
      offset = 0;
    }
    const digester = new Digester(parseDigest(descriptor.digest).algorithm);
    if (offset > 0) {
      // Continue the digest over what an earlier run left: one read, no network.
      for await (const chunk of createReadStream(partial, {
        end: offset - 1,
        highWaterMark: 1024 * 1024,
      })) {
        digester.update(chunk as Buffer);
      }
      this.stats.resumedBytes += offset;
      options.onProgress?.(offset);
    }
    try {
      const stream = await source.fetch(descriptor, {
        signal: options.signal,
        onProgress: (bytes) => {
          this.stats.fetchedBytes += bytes;
          options.onProgress?.(bytes);
        },
        ...(offset > 0 ? { resume: { offset, digester } } : {}),
      });
      // Appending as bytes arrive is what lets a killed process resume from the partial file.
      await pipeline(
        stream,
        createWriteStream(partial, {
          flags: offset > 0 ? 'a' : 'w',
          // Room for many network chunks while one write is in flight: they go down in one
          // writev instead of one thread-pool round trip each (1.5 s of a 1 GiB pull).
          highWaterMark: 8 * 1024 * 1024,
        }),
      );
    } catch (error) {
      if (error instanceof DigestMismatchError && offset > 0 && !fresh) {
        // The bytes on disk were not the blob's: throw them away and fetch it whole.
        return this.#downloadOnce(source, descriptor, options, true);
      }
      if (error instanceof DigestMismatchError) await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, this.#path(descriptor.digest));
  }

  /** Empties the cache; returns what was removed. */
  async prune(): Promise<{ files: number; bytes: number }> {
    let files = 0;
    let bytes = 0;
    const root = join(this.dir, 'blobs');
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true }).catch(
      () => [],
    )) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      bytes += (await sizeOf(path)) ?? 0;
      files++;
    }
    await rm(root, { recursive: true, force: true });
    return { files, bytes };
  }
}

/**
 * A fetcher that sends the blobs of a remote target through the cache; manifests (small, and
 * resolved by tag) and local targets go straight through.
 */
export function cachingFetcher(
  target: Fetcher & { resumable?: boolean },
  cache: BlobCache,
): Fetcher {
  if (!target.resumable) return target;
  return {
    fetch: (descriptor, options) =>
      isManifest(descriptor)
        ? target.fetch(descriptor, options)
        : cache.fetch(target, descriptor, options),
    copyTo: (descriptor, path, options) => cache.copyTo(target, descriptor, path, options),
  };
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** The same target with its blob fetches going through the cache (remote targets only). */
export function cachedTarget<T extends Target>(target: T, cache: BlobCache): T {
  if (!target.resumable) return target;
  const { fetch, copyTo } = cachingFetcher(target, cache);
  // A proxy keeps `instanceof` and binds methods to the original, whose private fields they use.
  return new Proxy(target, {
    get(original, property) {
      if (property === 'fetch') return fetch;
      if (property === 'copyTo') return copyTo;
      const value: unknown = Reflect.get(original, property, original);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(original)
        : value;
    },
  });
}
