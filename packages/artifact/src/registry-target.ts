import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { MANIFEST_SIZE_LIMIT, MediaType, type Descriptor, type Digest } from '@ferry/oci';
import {
  DEFAULT_PARALLEL_DOWNLOADS,
  DEFAULT_PARALLEL_THRESHOLD,
  isLoopbackHost,
  type Registry,
  type Repository,
} from '@ferry/registry';
import { isManifest, readAll } from './content.js';
import type {
  Content,
  FetchedManifest,
  FetchOptions,
  FileDownload,
  Named,
  OperationOptions,
  PushOptions,
  ReferrersOptions,
  ReferenceFetcher,
  StreamingOutcome,
  StreamingPushOptions,
  Target,
} from './target.js';

export interface RegistryTargetOptions {
  /**
   * Byte ranges of one large blob fetched at once by {@link RegistryTarget.downloadToFile}; 1
   * turns parallel downloads off. Default {@link DEFAULT_PARALLEL_DOWNLOADS}, except 1 for a
   * registry on this machine (localhost, 127.0.0.0/8, ::1): no CDN caps its connections, and
   * the ranges only cost CPU there (1 GiB from registry:2 on loopback, loaded machine: the same
   * wall time within noise, 5.6 s CPU against 4.7 s for one stream; BENCHMARKS.md, issue 17).
   */
  parallel?: number | undefined;
  /** Blobs at least this large are fetched in parallel ranges. Default 64 MiB. */
  parallelThreshold?: number | undefined;
}

/** A repository of a registry as a {@link Target}: blobs and manifests by descriptor, tags, referrers. */
export class RegistryTarget implements Target, ReferenceFetcher {
  /** Downloads from a registry can start at an offset (HTTP Range). */
  readonly resumable = true;
  readonly registry: Registry;
  readonly repository: Repository;
  readonly name: string;
  /**
   * Manifests pushed by digest a moment ago, so that tagging one does not fetch it back. Bounded:
   * a copy pushes the root last and tags it right after.
   */
  readonly #recent = new Map<string, Uint8Array>();
  readonly #parallel: number;
  readonly #parallelThreshold: number;
  /** Set once the registry answered a Range request with the whole blob: no more probes. */
  #rangesIgnored = false;

  constructor(
    registry: Registry,
    repository: string | Repository,
    options: RegistryTargetOptions = {},
  ) {
    this.registry = registry;
    this.#parallel =
      options.parallel ?? (isLoopbackHost(registry.host) ? 1 : DEFAULT_PARALLEL_DOWNLOADS);
    this.#parallelThreshold = options.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD;
    this.repository = typeof repository === 'string' ? registry.repository(repository) : repository;
    this.name = `${registry.host}/${this.repository.name}`;
  }

  async fetch(descriptor: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    if (isManifest(descriptor)) {
      const { bytes } = await this.repository.manifests.fetch(descriptor.digest, options.signal);
      options.onProgress?.(bytes.byteLength);
      return Readable.from([bytes]);
    }
    return this.repository.blobs.fetch(descriptor, {
      signal: options.signal,
      onProgress: options.onProgress,
      resume: options.resume,
    });
  }

  /**
   * A small blob whole and verified, without a stream per blob (see
   * `BlobStore.fetchBytes`): what the download cache and unpack use for files under 256 KiB.
   */
  async fetchBytes(descriptor: Descriptor, options: FetchOptions = {}): Promise<Buffer> {
    if (isManifest(descriptor)) {
      return readAll(await this.fetch(descriptor, options), MANIFEST_SIZE_LIMIT);
    }
    return this.repository.blobs.fetchBytes(descriptor, {
      signal: options.signal,
      onProgress: options.onProgress,
      limit: descriptor.size,
    });
  }

  async downloadIntoFile(
    descriptor: Descriptor,
    handle: FileHandle,
    options: FetchOptions & { syncEvery?: number | undefined } = {},
  ): Promise<void> {
    await this.repository.blobs.downloadIntoFile(descriptor, handle, {
      signal: options.signal,
      onProgress: options.onProgress,
      resume: options.resume,
      syncEvery: options.syncEvery,
    });
  }

  /** True when {@link downloadToFile} would fetch `descriptor` in parallel ranges. */
  downloadsInParallel(descriptor: Descriptor): boolean {
    return (
      this.#parallel > 1 &&
      !this.#rangesIgnored &&
      descriptor.size >= this.#parallelThreshold &&
      !isManifest(descriptor)
    );
  }

  async downloadToFile(
    descriptor: Descriptor,
    path: string,
    options: FetchOptions = {},
  ): Promise<FileDownload | undefined> {
    if (!this.downloadsInParallel(descriptor)) return undefined;
    const result = await this.repository.blobs.downloadToFile(descriptor, path, {
      parallel: this.#parallel,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    if (!result.ranged) {
      this.#rangesIgnored = true;
      return undefined;
    }
    return { resumedBytes: result.resumedBytes, fetchedBytes: result.fetchedBytes };
  }

  async push(descriptor: Descriptor, content: Content, options: PushOptions = {}): Promise<void> {
    if (isManifest(descriptor)) {
      const bytes =
        content instanceof Uint8Array ? content : await readAll(content(), MANIFEST_SIZE_LIMIT);
      await this.repository.manifests.push(
        descriptor.digest,
        bytes,
        descriptor.mediaType,
        options.signal,
      );
      this.#remember(descriptor.digest, bytes);
      options.onProgress?.(bytes.byteLength);
      return;
    }
    await this.repository.blobs.push(
      content,
      { digest: descriptor.digest, size: descriptor.size },
      { signal: options.signal, onProgress: options.onProgress, skipExistsCheck: true },
    );
  }

  async pushWhileHashing(
    open: () => Readable,
    size: number,
    digest: Promise<Digest>,
    options: StreamingPushOptions = {},
  ): Promise<StreamingOutcome> {
    const result = await this.repository.blobs.pushWhileHashing(open, size, digest, {
      signal: options.signal,
      onProgress: options.onProgress,
      holdUntilKnown: options.holdUntilKnown,
      file: options.file,
    });
    return result.outcome;
  }

  async pushTagged(
    descriptor: Descriptor,
    content: Uint8Array,
    tag: string,
    options: PushOptions = {},
  ): Promise<void> {
    await this.repository.manifests.push(tag, content, descriptor.mediaType, options.signal);
    this.#remember(descriptor.digest, content);
  }

  async exists(descriptor: Descriptor, options: OperationOptions = {}): Promise<boolean> {
    return isManifest(descriptor)
      ? this.repository.manifests.exists(descriptor.digest, options.signal)
      : this.repository.blobs.exists(descriptor.digest, options.signal);
  }

  /** `HEAD /blobs/<digest>`: the blob's size from Content-Length, or undefined on 404. */
  async statBlob(digest: Digest, options: OperationOptions = {}): Promise<Descriptor | undefined> {
    const found = await this.repository.blobs.stat(digest, options.signal);
    // A registry that sends no usable Content-Length has not told us the size.
    if (!found || found.size < 0) return undefined;
    return { mediaType: MediaType.OctetStream, digest, size: found.size };
  }

  /** One `GET /manifests/<reference>`: the bytes, checked against the digest the registry sends. */
  async fetchReference(
    reference: string,
    options: OperationOptions = {},
  ): Promise<FetchedManifest> {
    return this.repository.manifests.fetch(reference, options.signal);
  }

  async resolve(reference: string, options: OperationOptions = {}): Promise<Descriptor> {
    return this.repository.manifests.resolve(reference, options.signal);
  }

  async tag(
    descriptor: Descriptor,
    reference: string,
    options: OperationOptions = {},
  ): Promise<void> {
    const recent = this.#recent.get(descriptor.digest);
    const bytes =
      recent ?? (await this.repository.manifests.fetch(descriptor.digest, options.signal)).bytes;
    await this.repository.manifests.push(reference, bytes, descriptor.mediaType, options.signal);
  }

  async referrers(subject: Descriptor, options: ReferrersOptions = {}): Promise<Descriptor[]> {
    return this.repository.referrers(subject.digest, options);
  }

  async tags(options: OperationOptions = {}): Promise<string[]> {
    return this.repository.tags({ signal: options.signal });
  }

  async mount(
    descriptor: Descriptor,
    source: Named,
    options: OperationOptions = {},
  ): Promise<boolean> {
    if (
      !(source instanceof RegistryTarget) ||
      source.registry.host !== this.registry.host ||
      source.repository.name === this.repository.name ||
      isManifest(descriptor)
    ) {
      return false;
    }
    return this.repository.blobs.mount(descriptor.digest, source.repository.name, options.signal);
  }

  async delete(descriptor: Descriptor, options: OperationOptions = {}): Promise<void> {
    if (isManifest(descriptor))
      await this.repository.manifests.delete(descriptor.digest, options.signal);
    else await this.repository.blobs.delete(descriptor.digest, options.signal);
  }

  #remember(digest: string, bytes: Uint8Array): void {
    this.#recent.set(digest, bytes);
    while (this.#recent.size > 16) this.#recent.delete(this.#recent.keys().next().value as string);
  }
}
