/**
 * Opening files in a download cache that other local users or a planted link might have touched:
 * never through a symbolic link, never a FIFO or device (which would block or never end), never a
 * file hard-linked elsewhere (writing it would change the other name too).
 */
import { constants, type FileHandle, open, rm } from 'node:fs/promises';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } = constants;

/** Small side files (range progress) are read whole only up to this size. */
export const SIDE_FILE_MAX_SIZE = 1024 * 1024;

async function plainFile(handle: FileHandle): Promise<FileHandle | undefined> {
  const info = await handle.stat();
  if (info.isFile() && info.nlink === 1) return handle;
  await handle.close();
  return undefined;
}

/**
 * Reads a small side file as text, or undefined when it is missing, is not one plain file of its
 * own, or is larger than SIDE_FILE_MAX_SIZE.
 */
export async function readSideFile(path: string): Promise<string | undefined> {
  const handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined);
  if (!handle || !(await plainFile(handle))) return undefined;
  try {
    if ((await handle.stat()).size > SIDE_FILE_MAX_SIZE) return undefined;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Writes `text` to a new file at `path` (whatever was there, link or file, is removed first). */
export async function writeNewFile(path: string, text: string): Promise<void> {
  await rm(path, { force: true });
  const handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * Opens the partial file of a download for reading and writing: the existing one (`keep`), or an
 * empty one. Anything at `path` that is not one plain file of its own is replaced, never followed.
 */
export async function openPartialFile(path: string, keep: boolean): Promise<FileHandle> {
  if (keep) {
    const existing = await open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined);
    const plain = existing && (await plainFile(existing));
    if (plain) return plain;
  }
  await rm(path, { force: true });
  const handle = await open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_TRUNC, 0o600);
  return handle;
}
