/**
 * An OCI image-layout directory as a {@link Target}, readable and writable by skopeo
 * (`oci:DIR:tag`) and ORAS (`--oci-layout DIR:tag`).
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md
 *
 * Nothing is cached: every call reads index.json afresh, so that changes made by other tools (or
 * other processes) between calls are seen.
 */
import { readOptions } from './read-options.js';
import { mkdir, open, realpath, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform, addAbortSignal, pipeline as pipelineCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DigestTransform,
  FerryError,
  InvalidReferenceError,
  UnsupportedMediaTypeError,
  MANIFEST_SIZE_LIMIT,
  MediaType,
  descriptor as validateDescriptor,
  isDigest,
  isValidTag,
  parseDigest,
  parseManifest,
  type Descriptor,
  type Digest,
  ErrorCode,
  NotFoundError,
} from '@ferry/oci';
import { makeDirectory } from '@ferry/registry';
import { isManifest, readAll } from './content.js';
import { durable } from './durable.js';
import { scanReferrers } from './oci-layout-referrers.js';
import {
  isErrno,
  removeQuietly,
  syncDirectory,
  tempPathFor,
  withLock,
  writeFileAtomic,
} from './oci-layout-fs.js';
import {
  EMPTY_INDEX_CONTENT,
  ERR_LAYOUT_INVALID,
  INDEX_FILE,
  LAYOUT_FILE,
  LAYOUT_FILE_CONTENT,
  checkLayoutFile,
  readLayoutIndex,
  refName,
  serialiseIndex,
  tagEntry,
  type LayoutIndex,
} from './oci-layout-index.js';
import type {
  Content,
  FetchOptions,
  OperationOptions,
  PushOptions,
  ReferrersOptions,
  Target,
} from './target.js';

export interface OciLayoutOpenOptions {
  /**
   * Create the directory, `oci-layout`, `index.json` and `blobs/` where missing (never deleting
   * anything). Default true.
   */
  create?: boolean | undefined;
}

export class OciLayoutTarget implements Target {
  /** `oci-layout:<dir>`, with the directory as the caller wrote it. */
  readonly name: string;
  /** The directory as the caller wrote it. */
  readonly dir: string;
  /** The real path: base of every file path, and the key of the index lock. */
  readonly #root: string;

  private constructor(dir: string, root: string) {
    this.dir = dir;
    this.name = `oci-layout:${dir}`;
    this.#root = root;
  }

  /** Opens (by default creating) a layout; refuses one whose metadata files are invalid. */
  static async open(dir: string, options: OciLayoutOpenOptions = {}): Promise<OciLayoutTarget> {
    const create = options.create ?? true;
    const name = `oci-layout:${dir}`;
    const absolute = resolve(dir);
    let info = await statOrUndefined(absolute);
    if (!info && create) {
      await makeDirectory(absolute);
      info = await stat(absolute);
    }
    if (!info) throw new NotFoundError(`${name}: no such directory`);
    if (!info.isDirectory()) throw new FerryError(ERR_LAYOUT_INVALID, `${name}: not a directory`);
    const root = await realpath(absolute);
    // Under the lock, so that two opens in one process cannot both find index.json missing.
    await withLock(root, async () => {
      const hasLayoutFile = await checkLayoutFile(root, name);
      const hasIndex = (await readLayoutIndex(root, name)) !== undefined;
      if ((!hasLayoutFile || !hasIndex) && !create) {
        const missing = hasLayoutFile ? INDEX_FILE : LAYOUT_FILE;
        throw new FerryError(
          ERR_LAYOUT_INVALID,
          `${name} is not an OCI image layout: no ${missing}`,
        );
      }
      // Like ORAS, any directory becomes a layout by adding the two files; nothing is removed.
      // Exclusive: another process initialising the same directory at once keeps its file.
      const exclusive = { exclusive: true };
      if (!hasLayoutFile) {
        await writeFileAtomic(join(root, LAYOUT_FILE), LAYOUT_FILE_CONTENT, exclusive);
      }
      if (!hasIndex) {
        await writeFileAtomic(join(root, INDEX_FILE), EMPTY_INDEX_CONTENT, exclusive);
      }
      if (create) await mkdir(join(root, 'blobs'), { recursive: true });
    });
    return new OciLayoutTarget(dir, root);
  }

  async fetch(descriptor: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    const path = this.#blobPath(descriptor.digest);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw this.#notFound(`blob ${descriptor.digest}`, error);
      throw error;
    }
    const file = handle.createReadStream(readOptions(descriptor.size));
    if (options.signal) addAbortSignal(options.signal, file);
    // Verified while streaming: the consumer gets an error instead of an end if the file on disk
    // does not match the descriptor.
    const verify = new DigestTransform({
      expectedDigest: descriptor.digest,
      expectedSize: descriptor.size,
      subject: `${descriptor.digest} in ${this.name}`,
    });
    const { onProgress } = options;
    const stages = onProgress ? [file, progress(onProgress), verify] : [file, verify];
    // Errors reach the consumer through `verify`, which pipeline destroys with them; an early
    // destroy by the consumer closes the file.
    pipelineCallback(stages, () => {});
    return verify;
  }

  async push(descriptor: Descriptor, content: Content, options: PushOptions = {}): Promise<void> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    const path = this.#blobPath(descriptor.digest);
    if (await isFile(path)) return; // content-addressed: the same digest is the same bytes
    await mkdir(dirname(path), { recursive: true });
    // Written beside its final name and renamed only once verified and synced, so that the final
    // path never holds a partial or wrong blob.
    const temp = tempPathFor(path);
    const handle = await open(temp, 'wx', 0o644);
    try {
      const source =
        typeof content === 'function'
          ? content()
          : Readable.from([Buffer.from(content.buffer, content.byteOffset, content.byteLength)]);
      await pipeline(
        source,
        new DigestTransform({
          expectedDigest: descriptor.digest,
          expectedSize: descriptor.size,
          subject: `${descriptor.digest} pushed to ${this.name}`,
        }),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            yield chunk;
            onProgress?.(chunk.byteLength); // resumed once the file stream took the chunk
          }
        },
        // The stream owns the handle and closes it before pipeline resolves.
        handle.createWriteStream(),
        { signal },
      );
      await durable.syncPath(temp);
      await durable.rename(temp, path);
    } catch (error) {
      // Already closed unless the pipeline never started; otherwise this waits for the stream
      // to let go of the file, so that the unlink below cannot race a late write.
      await handle.close();
      await removeQuietly(temp);
      throw error;
    }
    await syncDirectory(dirname(path));
  }

  async exists(descriptor: Descriptor, options: OperationOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    return isFile(this.#blobPath(descriptor.digest));
  }

  /** The size of `blobs/<algorithm>/<hex>`, or undefined when there is no such file. */
  async statBlob(digest: Digest, options: OperationOptions = {}): Promise<Descriptor | undefined> {
    options.signal?.throwIfAborted();
    const info = await statOrUndefined(this.#blobPath(digest));
    if (!info?.isFile()) return undefined;
    return { mediaType: MediaType.OctetStream, digest, size: info.size };
  }

  /** A tag (an `org.opencontainers.image.ref.name` in index.json) or a manifest's digest. */
  async resolve(reference: string, options: OperationOptions = {}): Promise<Descriptor> {
    options.signal?.throwIfAborted();
    const index = await this.#readIndex();
    if (isDigest(reference)) return this.#resolveDigest(reference, index, options);
    // The last entry wins, as in ORAS; ferry itself never writes a ref name twice.
    const entry = index.manifests.findLast((d) => refName(d) === reference);
    if (!entry) throw this.#notFound(`tag ${reference}`);
    return entry;
  }

  async tag(
    descriptor: Descriptor,
    reference: string,
    options: OperationOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    if (!isValidTag(reference)) {
      throw new InvalidReferenceError(
        reference,
        'not a valid tag: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"',
      );
    }
    // A tag on a layer would break every reader of the layout (skopeo, ORAS) that follows it.
    if (!isManifest(descriptor)) {
      throw new UnsupportedMediaTypeError(
        descriptor.mediaType,
        'only manifests and indexes are tagged',
      );
    }
    // Checked before writing, so that index.json never holds an entry that makes it unreadable.
    const entry = validateDescriptor(tagEntry(descriptor, reference), 'descriptor');
    const path = this.#blobPath(entry.digest);
    await withLock(this.#root, async () => {
      const info = await statOrUndefined(path);
      if (!info?.isFile()) throw this.#notFound(`manifest ${entry.digest}`);
      if (info.size !== entry.size) {
        throw new FerryError(
          ErrorCode.SizeMismatch,
          `cannot tag ${reference}: ${entry.digest} in ${this.name} is ${info.size} bytes, not ${entry.size}`,
        );
      }
      const index = await this.#readIndex();
      // Replace, as skopeo and ORAS do: the old entry goes, the new one is appended.
      const kept = index.manifests.filter((d) => refName(d) !== reference);
      await this.#writeIndex(index, [...kept, entry]);
    });
  }

  /**
   * Manifests whose `subject` is `subject`, found by scanning every blob that could be a manifest
   * (not only those in index.json: referrers are seldom tagged). Sorted by digest.
   */
  async referrers(subject: Descriptor, options: ReferrersOptions = {}): Promise<Descriptor[]> {
    return scanReferrers(join(this.#root, 'blobs'), subject.digest, options);
  }

  /** Ref names in index.json order, each once. */
  async tags(options: OperationOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    const index = await this.#readIndex();
    const names = index.manifests.map(refName).filter((name) => name !== undefined);
    return [...new Set(names)];
  }

  /** Removes the index.json entries pointing at the blob, then the blob itself. */
  async delete(descriptor: Descriptor, options: OperationOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const path = this.#blobPath(descriptor.digest);
    await withLock(this.#root, async () => {
      const index = await this.#readIndex();
      const kept = index.manifests.filter((d) => d.digest !== descriptor.digest);
      const untagged = kept.length !== index.manifests.length;
      // Index first: a crash in between leaves an unreferenced blob, never a dangling tag.
      if (untagged) await this.#writeIndex(index, kept);
      try {
        await unlink(path);
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
        if (!untagged) throw this.#notFound(`blob ${descriptor.digest}`, error);
      }
    });
  }

  #blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest); // also refuses `../` and other path tricks
    return join(this.#root, 'blobs', algorithm, hex);
  }

  #notFound(what: string, cause?: unknown): FerryError {
    return new NotFoundError(`${what} not found in ${this.name}`, { cause });
  }

  async #readIndex(): Promise<LayoutIndex> {
    const index = await readLayoutIndex(this.#root, this.name);
    if (!index) throw new FerryError(ERR_LAYOUT_INVALID, `${this.name}: ${INDEX_FILE} is missing`);
    return index;
  }

  /** Callers hold the lock: the read-modify-write must not interleave with another. */
  async #writeIndex(index: LayoutIndex, manifests: Descriptor[]): Promise<void> {
    await writeFileAtomic(join(this.#root, INDEX_FILE), serialiseIndex(index, manifests));
  }

  async #resolveDigest(
    digest: Digest,
    index: LayoutIndex,
    options: OperationOptions,
  ): Promise<Descriptor> {
    const info = await statOrUndefined(this.#blobPath(digest));
    if (!info?.isFile()) throw this.#notFound(`manifest ${digest}`);
    const listed = index.manifests.find((d) => d.digest === digest && isManifest(d));
    if (listed) return { mediaType: listed.mediaType, digest, size: info.size };
    const notManifest = (why: string, cause?: unknown): FerryError =>
      new NotFoundError(`${digest} in ${this.name} is not a manifest: ${why}`, { cause });
    if (info.size > MANIFEST_SIZE_LIMIT) throw notManifest(`${info.size} bytes`);
    const blob = { mediaType: MediaType.OctetStream, digest, size: info.size };
    const bytes = await readAll(await this.fetch(blob, options), MANIFEST_SIZE_LIMIT);
    try {
      return { mediaType: parseManifest(bytes).mediaType, digest, size: info.size };
    } catch (error) {
      if (error instanceof FerryError) throw notManifest(error.message, error);
      throw error;
    }
  }
}

function progress(onProgress: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onProgress(chunk.byteLength);
      callback(null, chunk);
    },
  });
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
    throw error;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrUndefined(path))?.isFile() ?? false;
}
