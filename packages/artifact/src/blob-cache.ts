/**
 * A content-addressed cache of downloaded blobs that survives the process: bytes are appended to
 * `blobs/<alg>/<hex>.partial` as they arrive, so a download killed halfway resumes with Range
 * from what is on disk (hashed once to continue the digest), and a blob already cached is read
 * from disk without touching the network.
 *
 * What it promises, also to many ferry processes sharing it: a complete entry `<hex>` is only
 * ever bytes whose digest was checked, synced before it was renamed into place. One process at a
 * time (the holder of `<hex>.lock`, see cache-lock.ts) writes a blob's partial file; the others
 * wait for it and then use its result. Files placed from the cache are copies (reflinks where the
 * file system has them), never links, and are verified after they are written. Nothing planted
 * in the cache is followed: entries are opened with O_NOFOLLOW and must be plain regular files.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pipeline as streamPipeline, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Digester,
  DigestMismatchError,
  DigestTransform,
  digestStream,
  FerryError,
  parseDigest,
  SizeMismatchError,
  type Descriptor,
} from '@ferry/oci';
import { CacheLock, type LockTimings } from './cache-lock.js';
import { canDownloadToFile, canFetchBytes } from './capabilities.js';
import { copyOut, ensureCacheDir, openEntry, openPartial } from './cache-files.js';

export { ERR_CACHE_UNSAFE } from './cache-files.js';
import { isManifest, readAll } from './content.js';
import { durable } from './durable.js';
import { handleWriter, readPrefix } from './handle-io.js';
import type { FetchOptions, Fetcher, FileCopier, Target } from './target.js';
import { ArtifactErrorCode } from './errors.js';

/** Where the cache lives: FERRY_CACHE, else $XDG_CACHE_HOME/ferry, else ~/.cache/ferry. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.FERRY_CACHE) return env.FERRY_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'ferry');
}

/** Blobs smaller than this bypass the cache in copyTo: a resume could save only a round trip. */
export const CACHE_BYPASS_MAX_SIZE = 256 * 1024;

export interface CacheStats {
  /** Bytes served from the cache without a request. */
  hits: number;
  /** Bytes that were on disk from an earlier, interrupted download. */
  resumedBytes: number;
  /** Bytes fetched over the network. */
  fetchedBytes: number;
}

export type BlobCacheOptions = LockTimings;

export class BlobCache {
  readonly dir: string;
  readonly stats: CacheStats = { hits: 0, resumedBytes: 0, fetchedBytes: 0 };
  readonly #lock: CacheLock;
  /** Directories checked (or made) this run, by digest algorithm. */
  readonly #checkedDirs = new Map<string, Promise<void>>();

  constructor(dir: string = defaultCacheDir(), options: BlobCacheOptions = {}) {
    this.dir = dir;
    this.#lock = new CacheLock(options);
  }

  /** Makes and checks `blobs/<alg>` once per run (see {@link ensureCacheDir}). */
  #ensureDir(digest: string): Promise<void> {
    const algorithm = parseDigest(digest).algorithm;
    let checked = this.#checkedDirs.get(algorithm);
    if (!checked) {
      checked = ensureCacheDir(this.dir, algorithm);
      checked.catch(() => this.#checkedDirs.delete(algorithm));
      this.#checkedDirs.set(algorithm, checked);
    }
    return checked;
  }

  /** The complete entry when it is a plain file of the blob's size (see {@link openEntry}). */
  #openComplete(descriptor: Descriptor): Promise<FileHandle | undefined> {
    return openEntry(this.#path(descriptor.digest), descriptor.size);
  }

  #path(digest: string, suffix = ''): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, 'blobs', algorithm, `${hex}${suffix}`);
  }

  async #hasComplete(descriptor: Descriptor): Promise<boolean> {
    const handle = await this.#openComplete(descriptor);
    await handle?.close();
    return handle !== undefined;
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
    await this.#ensureDir(descriptor.digest);
    let handle = await this.#openComplete(descriptor);
    if (handle) {
      this.stats.hits += descriptor.size;
      options.onProgress?.(descriptor.size);
    } else {
      for (let attempt = 0; !handle && attempt < 3; attempt++) {
        await this.#download(source, descriptor, options);
        handle = await this.#openComplete(descriptor);
      }
      if (!handle) throw cacheGone(descriptor);
    }
    const verified = new DigestTransform({
      expectedDigest: descriptor.digest,
      expectedSize: descriptor.size,
      subject: `cached ${descriptor.digest}`,
    });
    // pipeline, not pipe: a read error must reach the consumer.
    streamPipeline(handle.createReadStream({ highWaterMark: 1024 * 1024 }), verified, () => {});
    return verified;
  }

  /**
   * Puts the verified blob at `destination` (which must not exist), synced: an independent copy
   * of the cached file (a reflink where the file system has them), so that editing it never
   * changes the cache or another pull. A blob just downloaded is copied from the partial file
   * its digest was checked in, before anything else can see it; a blob from the cache is hashed
   * again once copied, so that what lands at `destination` is always checked bytes.
   */
  async copyTo(
    source: Fetcher,
    descriptor: Descriptor,
    destination: string,
    options: FetchOptions = {},
  ): Promise<void> {
    if (descriptor.size < CACHE_BYPASS_MAX_SIZE) {
      // Nothing to resume in a small blob, and its cache file operations would cost more than
      // its transfer (a pull of 1,000 small files is bound by them): write it straight through,
      // in one call rather than through a write stream (the source verifies what it yields).
      const bytes = await fetchWhole(source, descriptor, options);
      const handle = await open(destination, 'wx');
      try {
        await handle.writeFile(bytes);
        await durable.syncFile(handle, destination);
      } finally {
        await handle.close();
      }
      return;
    }
    await this.#ensureDir(descriptor.digest);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.#placeFromCache(descriptor, destination, options)) return;
      if (await this.#download(source, descriptor, options, destination)) return;
    }
    throw cacheGone(descriptor);
  }

  /** Copies the complete entry to `destination` and checks the copy; false when there is none. */
  async #placeFromCache(
    descriptor: Descriptor,
    destination: string,
    options: FetchOptions,
  ): Promise<boolean> {
    const handle = await this.#openComplete(descriptor);
    if (!handle) return false;
    await handle.close();
    const complete = this.#path(descriptor.digest);
    await copyOut(complete, destination);
    // The copy is checked, not the entry: whatever happened to the cache between the open and the
    // copy (another process, an edit), the destination holds checked bytes or nothing.
    const { digest, size } = await digestStream(
      createReadStream(destination, { highWaterMark: 1024 * 1024 }),
    );
    if (digest !== descriptor.digest || size !== descriptor.size) {
      await rm(destination, { force: true });
      await rm(complete, { force: true });
      return false;
    }
    await durable.syncPath(destination);
    this.stats.hits += descriptor.size;
    options.onProgress?.(descriptor.size);
    return true;
  }

  /** Downloads in progress in this process, so that two pulls of one blob share one. */
  readonly #inflight = new Map<string, Promise<boolean>>();

  /**
   * Downloads the blob into the cache, unless another download (in this process or another)
   * does it meanwhile. True when this call also placed it at `destination`.
   */
  async #download(
    source: Fetcher,
    descriptor: Descriptor,
    options: FetchOptions,
    destination?: string,
  ): Promise<boolean> {
    const shared = this.#inflight.get(descriptor.digest);
    if (shared) {
      await shared;
      return false;
    }
    const download = this.#downloadLocked(source, descriptor, options, destination).finally(() =>
      this.#inflight.delete(descriptor.digest),
    );
    this.#inflight.set(descriptor.digest, download);
    return download;
  }

  async #downloadLocked(
    source: Fetcher,
    descriptor: Descriptor,
    options: FetchOptions,
    destination: string | undefined,
  ): Promise<boolean> {
    const lock = await this.#lock.acquire(
      this.#path(descriptor.digest, '.lock'),
      () => this.#hasComplete(descriptor),
      options.signal,
    );
    if (!lock) return false; // another process finished it while this one waited
    try {
      // It may have finished between this process's look and its taking the lock.
      if (await this.#hasComplete(descriptor)) return false;
      await this.#downloadOnce(source, descriptor, options, destination);
      return destination !== undefined;
    } finally {
      await lock.release();
    }
  }

  async #downloadOnce(
    source: Fetcher,
    descriptor: Descriptor,
    options: FetchOptions,
    destination: string | undefined,
    fresh = false,
  ): Promise<void> {
    const partial = this.#path(descriptor.digest, '.partial');
    // Large blobs over several connections at once, where the source can: it keeps its own
    // per-range progress beside the partial file, and verifies and fsyncs it.
    if (!fresh && canDownloadToFile(source)) {
      // Whatever was planted at the partial path is replaced by a regular file first.
      await (await openPartial(partial, false)).close();
      const ranged = await source.downloadToFile(descriptor, partial, options);
      if (ranged) {
        this.stats.resumedBytes += ranged.resumedBytes;
        this.stats.fetchedBytes += ranged.fetchedBytes;
        const placed =
          destination === undefined
            ? undefined
            : await placeCopy(partial, destination, descriptor.size).then(
                () => undefined,
                (error: unknown) => ({ error }),
              );
        await durable.rename(partial, this.#path(descriptor.digest));
        await durable.syncDirectory(join(partial, '..'));
        // The checked blob is kept in the cache even when placing it failed.
        if (placed) throw placed.error;
        return;
      }
    }
    const handle = await openPartial(partial, fresh);
    let offset: number;
    try {
      offset = (await handle.stat()).size;
      if (offset > descriptor.size) {
        await handle.truncate(0);
        offset = 0;
      }
      const digester = new Digester(parseDigest(descriptor.digest).algorithm);
      if (offset > 0) {
        // Continue the digest over what an earlier run left: one read, no network.
        for await (const chunk of readPrefix(handle, offset)) {
          digester.update(chunk);
        }
        this.stats.resumedBytes += offset;
        options.onProgress?.(offset);
      }
      const stream = await source.fetch(descriptor, {
        signal: options.signal,
        onProgress: (bytes) => {
          this.stats.fetchedBytes += bytes;
          options.onProgress?.(bytes);
        },
        ...(offset > 0 ? { resume: { offset, digester } } : {}),
      });
      // Appending as bytes arrive is what lets a killed process resume from the partial file.
      // Room for many network chunks while one write is in flight: they go down in one writev
      // instead of one thread-pool round trip each (1.5 s of a 1 GiB pull).
      const sink = handleWriter(handle, 8 * 1024 * 1024);
      await pipeline(stream, sink);
      // The stream checked every byte it wrote; the size says nothing else was appended.
      const written = (await handle.stat()).size;
      if (written !== descriptor.size) {
        throw new SizeMismatchError(descriptor.size, written, `cached ${descriptor.digest}`);
      }
    } catch (error) {
      await handle.close();
      const mismatch = error instanceof DigestMismatchError || error instanceof SizeMismatchError;
      if (mismatch && !fresh) {
        // The bytes on disk were not the blob's: throw them away and fetch it whole.
        return this.#downloadOnce(source, descriptor, options, destination, true);
      }
      if (mismatch) await rm(partial, { force: true });
      throw error;
    }
    // Placed before the partial file becomes the entry: the copy comes from checked bytes that
    // no other ferry process touches while this one holds the lock. The copy (a page-cache copy
    // where there are no reflinks) overlaps the partial file's fsync (a disk flush).
    const placing =
      destination === undefined
        ? undefined
        : placeCopy(partial, destination, descriptor.size).then(
            () => undefined,
            (error: unknown) => ({ error }),
          );
    let syncError: { error: unknown } | undefined;
    try {
      await durable.syncFile(handle, partial);
    } catch (error) {
      syncError = { error };
    } finally {
      await handle.close();
    }
    const placed = await placing;
    if (syncError) throw syncError.error;
    await durable.rename(partial, this.#path(descriptor.digest));
    await durable.syncDirectory(join(partial, '..'));
    // The checked blob is kept in the cache even when placing it failed.
    if (placed) throw placed.error;
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
 * A fetcher that sends the blobs of a remote target through the cache, and can copy them out of
 * it to files; manifests (small, and resolved by tag) go straight through.
 */
export function cachingFetcher(target: Fetcher, cache: BlobCache): Fetcher & FileCopier {
  return {
    fetch: (descriptor, options) =>
      isManifest(descriptor)
        ? target.fetch(descriptor, options)
        : cache.fetch(target, descriptor, options),
    copyTo: (descriptor, path, options) => cache.copyTo(target, descriptor, path, options),
  };
}

/** A small blob, verified, in memory: whole from a source that can, else read from its stream. */
export async function fetchWhole(
  source: Fetcher,
  descriptor: Descriptor,
  options: FetchOptions = {},
): Promise<Buffer> {
  if (canFetchBytes(source)) return source.fetchBytes(descriptor, options);
  return readAll(await source.fetch(descriptor, options), descriptor.size);
}

/** Copies a checked file to `destination` and syncs the copy; a short copy is removed and refused. */
async function placeCopy(from: string, destination: string, size: number): Promise<void> {
  await copyOut(from, destination);
  const copied = (await stat(destination)).size;
  if (copied !== size) {
    await rm(destination, { force: true });
    throw new SizeMismatchError(size, copied, destination);
  }
  await durable.syncPath(destination);
}

function cacheGone(descriptor: Descriptor): FerryError {
  return new FerryError(
    ArtifactErrorCode.CacheChanged,
    `${descriptor.digest} kept disappearing from the download cache while it was being placed; retry, or pull with another --cache-dir`,
  );
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/**
 * The same target with its blob fetches going through the cache, and a {@link FileCopier}
 * (remote targets only; local ones go straight through).
 */
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
