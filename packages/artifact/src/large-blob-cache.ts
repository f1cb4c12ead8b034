/**
 * `cp` and `blob fetch` stream blobs straight from their source. A blob large enough for the
 * source to fetch in parallel ranges needs a file to write the ranges into and to resume from:
 * that one goes through the download cache instead.
 */
import type { BlobCache } from './blob-cache.js';
import { RegistryTarget } from './registry-target.js';
import type { Target } from './target.js';

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
