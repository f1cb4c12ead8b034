/**
 * Making a directory and its missing parents, one level at a time. Node 20's
 * `mkdir(path, { recursive: true })` never settles for a path under /proc: the kernel refuses the
 * new entry with ENOENT, its parent answers EEXIST, and Node goes back and forth between the two
 * for ever. Here each level is tried at most twice, before and after its parent is made, so the
 * work is bounded by the path's depth, and a level that cannot be made although its parent is
 * there is an error naming the path.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface MakeDirectoryOptions {
  /** The mode of each directory made (the umask applies), as for `mkdir`. */
  mode?: number | undefined;
}

/**
 * Makes the directory `path` and any parents it lacks, like `mkdir -p`: resolves when it is a
 * directory, made now or before. Rejects with the `mkdir` error (ENOTDIR, EACCES, EEXIST for a
 * file at `path`…), or with an `ENOENT` error naming `path` when its file system refuses a new
 * directory in a parent that exists (/proc, /sys).
 */
export async function makeDirectory(
  path: string,
  options: MakeDirectoryOptions = {},
): Promise<void> {
  const target = resolve(path);
  await makeLevel(target, path, options.mode);
}

async function makeLevel(level: string, given: string, mode: number | undefined): Promise<void> {
  try {
    await mkdir(level, { mode });
    return;
  } catch (error) {
    if (code(error) === 'EEXIST' && (await isDirectory(level))) return;
    if (code(error) !== 'ENOENT' || dirname(level) === level) throw error;
  }
  // A parent is missing: make it, then this level, once.
  await makeLevel(dirname(level), given, mode);
  try {
    await mkdir(level, { mode });
  } catch (error) {
    // Another process may have made it meanwhile.
    if (code(error) === 'EEXIST' && (await isDirectory(level))) return;
    if (code(error) === 'ENOENT') throw refused(given, level, error);
    throw error;
  }
}

function refused(given: string, level: string, cause: unknown): Error {
  return Object.assign(
    new Error(
      `cannot create the directory ${given}: ${dirname(level)} exists, but its file system does not let ${level} be made in it; choose a directory elsewhere`,
      { cause },
    ),
    { code: 'ENOENT', path: level },
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
