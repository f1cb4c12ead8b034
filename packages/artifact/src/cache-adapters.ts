/**
 * Targets seen through the download cache. `pull`, `bottle pull` and `model pull` read every blob
 * of a remote target through it ({@link cachedTarget}); `cp` and `blob fetch` stream blobs straight
 * from their source. A blob large enough for the
 * source to fetch in parallel ranges needs a file to write the ranges into and to resume from:
 * that one goes through the download cache instead.
 */
import type { BlobCache } from './blob-cache.js';
import { isManifest } from './content.js';
import { RegistryTarget } from './registry-target.js';
import type { Fetcher, FileCopier, Target } from './target.js';

/** `target` with its large blobs (those fetched in parallel ranges) read through `cache`. */
export function cacheParallelDownloads<T extends Target>(target: T, cache: BlobCache): T {
  if (!(target instanceof RegistryTarget)) return target;
  const registryTarget: RegistryTarget = target;
  const fetch: Target['fetch'] = (descriptor, options) =>
    registryTarget.downloadsInParallel(descriptor)
      ? cache.fetch(registryTarget, descriptor, options)
      : registryTarget.fetch(descriptor, options);
  // A proxy keeps `instanceof` and binds methods to the original, whose private fields they use.
  return new Proxy(target, {
    get(original, property) {
      if (property === 'fetch') return fetch;
      const value: unknown = Reflect.get(original, property, original);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(original)
        : value;
    },
  });
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
