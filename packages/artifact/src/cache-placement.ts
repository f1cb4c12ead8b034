/**
 * How the download cache puts a blob at a file the caller names (which must not exist): every
 * way ends with checked bytes, synced, at `destination` — or nothing there.
 */
import { open, rm, stat } from 'node:fs/promises';
import { parseDigest, SizeMismatchError, type Descriptor } from '@ferry/oci';
import { copyOut } from './cache-files.js';
import { canFetchBytes } from './capabilities.js';
import { readAll } from './content.js';
import { durable } from './durable.js';
import { digestFileReusing } from './file-digest.js';
import type { FetchOptions, Fetcher } from './target.js';

/** A small blob, verified, in memory: whole from a source that can, else read from its stream. */
export async function fetchWhole(
  source: Fetcher,
  descriptor: Descriptor,
  options: FetchOptions = {},
): Promise<Buffer> {
  if (canFetchBytes(source)) return source.fetchBytes(descriptor, options);
  return readAll(await source.fetch(descriptor, options), descriptor.size);
}

/**
 * A small blob fetched whole and written in one call rather than through a write stream (the
 * source verifies what it yields): no cache file operations, which would cost more than its
 * transfer (a pull of 1,000 small files is bound by them).
 */
export async function writeWhole(
  source: Fetcher,
  descriptor: Descriptor,
  destination: string,
  options: FetchOptions,
): Promise<void> {
  const bytes = await fetchWhole(source, descriptor, options);
  const handle = await open(destination, 'wx');
  try {
    await handle.writeFile(bytes);
    await durable.syncFile(handle, destination);
  } finally {
    await handle.close();
  }
}

/**
 * Copies a cache entry to `destination` and hashes the copy: the copy is checked, not the entry,
 * so whatever happened to the cache between its open and the copy (another process, an edit),
 * the destination holds checked bytes or nothing. False (nothing placed) when they differ.
 */
export async function copyChecked(
  entry: string,
  destination: string,
  descriptor: Descriptor,
): Promise<boolean> {
  await copyOut(entry, destination);
  const { digest, size } = await digestFileReusing(
    destination,
    undefined,
    descriptor.size,
    parseDigest(descriptor.digest).algorithm,
  );
  if (digest !== descriptor.digest || size !== descriptor.size) {
    await rm(destination, { force: true });
    return false;
  }
  await durable.syncPath(destination);
  return true;
}

/** Copies a checked file to `destination` and syncs the copy; a short copy is removed and refused. */
export async function placeCopy(from: string, destination: string, size: number): Promise<void> {
  await copyOut(from, destination);
  await checkPlaced(destination, size);
}

/** Syncs a copy of a checked file; a short copy is removed and refused. */
export async function checkPlaced(destination: string, size: number): Promise<void> {
  const copied = (await stat(destination)).size;
  if (copied !== size) {
    await rm(destination, { force: true });
    throw new SizeMismatchError(size, copied, destination);
  }
  await durable.syncPath(destination);
}
