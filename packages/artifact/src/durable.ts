/**
 * The file-system calls that make a write survive a crash, in one object so that tests can watch
 * their order (write → fsync(file) → rename → fsync(directory)) with `vi.spyOn`. Without the
 * fsync of the file, a crash right after the rename can leave the final name pointing at an empty
 * or partial file; without the fsync of the directory, the rename itself can be forgotten.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';

export const durable = {
  /** Flushes a file's bytes to the disk. */
  syncFile(handle: FileHandle, _path: string): Promise<void> {
    return handle.sync();
  },

  /** Flushes the file at `path` (which the caller wrote through another descriptor). */
  async syncPath(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      await durable.syncFile(handle, path);
    } finally {
      await handle.close();
    }
  },

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  },

  /**
   * Makes the renames in `dir` durable. Best effort: platforms that cannot open a directory
   * (Windows) or sync one get no stronger guarantee than the rename itself.
   */
  async syncDirectory(dir: string): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(dir, 'r');
      await handle.sync();
    } catch {
      // See above.
    } finally {
      await handle?.close().catch(() => {});
    }
  },
};

/** The mode a new file gets from `open(…, 0o666)` under the process's umask. */
export function defaultFileMode(): number {
  return 0o666 & ~currentUmask();
}

/** The process's umask (read without changing it). */
export function currentUmask(): number {
  // process.umask() without an argument only reads it (its deprecation is documentation-only);
  // worker threads cannot call it at all, and get the common default.
  try {
    return process.umask();
  } catch {
    return 0o022;
  }
}
