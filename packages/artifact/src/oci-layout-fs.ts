/**
 * File-system primitives for {@link OciLayoutTarget}: atomic writes, temp names and an in-process
 * lock per layout directory. Kept apart so that the layout logic reads as layout logic.
 */
import { randomBytes } from 'node:crypto';
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { durable } from './durable.js';

/** True when `error` is a Node system error with this `code` (ENOENT, EEXIST, …). */
export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * A hidden name next to `path` for writing before a rename. The leading dot keeps it out of
 * tools that list blobs; the random part keeps concurrent writers (and processes) apart.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** Removes a file, ignoring that it is already gone; used on failure paths only. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

/**
 * Makes a rename durable: without syncing the directory, a crash can forget the new name even
 * though the file's bytes were synced. Platforms that cannot open a directory (Windows) or sync
 * one get no stronger guarantee than the rename itself.
 */
export function syncDirectory(dir: string): Promise<void> {
  return durable.syncDirectory(dir);
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a
 * prefix: temp file in the same directory (rename is atomic only within a file system), fsync,
 * rename. With `exclusive`, an existing file wins and is left alone (the write is then a no-op),
 * so that two processes initialising one layout cannot overwrite each other's index.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await durable.syncFile(handle, temp);
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      // link() fails with EEXIST instead of replacing, which rename() cannot do.
      try {
        await link(temp, path);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) return;
        if (!isErrno(error, 'EPERM') && !isErrno(error, 'ENOTSUP')) throw error;
        await durable.rename(temp, path); // file systems without hard links: the in-process lock remains
      }
    } else {
      await durable.rename(temp, path);
    }
    await syncDirectory(dirname(path));
  } finally {
    await removeQuietly(temp);
  }
}

// One promise chain per layout directory (by real path), shared by every OciLayoutTarget in the
// process, so read-modify-write cycles of index.json never interleave and lose each other's
// entries. Other processes are not excluded, as with skopeo and ORAS.
const chains = new Map<string, Promise<void>>();

/** Runs `task` after every task queued before it for the same `key`. */
export function withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = chains.get(key) ?? Promise.resolve();
  const result = previous.then(task);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  chains.set(key, settled);
  // Forget idle chains so that the map does not grow with every directory ever opened.
  void settled.then(() => {
    if (chains.get(key) === settled) chains.delete(key);
  });
  return result;
}
