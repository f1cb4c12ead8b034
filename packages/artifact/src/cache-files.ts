/**
 * The download cache's file primitives: nothing planted in the cache is followed. Cache files are
 * opened with O_NOFOLLOW (and O_NONBLOCK, so that a FIFO cannot hang a read) and must be plain
 * regular files; a partial file must also have a single link before ferry appends to it.
 */
import { constants } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '@ferry/oci';
import { makeDirectory } from '@ferry/registry';
import { defaultFileMode } from './durable.js';
import { ArtifactErrorCode } from './errors.js';

/** Opens a cache file for reading only if it is a plain file: never through a symlink, never a FIFO. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
/** The same for appending to a partial file, created 0600 when missing. */
const APPEND_FLAGS =
  constants.O_RDWR |
  constants.O_APPEND |
  constants.O_CREAT |
  (constants.O_NOFOLLOW ?? 0) |
  (constants.O_NONBLOCK ?? 0);

export const ERR_CACHE_UNSAFE = ArtifactErrorCode.CacheUnsafe;

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Makes `<root>/blobs/<algorithm>` (0700) and checks that it and `blobs` are directories of this
 * user, not symlinks: a cache directory someone else controls would let them choose what ferry
 * reads and where it writes.
 */
export async function ensureCacheDir(root: string, algorithm: string): Promise<void> {
  const dir = join(root, 'blobs', algorithm);
  await makeDirectory(root, { mode: 0o700 });
  for (const path of [join(root, 'blobs'), dir]) {
    // One level at a time: mkdir never follows a symlink in the last component.
    await mkdir(path, { mode: 0o700 }).catch((error: unknown) => {
      if (!isErrno(error, 'EEXIST')) throw error;
    });
    const stats = await lstat(path);
    const uid = process.getuid?.();
    if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) {
      throw new FerryError(
        ERR_CACHE_UNSAFE,
        `refusing to use the download cache ${root}: ${path} is ${stats.isDirectory() ? `owned by another user (uid ${stats.uid})` : 'not a plain directory'}; remove it, or choose another --cache-dir`,
      );
    }
  }
}

/**
 * A complete entry, opened for reading when it is a plain file of `size` bytes with one link;
 * anything else planted or left under its name (a symlink, a FIFO, a directory, a hard link) is
 * removed.
 */
export async function openEntry(path: string, size: number): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    if (isErrno(error, 'ELOOP', 'EMLINK', 'ENXIO')) {
      await unlink(path).catch(() => {});
      return undefined;
    }
    throw error;
  }
  const stats = await handle.stat();
  if (stats.isFile() && stats.nlink === 1 && stats.size === size) return handle;
  await handle.close();
  // Not a plain file, or a file that another name can change (a pulled file that older ferry
  // versions hard-linked to the entry, or a planted link): dropped, the blob is fetched again.
  if (!stats.isFile()) await rm(path, { recursive: true, force: true });
  else if (stats.nlink > 1) await unlink(path).catch(() => {});
  return undefined;
}

/**
 * Opens a partial file for appending, never through a symlink and never a file linked elsewhere
 * (appending would change the other name's file): anything like that is removed and a new, empty
 * file made. With `fresh`, whatever was there is discarded first.
 */
export async function openPartial(partial: string, fresh: boolean): Promise<FileHandle> {
  if (fresh) await rm(partial, { recursive: true, force: true });
  let handle: FileHandle | undefined;
  try {
    handle = await open(partial, APPEND_FLAGS, 0o600);
  } catch (error) {
    if (!isErrno(error, 'ELOOP', 'EMLINK', 'EISDIR', 'ENXIO', 'EEXIST')) throw error;
  }
  if (handle) {
    const stats = await handle.stat();
    if (stats.isFile() && stats.nlink === 1) return handle;
    await handle.close();
  }
  await rm(partial, { recursive: true, force: true });
  return open(partial, APPEND_FLAGS | constants.O_EXCL, 0o600);
}

/** A copy of `from` at `to` (which must not exist): a reflink where possible, in the mode of a new file. */
export async function copyOut(from: string, to: string): Promise<void> {
  await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  // copyFile gives the copy the cache file's mode (0600); a pulled file gets the umask's.
  await chmod(to, defaultFileMode());
}

/** What copyFile and link say when a file system cannot share bytes or names across two paths. */
const UNSHARABLE = [
  'ENOTSUP',
  'EOPNOTSUPP',
  'EXDEV',
  'EINVAL',
  'ENOSYS',
  'ENOTTY',
  'EPERM',
  'EMLINK',
];

/**
 * A reflink of `from` at `to` (which must not exist), in the mode of a new file: true when made,
 * false when the file system cannot share the bytes (ext4, tmpfs, another file system), in
 * which case nothing is left at `to`.
 */
export async function reflink(from: string, to: string): Promise<boolean> {
  try {
    await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
  } catch (error) {
    if (!isErrno(error, ...UNSHARABLE)) throw error;
    return false;
  }
  await chmod(to, defaultFileMode());
  return true;
}

/**
 * Moves the synced file `from` to `to` (which must not exist: link() refuses to replace, which
 * rename() cannot), in the mode of a new file. False, with `from` left where it was, when the two
 * are on different file systems or the file system has no hard links: the caller copies instead.
 */
export async function moveOut(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
  } catch (error) {
    if (!isErrno(error, ...UNSHARABLE)) throw error;
    return false;
  }
  // From here on `to` is the only name: a user's file, not a cache file.
  await unlink(from);
  await chmod(to, defaultFileMode());
  return true;
}

/** Removes `root` and everything under it; returns how many files and bytes that was. */
export async function removeTree(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true }).catch(
    () => [],
  )) {
    if (!entry.isFile()) continue;
    bytes += await stat(join(entry.parentPath, entry.name)).then(
      (stats) => stats.size,
      () => 0,
    );
    files++;
  }
  await rm(root, { recursive: true, force: true });
  return { files, bytes };
}
