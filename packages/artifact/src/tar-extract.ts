/**
 * Extracting the tar+gzip of a directory (tar-create.ts writes them) into a directory, trusting
 * nothing in the archive: entries outside the prefix, links out of the tree, an entry landing on
 * another and archives that expand past their bound are refused.
 */
import { chmod, link, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DigestTransform, FerryError, quote } from '@ferry/oci';
import { extract as tarExtract, type Header } from 'tar-stream';
import { currentUmask, durable } from './durable.js';
import { handleWriter } from './handle-io.js';
import { archiveTime, ExpansionLimit, tooLarge } from './tar-limits.js';
import { UNSAFE_ARCHIVE, archiveEntryPath, assertSymlinkInside } from './paths.js';

export interface ExtractOptions {
  /**
   * Refuse (ERR_EXPANSION_TOO_LARGE) an archive whose tar, or whose files' declared sizes, pass
   * this many bytes: checked on each header before its file is written. Default: no bound.
   */
  maxExpandedSize?: number | undefined;
  /** The uncompressed tar's digest (`io.deis.oras.content.digest`): the extraction fails unless it matches. */
  expectedTarDigest?: string | undefined;
  /** Streams the compressed bytes pass through first (verification, progress). */
  before?: Transform[] | undefined;
  signal?: AbortSignal | undefined;
}

/** A directory's mode and mtime, applied once its contents are in place. */
export interface DirectoryMetadata {
  segments: string[];
  mode: number;
  /** Undefined: keep the extraction time (see {@link archiveTime}). */
  mtime: Date | undefined;
}

type Kind = 'file' | 'directory' | 'implicit' | 'symlink';

/** What tar-stream hands over for an entry's body (a streamx Readable). */
type EntryStream = AsyncIterable<unknown> & {
  resume(): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  readonly destroyed: boolean;
};

function unsafeEntry(name: string, problem: string): FerryError {
  return new FerryError(UNSAFE_ARCHIVE, `unsafe archive entry ${quote(name)}: ${problem}`);
}

function safeEntryPath(name: string, prefix: string): string[] | undefined {
  try {
    return archiveEntryPath(name, prefix);
  } catch {
    return undefined;
  }
}

/** The state of one extraction: what each path already is, so that no entry lands on another. */
class Extraction {
  readonly kinds = new Map<string, Kind>([['', 'implicit']]);
  readonly directories: DirectoryMetadata[] = [];
  /** Modes are applied as tar and ORAS do for a non-root user: the umask takes its bits away. */
  readonly umask = currentUmask();
  /** The sum of the files' declared sizes so far. */
  declared = 0;

  constructor(
    readonly root: string,
    readonly prefix: string,
    readonly maxExpandedSize: number = Infinity,
  ) {}

  async add(header: Header, stream: EntryStream) {
    // The extraction may be aborted while this entry's directories are made or its file opened,
    // before anything reads the stream: its error is kept here (no listener would make it an
    // uncaught exception) and checked once the file is open.
    let entryError: unknown;
    stream.on('error', (error: unknown) => (entryError ??= error));
    const { name, type } = header;
    const segments = archiveEntryPath(name, this.prefix);
    const key = segments.join('/');
    const existing = this.kinds.get(key);
    if (segments.length === 0 && type !== 'directory') {
      throw unsafeEntry(name, 'the top directory is not a directory');
    }
    if (existing !== undefined && !(existing === 'implicit' && type === 'directory')) {
      throw unsafeEntry(name, 'appears twice, or collides with an earlier entry');
    }
    // Parents must be directories this extraction made: never a symlink, never a file.
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth);
      const kind = this.kinds.get(parent.join('/'));
      if (kind === undefined) {
        await mkdir(path.join(this.root, ...parent));
        this.kinds.set(parent.join('/'), 'implicit');
      } else if (kind !== 'directory' && kind !== 'implicit') {
        throw unsafeEntry(name, `lies beneath a ${kind === 'symlink' ? 'symbolic link' : kind}`);
      }
    }
    const target = path.join(this.root, ...segments);
    const mtime = archiveTime(header.mtime);
    const mode = (header.mode ?? 0o644) & 0o777 & ~this.umask;
    if (type === 'file' || type === 'contiguous-file') {
      // Refused on the header's word, before any of its bytes reach the disk.
      this.declared += header.size ?? 0;
      if (this.declared > this.maxExpandedSize) throw tooLarge(this.prefix, this.maxExpandedSize);
      const handle = await open(target, 'wx', 0o600);
      try {
        if (stream.destroyed) {
          // pipeline() on a stream that is already destroyed would wait forever.
          throw entryError ?? unsafeEntry(name, 'the archive stopped before its contents');
        }
        // Through the handle's own methods, so that it can be synced after.
        await pipeline(stream, handleWriter(handle, 1024 * 1024));
        await durable.syncFile(handle, target);
      } finally {
        await handle.close();
      }
      await chmod(target, mode);
      if (mtime) await utimes(target, mtime, mtime);
      this.kinds.set(key, 'file');
      return;
    }
    stream.resume();
    if (type === 'directory') {
      if (existing === undefined) await mkdir(target);
      this.directories.push({ segments, mode, mtime });
      this.kinds.set(key, 'directory');
    } else if (type === 'symlink') {
      const linkname = header.linkname ?? '';
      assertSymlinkInside(name, segments, linkname);
      await symlink(linkname, target);
      if (mtime) await lutimes(target, mtime, mtime).catch(() => {});
      this.kinds.set(key, 'symlink');
    } else if (type === 'link') {
      const linkname = header.linkname ?? '';
      const linked = safeEntryPath(linkname, this.prefix);
      if (!linked || this.kinds.get(linked.join('/')) !== 'file') {
        throw unsafeEntry(name, `hard link to ${quote(linkname)}, not a file extracted before it`);
      }
      await link(path.join(this.root, ...linked), target);
      this.kinds.set(key, 'file');
    } else {
      throw unsafeEntry(name, `${String(type ?? 'unknown')} entries are not allowed`);
    }
  }
}

/**
 * Extracts a gzipped tar of a directory named `prefix` into `root` (an existing, empty directory
 * that stands for `prefix`). Directory modes and mtimes are returned rather than applied, so that
 * the caller can apply them after moving the tree into place. On failure `root` may hold a partial
 * tree: the caller removes it.
 */
export async function extractTarGzip(
  source: Readable,
  root: string,
  prefix: string,
  options: ExtractOptions = {},
): Promise<DirectoryMetadata[]> {
  const extraction = new Extraction(root, prefix, options.maxExpandedSize);
  const extractor = tarExtract();
  let inFlight: Promise<unknown> = Promise.resolve();
  extractor.on('entry', (header, stream, next) => {
    inFlight = extraction.add(header, stream).then(
      () => next(),
      (error: unknown) => next(error as Error),
    );
  });
  const stages = [
    source,
    ...(options.before ?? []),
    createGunzip(),
    ...(options.maxExpandedSize !== undefined
      ? [new ExpansionLimit(options.maxExpandedSize, prefix)]
      : []),
    ...(options.expectedTarDigest
      ? [new DigestTransform({ expectedDigest: options.expectedTarDigest, subject: 'the tar' })]
      : []),
    extractor,
  ];
  try {
    await pipeline(stages, options.signal ? { signal: options.signal } : {});
  } finally {
    // An entry may still be writing when another stage fails; let it settle before any cleanup.
    await inFlight.catch(() => {});
  }
  // Each file was synced as it was written; the directories hold their names.
  const directories = [...extraction.kinds]
    .filter(([, kind]) => kind === 'directory' || kind === 'implicit')
    .map(([key]) => (key === '' ? [] : key.split('/')))
    .sort((a, b) => b.length - a.length);
  for (const segments of directories) await durable.syncDirectory(path.join(root, ...segments));
  return extraction.directories;
}

/** Applies directory modes and mtimes under `root`, deepest first (a child's write moves its parent's mtime). */
export async function applyDirectoryMetadata(root: string, directories: DirectoryMetadata[]) {
  const ordered = [...directories].sort((a, b) => b.segments.length - a.segments.length);
  for (const { segments, mode, mtime } of ordered) {
    const target = path.join(root, ...segments);
    await chmod(target, mode);
    if (mtime) await utimes(target, mtime, mtime);
  }
}
