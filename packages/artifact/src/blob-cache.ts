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
 * file system has them), never links, and are verified after they are written — except that a
 * large blob just downloaded for a file may be moved there instead of being stored twice (see
 * {@link CacheKeep}); a process that waited for it then downloads it itself. Nothing planted in
 * the cache is followed: entries are opened with O_NOFOLLOW and must be plain regular files.
 */
import { rm, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pipeline as streamPipeline, type Readable } from 'node:stream';
import {
  DigestMismatchError,
  DigestTransform,
  FerryError,
  parseDigest,
  SizeMismatchError,
  type Descriptor,
} from '@ferry/oci';
import { CacheLock, type LockTimings } from './cache-lock.js';
import { canDownloadToFile } from './capabilities.js';
import { fillPartial } from './partial-fill.js';
import {
  ensureCacheDir,
  moveOut,
  openEntry,
  openPartial,
  reflink,
  removeTree,
} from './cache-files.js';
import { checkPlaced, copyChecked, placeCopy, writeWhole } from './cache-placement.js';

export { ERR_CACHE_UNSAFE } from './cache-files.js';
import { durable } from './durable.js';
import type { FetchOptions, Fetcher } from './target.js';
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

/**
 * From this size a blob just downloaded for a file is moved there rather than copied, unless
 * the cache is told to keep everything: a second copy would cost a second write of the whole
 * blob and as much disk again as the pulled file (a 1 GiB pull: ~1.2 s of 5, run G/H).
 */
export const CACHE_MOVE_MIN_SIZE = 64 * 1024 * 1024;

/** What the cache keeps of a blob it downloads to place at a file. */
export type CacheKeep =
  /** Its own copy of every blob (a second write of each large one where there are no reflinks). */
  | 'always'
  /**
   * Its own copy of blobs under {@link CACHE_MOVE_MIN_SIZE}, and of larger ones where the file
   * system shares the bytes of a copy (a reflink: free). Without reflinks a large blob is moved
   * to the file: the next pull of it downloads it again.
   */
  | 'when-cheap';

export interface BlobCacheOptions extends LockTimings {
  /** Default `'when-cheap'`. */
  keep?: CacheKeep | undefined;
  /** Where `'when-cheap'` starts moving: default {@link CACHE_MOVE_MIN_SIZE} (tests set less). */
  moveMinSize?: number | undefined;
}

export class BlobCache {
  readonly dir: string;
  readonly stats: CacheStats = { hits: 0, resumedBytes: 0, fetchedBytes: 0 };
  readonly #lock: CacheLock;
  readonly #keep: CacheKeep;
  readonly #moveMinSize: number;
  /** Directories checked (or made) this run, by digest algorithm. */
  readonly #checkedDirs = new Map<string, Promise<void>>();

  constructor(dir: string = defaultCacheDir(), options: BlobCacheOptions = {}) {
    this.dir = dir;
    this.#lock = new CacheLock(options);
    this.#keep = options.keep ?? 'when-cheap';
    this.#moveMinSize = options.moveMinSize ?? CACHE_MOVE_MIN_SIZE;
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
      return writeWhole(source, descriptor, destination, options);
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
    if (!(await copyChecked(complete, destination, descriptor))) {
      // Whatever happened to the entry since it was opened, it is not the blob.
      await rm(complete, { force: true });
      return false;
    }
    this.stats.hits += descriptor.size;
    options.onProgress?.(descriptor.size);
    return true;
  }

  /** Downloads in progress in this process, so that two pulls of one blob share one. */
  readonly #inflight = new Map<string, Promise<boolean>>();
  /** How many calls in this process wait for each download in progress (they need the entry). */
  readonly #waiters = new Map<string, number>();

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
      this.#waiters.set(descriptor.digest, (this.#waiters.get(descriptor.digest) ?? 0) + 1);
      try {
        await shared;
      } finally {
        const left = (this.#waiters.get(descriptor.digest) ?? 1) - 1;
        if (left > 0) this.#waiters.set(descriptor.digest, left);
        else this.#waiters.delete(descriptor.digest);
      }
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
        // The ranged download synced the partial file it checked.
        return this.#commit(partial, descriptor, destination, Promise.resolve());
      }
    }
    const handle = await openPartial(partial, fresh);
    try {
      await fillPartial(source, descriptor, handle, options, {
        resumed: (bytes) => (this.stats.resumedBytes += bytes),
        fetched: (bytes) => (this.stats.fetchedBytes += bytes),
      });
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
    const synced = durable.syncFile(handle, partial).finally(() => handle.close());
    return this.#commit(partial, descriptor, destination, synced);
  }

  /**
   * Makes the checked `partial` file the cache entry and places the blob at `destination` if one
   * is given: a copy (a reflink where the file system has them), or — for a large blob no one else
   * in this process is waiting for, when the cache does not keep everything and reflinks are
   * missing — the partial file itself, moved. `synced` settles when the partial file's bytes are
   * on the disk.
   */
  async #commit(
    partial: string,
    descriptor: Descriptor,
    destination: string | undefined,
    synced: Promise<void>,
  ): Promise<void> {
    // Awaited below on every path; a failure must not count as unhandled before that.
    synced.catch(() => {});
    let placing: Promise<void> | undefined;
    if (destination !== undefined && this.#movable(descriptor)) {
      // A reflink costs nothing and keeps the entry; only without one is the blob moved.
      let cloned: boolean;
      try {
        cloned = await reflink(partial, destination);
        if (!cloned) {
          await synced;
          if (await moveOut(partial, destination)) return;
        }
      } catch (error) {
        // The checked blob is kept in the cache even when placing it failed.
        await synced;
        await this.#enter(partial, descriptor);
        throw error;
      }
      if (cloned) placing = checkPlaced(destination, descriptor.size);
    }
    // Placed before the partial file becomes the entry: the copy comes from checked bytes that no
    // other ferry process touches while this one holds the lock. The copy (a page-cache copy where
    // there are no reflinks) overlaps the partial file's fsync (a disk flush).
    if (destination !== undefined && !placing) {
      placing = placeCopy(partial, destination, descriptor.size);
    }
    const [sync, placed] = await Promise.allSettled([synced, placing]);
    if (sync.status === 'rejected') throw sync.reason;
    await this.#enter(partial, descriptor);
    // The checked blob is kept in the cache even when placing it failed.
    if (placed.status === 'rejected') throw placed.reason;
  }

  /** Makes the checked, synced partial file the blob's complete entry, durably. */
  async #enter(partial: string, descriptor: Descriptor): Promise<void> {
    await durable.rename(partial, this.#path(descriptor.digest));
    await durable.syncDirectory(join(partial, '..'));
  }

  /** Whether a blob just downloaded for a file may go there instead of into the cache. */
  #movable(descriptor: Descriptor): boolean {
    return (
      this.#keep === 'when-cheap' &&
      descriptor.size >= this.#moveMinSize &&
      !this.#waiters.has(descriptor.digest)
    );
  }

  /** Empties the cache; returns what was removed. */
  prune(): Promise<{ files: number; bytes: number }> {
    return removeTree(join(this.dir, 'blobs'));
  }
}

function cacheGone(descriptor: Descriptor): FerryError {
  return new FerryError(
    ArtifactErrorCode.CacheChanged,
    `${descriptor.digest} kept disappearing from the download cache while it was being placed; retry, or pull with another --cache-dir`,
  );
}
