/**
 * Directories as tar+gzip layers, both ways, in the manner of oras-go's file store (entries named
 * `<title>/…`, ownership dropped, a digest of the uncompressed tar alongside the layer digest).
 * Packing is reproducible: one tree always gives the same bytes, whatever its timestamps or the
 * order in which the file system lists it. Extraction trusts nothing in the archive.
 */
import type { Stats } from 'node:fs';
import { createReadStream } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
} from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { DigestTransform, FerryError, quote, type Digest } from '@ferry/oci';
import { extract as tarExtract, pack as tarPack, type Header, type Pack } from 'tar-stream';
import { currentUmask, durable } from './durable.js';
import { handleWriter } from './handle-io.js';
import { archiveTime, ExpansionLimit, tooLarge } from './tar-limits.js';
import { UNSAFE_ARCHIVE, archiveEntryPath, assertSymlinkInside } from './paths.js';

export const UNSUPPORTED_FILE = ArtifactErrorCode.UnsupportedFile;

export interface TarDirectoryOptions {
  /** Seconds since the epoch, written as every entry's mtime (SOURCE_DATE_EPOCH). Default 0. */
  mtime?: number | undefined;
  /** zlib level. Fixed rather than left to defaults so that output never drifts. Default 6. */
  level?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface TarDirectoryResult {
  /** Digest and size of the gzip written: the layer's descriptor. */
  digest: Digest;
  size: number;
  /** Digest and size of the uncompressed tar: ORAS's `io.deis.oras.content.digest`. */
  tarDigest: Digest;
  tarSize: number;
}

interface WalkEntry {
  name: string;
  fullPath: string;
  stats: Stats;
}

function describeKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device file';
  return 'not a regular file, directory or symbolic link';
}

export function unsupportedFile(fullPath: string, stats: Stats): FerryError {
  return new FerryError(UNSUPPORTED_FILE, `cannot pack ${quote(fullPath)}: ${describeKind(stats)}`);
}

/** Every entry under `root`, named as in the tar and sorted by the bytes of that name. */
async function walk(root: string, prefix: string): Promise<WalkEntry[]> {
  // The root is followed if it is a symlink (the user named it); nothing beneath it is.
  const entries: WalkEntry[] = [{ name: `${prefix}/`, fullPath: root, stats: await stat(root) }];
  const pending = [{ dir: root, name: prefix }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    for (const child of await readdir(next.dir)) {
      const fullPath = path.join(next.dir, child);
      const stats = await lstat(fullPath);
      const name = `${next.name}/${child}`;
      if (stats.isDirectory()) {
        entries.push({ name: `${name}/`, fullPath, stats });
        pending.push({ dir: fullPath, name });
      } else if (stats.isFile() || stats.isSymbolicLink()) {
        entries.push({ name, fullPath, stats });
      } else {
        throw unsupportedFile(fullPath, stats);
      }
    }
  }
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

function fileChanged(fullPath: string): FerryError {
  return new FerryError(
    ArtifactErrorCode.FileChanged,
    `${quote(fullPath)} changed while it was being packed`,
  );
}

function whenDrained(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      sink.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      sink.off('drain', onDrain);
      reject(new Error('tar entry closed before it was written'));
    };
    sink.once('drain', onDrain);
    sink.once('close', onClose);
  });
}

type EntryHeader = Partial<Header> & { name: string };

function addEntry(packer: Pack, header: EntryHeader): { sink: Writable; done: Promise<void> } {
  let sink: Writable | undefined;
  const done = new Promise<void>((resolve, reject) => {
    sink = packer.entry(header, (error) =>
      error ? reject(error) : resolve(),
    ) as unknown as Writable;
  });
  // Observed here so that an entry abandoned by a failure elsewhere is not an unhandled rejection.
  done.catch(() => {});
  return { sink: sink as Writable, done };
}

/** Streams a file into the tar; its size was fixed by lstat, and a file that changed is refused. */
async function addFile(packer: Pack, header: EntryHeader, fullPath: string, size: number) {
  const { sink, done } = addEntry(packer, { ...header, type: 'file', size });
  let written = 0;
  for await (const chunk of createReadStream(fullPath, {
    highWaterMark: 1024 * 1024,
  }) as AsyncIterable<Buffer>) {
    written += chunk.byteLength;
    if (written > size) throw fileChanged(fullPath);
    if (!sink.write(chunk)) await whenDrained(sink);
  }
  if (written !== size) throw fileChanged(fullPath);
  sink.end();
  await done;
}

async function writeEntries(packer: Pack, entries: WalkEntry[], mtime: Date, signal?: AbortSignal) {
  for (const { name, fullPath, stats } of entries) {
    signal?.throwIfAborted();
    // Ownership and every timestamp but a fixed mtime are dropped: they differ between machines.
    const header = { name, mode: stats.mode & 0o7777, mtime, uid: 0, gid: 0, uname: '', gname: '' };
    if (stats.isDirectory()) {
      await addEntry(packer, { ...header, type: 'directory' }).done;
    } else if (stats.isSymbolicLink()) {
      const linkname = await readlink(fullPath);
      await addEntry(packer, { ...header, type: 'symlink', linkname }).done;
    } else {
      await addFile(packer, header, fullPath, stats.size);
    }
  }
}

/**
 * zlib writes its build's OS code into byte 9 of the gzip header; Go (and so ORAS) writes 255,
 * "unknown". Writing 255 everywhere makes a tree compress to the same bytes on every OS.
 */
class GzipHeaderNormalizer extends Transform {
  #offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    let out = chunk;
    if (this.#offset <= 9 && this.#offset + chunk.byteLength > 9) {
      out = Buffer.from(chunk);
      out[9 - this.#offset] = 0xff;
    }
    this.#offset += chunk.byteLength;
    callback(null, out);
  }
}

/**
 * Writes `dir` as a gzipped tar to `destination` (created, never overwritten), with entries named
 * `<prefix>/…`, hashing the tar and the gzip in the same single pass.
 */
export async function tarDirectory(
  dir: string,
  prefix: string,
  destination: string,
  options: TarDirectoryOptions = {},
): Promise<TarDirectoryResult> {
  options.signal?.throwIfAborted();
  const entries = await walk(dir, prefix.replace(/\/+$/, ''));
  const mtime = new Date((options.mtime ?? 0) * 1000);
  const packer = tarPack();
  const tarHash = new DigestTransform();
  const gzipHash = new DigestTransform();
  // Opened here, not lazily by the stream, so that a failure knows the file is ours to remove.
  const output = (await open(destination, 'wx')).createWriteStream();
  const piped = pipeline(
    packer,
    tarHash,
    createGzip({ level: options.level ?? 6 }),
    new GzipHeaderNormalizer(),
    gzipHash,
    output,
    options.signal ? { signal: options.signal } : {},
  );
  const written = writeEntries(packer, entries, mtime, options.signal).then(
    () => packer.finalize(),
    (error: unknown) => {
      packer.destroy(error as Error);
      throw error;
    },
  );
  try {
    await Promise.all([written, piped]);
  } catch (error) {
    await Promise.allSettled([written, piped]);
    await rm(destination, { force: true });
    throw error;
  }
  return {
    digest: gzipHash.digest(),
    size: gzipHash.size,
    tarDigest: tarHash.digest(),
    tarSize: tarHash.size,
  };
}

export {
  archiveTime,
  ERR_EXPANSION_TOO_LARGE,
  EXPANSION_FLOOR,
  EXPANSION_RATIO,
  expansionLimit,
} from './tar-limits.js';
import { ArtifactErrorCode } from './errors.js';

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
