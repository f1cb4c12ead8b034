/**
 * Filling the download cache's partial file of a blob from where an earlier run stopped: the
 * digest continued over the bytes on disk (one read, no network), the rest appended as it
 * arrives (what lets a killed process resume), synced as it goes so that the final fsync only
 * flushes the tail, and the size checked at the end.
 */
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Digester, parseDigest, SizeMismatchError, type Descriptor } from '@ferry/oci';
import { DEFAULT_SYNC_EVERY } from '@ferry/registry';
import { canDownloadIntoFile } from './capabilities.js';
import { isManifest } from './content.js';
import { handleWriter, readPrefix } from './handle-io.js';
import type { FetchOptions, Fetcher } from './target.js';

/** Where the bytes of a fill came from, for the cache's statistics. */
export interface FillCounters {
  resumed(bytes: number): void;
  fetched(bytes: number): void;
}

/**
 * Appends the rest of `descriptor` to `handle` (a partial file opened for appending), verified.
 * Rejects with a digest or size mismatch when the bytes on disk and fetched are not the blob's.
 */
export async function fillPartial(
  source: Fetcher,
  descriptor: Descriptor,
  handle: FileHandle,
  options: FetchOptions,
  count: FillCounters,
): Promise<void> {
  let offset = (await handle.stat()).size;
  if (offset > descriptor.size) {
    await handle.truncate(0);
    offset = 0;
  }
  const digester = new Digester(parseDigest(descriptor.digest).algorithm);
  if (offset > 0) {
    for await (const chunk of readPrefix(handle, offset)) digester.update(chunk);
    count.resumed(offset);
    options.onProgress?.(offset);
  }
  const fetchOptions = {
    signal: options.signal,
    onProgress: (bytes: number) => {
      count.fetched(bytes);
      options.onProgress?.(bytes);
    },
    ...(offset > 0 ? { resume: { offset, digester } } : {}),
  };
  if (canDownloadIntoFile(source) && !isManifest(descriptor)) {
    // A registry writes into the file itself: no stream between the socket and the file.
    await source.downloadIntoFile(descriptor, handle, {
      ...fetchOptions,
      syncEvery: DEFAULT_SYNC_EVERY,
    });
  } else {
    const stream = await source.fetch(descriptor, fetchOptions);
    // Room for many network chunks while one write is in flight: they go down in one writev
    // instead of one thread-pool round trip each (1.5 s of a 1 GiB pull).
    const sink = handleWriter(handle, 8 * 1024 * 1024, DEFAULT_SYNC_EVERY);
    await pipeline(stream, sink);
  }
  // Every byte fetched was checked; the size says nothing else was appended.
  const written = (await handle.stat()).size;
  if (written !== descriptor.size) {
    throw new SizeMismatchError(descriptor.size, written, `cached ${descriptor.digest}`);
  }
}
