/**
 * Directories as reproducible tar+gzip layers, in the manner of oras-go's file store (entries
 * named `<title>/…`, ownership dropped, a digest of the uncompressed tar alongside the layer
 * digest): one tree always gives the same bytes, whatever its timestamps or the order in which
 * the file system lists it. Extraction is tar-extract.ts.
 */
import type { Stats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DigestTransform, FerryError, quote, type Digest } from '@ferry/oci';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { ArtifactErrorCode } from './errors.js';

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

/**
 * Resolves when `sink` drains; rejects when it closes first or is destroyed already (its tar
 * stream was destroyed: a destroyed entry never drains, and waiting for 'drain' alone would
 * wait forever).
 */
export function whenDrained(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    // Destroyed already (its 'close' may have gone by): it will never drain.
    if (sink.destroyed) {
      reject(new Error('tar entry closed before it was written'));
      return;
    }
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
    // A streamx Writable: it writes, drains and ends as node's does, but its types lack node's
    // `writable…` members and make `end()` take an argument.
    sink = packer.entry(header, (error) =>
      error ? reject(error) : resolve(),
    ) as unknown as Writable;
  });
  // Observed here so that an entry abandoned by a failure elsewhere is not an unhandled rejection.
  done.catch(() => {});
  // A destroyed pack (an abort, a failed output) destroys its entry with the error; `done`
  // carries it. Without a listener the 'error' event was an uncaught exception, thrown from
  // inside the destroy, so the entry never closed either and whenDrained waited forever.
  (sink as unknown as Writable).on('error', () => {});
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
    const [, pipedResult] = await Promise.allSettled([written, piped]);
    await rm(destination, { force: true });
    // An entry stopped by the pipeline (an abort, a failed output) failed only as a result ("tar
    // entry closed…"): the pipeline's error says why. An entry that failed itself destroyed the
    // packer with its own error, which the pipeline then carries.
    throw pipedResult.status === 'rejected' ? pipedResult.reason : error;
  }
  return {
    digest: gzipHash.digest(),
    size: gzipHash.size,
    tarDigest: tarHash.digest(),
    tarSize: tarHash.size,
  };
}
