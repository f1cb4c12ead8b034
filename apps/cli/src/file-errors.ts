/**
 * Node's file-system errors (`EACCES: permission denied, open '/out/.a.txt.ferry-….partial'`)
 * rewritten to name the path the user asked for and what to do about it. ferry writes through
 * hidden temporary files beside the final one; users never named those, so never see them.
 */

/** `.<name>.ferry-<id>.partial` (and `.partial` directories) → `<name>`, in any path. */
const PARTIAL = /(^|[\\/])\.([^\\/]+?)\.ferry-[0-9a-f-]+\.partial(?=$|[\\/])/g;

export function withoutTemporaryNames(path: string): string {
  return path.replace(PARTIAL, '$1$2');
}

interface ErrnoLike {
  code: string;
  syscall?: string | undefined;
  path?: string | undefined;
  dest?: string | undefined;
  message: string;
}

export function isErrnoError(error: unknown): error is Error & ErrnoLike {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as Partial<ErrnoLike>;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof syscall === 'string';
}

const reading = new Set(['open', 'read', 'scandir', 'stat', 'lstat', 'opendir']);

/** One error line and a hint for a file-system error, or undefined for other errors. */
export function describeFileError(error: unknown): { message: string; hint: string } | undefined {
  if (!isErrnoError(error)) return undefined;
  const raw = error.dest && error.syscall === 'rename' ? error.dest : error.path;
  if (!raw) return undefined;
  const path = withoutTemporaryNames(raw);
  const temporary = path !== raw;
  const verb = temporary || !reading.has(error.syscall ?? '') ? 'write' : 'read';
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return {
        message: `cannot ${verb} ${path}: permission denied`,
        hint: `choose a place you can ${verb}, or change the permissions of ${path}`,
      };
    case 'EROFS':
      return {
        message: `cannot write ${path}: the file system is read-only`,
        hint: 'choose a writable directory',
      };
    case 'ENOSPC':
    case 'EDQUOT':
      return {
        message: `cannot write ${path}: no space left on the device`,
        hint: 'free some space, or choose another directory',
      };
    case 'ENOTDIR':
      return {
        message: `cannot ${verb} ${path}: part of that path is a file, not a directory`,
        hint: 'name a path whose parents are directories',
      };
    case 'EISDIR':
      return {
        message: `cannot ${verb} ${path}: it is a directory`,
        hint: 'name a file, not a directory',
      };
    case 'EEXIST':
      return {
        message: `cannot ${verb} ${path}: something is already there`,
        hint: 'remove it, or choose another path',
      };
    case 'ENOENT':
      return {
        message: `cannot ${verb} ${path}: no such file or directory`,
        hint: 'check the path',
      };
    default:
      return temporary
        ? { message: `cannot ${verb} ${path}: ${error.code}`, hint: 'check the path and retry' }
        : undefined;
  }
}
