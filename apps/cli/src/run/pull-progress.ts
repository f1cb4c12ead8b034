/**
 * Progress bars for `pull`: a bar per file from its first byte to its last. Files come either as
 * streams (unpack reports their bytes by title) or through the download cache's copyTo, which
 * unpack reports only once it is done; so copyTo is wrapped to report the bytes as they arrive,
 * and unpack's one report after it is ignored.
 */
import { canCopyTo, type Fetcher, type FileCopier, type Target } from '@ferry/artifact';
import type { Descriptor } from '@ferry/oci';
import { describe } from '../output.js';
import type { Progress } from '../progress.js';

export function pullProgress(
  target: Target,
  layers: readonly Descriptor[],
  progress: Progress,
): { fetcher: Fetcher; onProgress: (title: string, bytes: number) => void } {
  const byTitle = new Map(layers.map((layer) => [describe(layer), layer] as const));
  const remaining = new Map<string, number>();
  const throughCopy = new Set<string>();
  const advance = (descriptor: Descriptor, bytes: number) => {
    const { digest } = descriptor;
    if (!remaining.has(digest)) {
      remaining.set(digest, descriptor.size);
      progress.startNamed(digest, `Downloading ${describe(descriptor)}`, descriptor.size);
    }
    progress.advanceNamed(digest, bytes);
    const left = (remaining.get(digest) ?? 0) - bytes;
    remaining.set(digest, left);
    if (left <= 0) progress.finishNamed(digest);
  };
  if (!progress.enabled) return { fetcher: target, onProgress: () => {} };
  const reportStreamed = (title: string, bytes: number) => {
    const descriptor = byTitle.get(title);
    if (descriptor && !throughCopy.has(descriptor.digest)) advance(descriptor, bytes);
  };
  const fetch: Fetcher['fetch'] = (descriptor, options) => target.fetch(descriptor, options);
  if (!canCopyTo(target)) return { fetcher: { fetch }, onProgress: reportStreamed };
  const copying: Fetcher & FileCopier = {
    fetch,
    copyTo: (descriptor, path, options) => {
      throughCopy.add(descriptor.digest);
      return target.copyTo(descriptor, path, {
        ...options,
        onProgress: (bytes) => {
          options?.onProgress?.(bytes);
          advance(descriptor, bytes);
        },
      });
    },
  };
  return { fetcher: copying, onProgress: reportStreamed };
}
