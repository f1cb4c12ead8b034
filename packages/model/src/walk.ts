/**
 * Lists a model directory: every regular file, by its `/`-separated path relative to the root,
 * in byte order. Dot-directories (`.git/`, `.cache/`) and dot-files (`.gitattributes`) are
 * skipped and reported. Symbolic links are followed wherever they point — a Hugging Face cache
 * snapshot is a directory of links into `../../blobs/` — but a loop, a dangling link and
 * anything that is not a regular file or directory are refused.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { ArtifactErrorCode } from '@ferry/artifact';
import { ErrorCode, FerryError, quote } from '@ferry/oci';
import { ModelErrorCode } from './errors.js';

export interface WalkedFile {
  /** Relative to the root, `/`-separated. */
  path: string;
  /** The file to read: the link's target for a symbolic link. */
  absolutePath: string;
  size: number;
  /** Permission bits, normalized as git does: 0o755 when executable, else 0o644. */
  mode: number;
}

export interface WalkResult {
  files: WalkedFile[];
  /** Relative paths of the dot-directories and dot-files left out. */
  skipped: string[];
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function refuse(code: ModelErrorCode | ErrorCode | ArtifactErrorCode, message: string): FerryError {
  return new FerryError(code, message);
}

export async function walkModelDirectory(root: string): Promise<WalkResult> {
  const rootStats = await stat(root).catch((error: NodeJS.ErrnoException) => {
    throw refuse(
      ErrorCode.FileNotFound,
      `model directory ${quote(root)} ${error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code ?? error.message})`}`,
    );
  });
  if (!rootStats.isDirectory()) {
    throw refuse(
      ModelErrorCode.NotADirectory,
      `${quote(root)} is not a directory; give the model's directory`,
    );
  }
  const files: WalkedFile[] = [];
  const skipped: string[] = [];
  const visit = async (dir: string, relative: string, ancestors: Set<string>): Promise<void> => {
    const names = (await readdir(dir)).sort(byBytes);
    for (const name of names) {
      const rel = relative ? `${relative}/${name}` : name;
      const full = path.join(dir, name);
      if (name.startsWith('.')) {
        skipped.push(rel);
        continue;
      }
      const link = await lstat(full);
      let stats = link;
      if (link.isSymbolicLink()) {
        stats = await stat(full).catch((error: NodeJS.ErrnoException) => {
          throw refuse(
            error.code === 'ELOOP' ? ModelErrorCode.SymlinkLoop : ModelErrorCode.DanglingSymlink,
            `${quote(rel)} is a symbolic link ${error.code === 'ELOOP' ? 'in a loop' : 'to nothing'} (${error.code ?? error.message}); remove it or point it at a file`,
          );
        });
      }
      if (stats.isDirectory()) {
        const real = await realpath(full);
        if (ancestors.has(real)) {
          throw refuse(
            ModelErrorCode.SymlinkLoop,
            `${quote(rel)} links back to a directory above it (a loop); remove the link`,
          );
        }
        await visit(full, rel, new Set([...ancestors, real]));
      } else if (stats.isFile()) {
        files.push({
          path: rel,
          absolutePath: link.isSymbolicLink() ? await realpath(full) : full,
          size: stats.size,
          mode: stats.mode & 0o111 ? 0o755 : 0o644,
        });
      } else {
        throw refuse(
          ArtifactErrorCode.UnsupportedFile,
          `${quote(rel)} is not a regular file or directory${link.isSymbolicLink() ? ' (a symbolic link to a device, FIFO or socket)' : ''}; a model holds files only`,
        );
      }
    }
  };
  await visit(root, '', new Set([await realpath(root)]));
  return { files, skipped };
}
