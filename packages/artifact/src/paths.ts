/**
 * Path safety for titles and archive entries. Artifacts come from registries that anyone can push
 * to, so every name in a manifest or a tarball is hostile until it is shown to stay inside the
 * directory it is written to. The checks treat `\` as a separator too: a title that is harmless on
 * Linux (`..\x`) must not become a traversal when the same artifact is pulled on Windows.
 */
import { lstat, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { FerryError, quote } from '@ferry/oci';
import { ArtifactErrorCode } from './errors.js';

export const UNSAFE_PATH = ArtifactErrorCode.UnsafePath;
export const UNSAFE_ARCHIVE = ArtifactErrorCode.UnsafeArchive;

const SEPARATORS = /[\\/]/;

/** True for `/x`, `\x`, `\\server\x`, `C:\x`, `C:x` and `C:/x`: absolute somewhere. */
export function isAbsoluteAnywhere(name: string): boolean {
  return name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name);
}

/**
 * Why a title is unsafe to write as given, or undefined. Strict, for `push`: absolute paths, `..`
 * segments, NUL and titles that name no file at all.
 */
export function titleProblem(title: string): string | undefined {
  if (title.includes('\0')) return 'contains a NUL character';
  if (isAbsoluteAnywhere(title)) return 'is an absolute path';
  const segments = title.split(SEPARATORS);
  if (segments.includes('..')) return 'contains a ".." segment';
  if (segments.every((segment) => segment === '' || segment === '.')) return 'is empty';
  return undefined;
}

/** Throws ERR_UNSAFE_PATH (for pack) unless the title is safe to publish. */
export function validateTitle(title: string): void {
  const problem = titleProblem(title);
  if (problem) {
    throw new FerryError(
      UNSAFE_PATH,
      `file title ${quote(title)} ${problem}; use --disable-path-validation if this is intended`,
    );
  }
}

/**
 * The title a file gets when none is given: the path as typed, cleaned (`./a//b` → `a/b`), with
 * forward slashes where the platform uses backslashes. Like ORAS, an absolute path stays absolute
 * (and is refused by {@link validateTitle} unless path validation is off).
 */
export function defaultTitle(filePath: string): string {
  const slashed = path.sep === '\\' ? filePath.replaceAll('\\', '/') : filePath;
  const cleaned = path.posix.normalize(slashed);
  return cleaned.length > 1 ? cleaned.replace(/\/+$/, '') : cleaned;
}

/** True when `child` is `parent` or lies beneath it (both resolved, same platform). */
export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

function unsafeTitle(title: string, problem: string): FerryError {
  return new FerryError(
    UNSAFE_PATH,
    `refusing to write ${quote(title)}: ${problem}; use -T/--allow-path-traversal if you trust this artifact`,
  );
}

/**
 * Where a pulled title is written. Without `allowTraversal` the title must resolve strictly
 * inside `outputDir`, judged both by this platform's rules and with `\` as a separator; a title
 * such as `a/../b` that stays inside is accepted, as ORAS accepts it.
 */
export function resolveTitlePath(outputDir: string, title: string, allowTraversal = false): string {
  if (title.includes('\0')) throw unsafeTitle(title, 'it contains a NUL character');
  const root = path.resolve(outputDir);
  const target = path.resolve(root, title);
  if (allowTraversal) return target;
  if (isAbsoluteAnywhere(title)) throw unsafeTitle(title, 'it is an absolute path');
  let depth = 0;
  for (const segment of title.split(SEPARATORS)) {
    if (segment === '' || segment === '.') continue;
    depth += segment === '..' ? -1 : 1;
    if (depth < 0) break;
  }
  if (depth < 0 || !isInside(root, target)) {
    throw unsafeTitle(title, `it resolves outside ${root}`);
  }
  if (depth === 0 || target === root) throw unsafeTitle(title, 'it names the output directory');
  return target;
}

/**
 * Refuses a target whose parent directories pass through a symlink (already in `root`) that
 * leads outside `root`: writing there would land somewhere the user never chose. The last
 * component is not checked, because ferry replaces it by rename and never writes through it.
 */
export async function assertNoSymlinkEscape(root: string, target: string, title: string) {
  const base = path.resolve(root);
  const relative = path.relative(base, target);
  if (relative === '' || !isInside(base, target)) return;
  // Resolved only when a symlink is met: per title it cost three readlinks (1,000-file pulls).
  let realRoot: string | undefined;
  let current = base;
  for (const segment of relative.split(path.sep).slice(0, -1)) {
    current = path.join(current, segment);
    const stats = await lstat(current).catch(() => undefined);
    if (!stats) return;
    if (!stats.isSymbolicLink()) continue;
    realRoot ??= await realpath(base).catch(() => base);
    const resolved = await realpath(current).catch(() => undefined);
    if (resolved === undefined || !isInside(realRoot, resolved)) {
      throw unsafeTitle(title, `${current} is a symbolic link that leads outside ${base}`);
    }
  }
}

function unsafeEntry(name: string, problem: string): FerryError {
  return new FerryError(UNSAFE_ARCHIVE, `unsafe archive entry ${quote(name)}: ${problem}`);
}

/**
 * The path of a tar entry (or hard-link target) relative to the directory being extracted, as
 * segments; `[]` is the directory itself. Entries are named `<prefix>/…` (ORAS's layout); any
 * other name, a `..` segment, a backslash or a NUL is refused.
 */
export function archiveEntryPath(name: string, prefix: string): string[] {
  if (name.includes('\0') || name.includes('\\')) {
    throw unsafeEntry(name, 'contains a NUL or a backslash');
  }
  const stripped = name.replace(/^(?:\.\/)+/, '');
  const base = prefix.replace(/^(?:\.\/)+/, '').replace(/\/+$/, '');
  if (stripped !== base && !stripped.startsWith(`${base}/`)) {
    throw unsafeEntry(name, `lies outside the directory ${quote(base)}`);
  }
  const segments = stripped
    .slice(base.length)
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw unsafeEntry(name, 'contains a ".." segment');
  return segments;
}

/**
 * Refuses a symlink unless its target, read relative to the link's directory, stays inside the
 * extraction root. Targets must be relative and in normal form (`..` only as leading segments):
 * then no chain of such links can climb out, whatever the links it passes through point at.
 */
export function assertSymlinkInside(entry: string, segments: string[], target: string): void {
  if (target === '' || target.includes('\0') || isAbsoluteAnywhere(target)) {
    throw unsafeEntry(entry, `symbolic link to ${quote(target)} is empty or absolute`);
  }
  let depth = segments.length - 1;
  let descended = false;
  for (const part of target.split(SEPARATORS)) {
    if (part === '' || part === '.') continue;
    if (part !== '..') {
      descended = true;
    } else if (descended) {
      throw unsafeEntry(entry, `symbolic link to ${quote(target)} has ".." after a name`);
    } else if (--depth < 0) {
      throw unsafeEntry(entry, `symbolic link to ${quote(target)} leads outside the directory`);
    }
  }
}
