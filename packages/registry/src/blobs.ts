import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Digester, FerryError, parseDigest, type Descriptor, type Digest } from '@ferry/oci';
import {
  downloadBlob,
  downloadBlobBytes,
  type BlobDownload,
  type DownloadStats,
  type FetchBlobOptions,
} from './blob-download.js';
import { downloadBlobIntoFile, type DownloadIntoFileOptions } from './blob-file-download.js';
import {
  pushBlob,
  type BlobSource,
  type PushBlobOptions,
  type PushBlobResult,
} from './blob-upload.js';
import { pushBlobWhileHashing, type StreamingUploadOptions } from './blob-upload-streaming.js';
import { RegistryErrorCode } from './errors.js';
import {
  downloadRanges,
  type RangedDownloadOptions,
  type RangedDownloadResult,
} from './ranged-download.js';
import { discard, readBytes, responseError, type Transport } from './transport.js';

export interface BlobStoreContext {
  transport: Transport;
  repositoryUrl: URL;
  name: string;
  chunkSize: number;
  monolithicThreshold: number;
}

/** `/v2/<name>/blobs/…`: content-addressed bytes. Every read is verified against its digest. */
export class BlobStore {
  readonly #context: BlobStoreContext;

  constructor(context: BlobStoreContext) {
    this.#context = context;
  }

  #url(digest: string): URL {
    parseDigest(digest);
    return new URL(`blobs/${digest}`, this.#context.repositoryUrl);
  }

  #pull(): string[] {
    return [`repository:${this.#context.name}:pull`];
  }

  /** `HEAD`: the blob's size when the registry has it, else undefined. */
  async stat(
    digest: Digest,
    signal?: AbortSignal,
  ): Promise<{ digest: Digest; size: number } | undefined> {
    const response = await this.#context.transport.send({
      method: 'HEAD',
      url: this.#url(digest),
      scopes: this.#pull(),
      signal,
    });
    await discard(response);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw await responseError(response, 'HEAD');
    const size = Number(response.headers['content-length']);
    return { digest, size: Number.isSafeInteger(size) ? size : -1 };
  }

  async exists(digest: Digest, signal?: AbortSignal): Promise<boolean> {
    return (await this.stat(digest, signal)) !== undefined;
  }

  /**
   * Streams a blob, verifying size and digest as it goes; the stream errors (and the consumer
   * must discard what it wrote) if the bytes are not the ones described. Broken connections are
   * resumed with Range.
   */
  fetch(descriptor: Pick<Descriptor, 'digest' | 'size'>, options?: FetchBlobOptions): Readable {
    return this.download(descriptor, options).stream;
  }

  /** {@link fetch}, with statistics about resumes and bytes fetched twice. */
  download(
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    options?: FetchBlobOptions,
  ): BlobDownload {
    return downloadBlob(
      this.#context.transport,
      this.#url(descriptor.digest),
      this.#pull(),
      descriptor,
      options,
    );
  }

  /**
   * Downloads a blob into an open file from the resume offset on (see
   * {@link downloadBlobIntoFile}): verified, resumed with Range after a break, and synced in the
   * background every `syncEvery` bytes. The caller fsyncs and closes the file.
   */
  downloadIntoFile(
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    handle: FileHandle,
    options?: DownloadIntoFileOptions,
  ): Promise<DownloadStats> {
    return downloadBlobIntoFile(
      this.#context.transport,
      this.#url(descriptor.digest),
      this.#pull(),
      descriptor,
      handle,
      options,
    );
  }

  /**
   * Downloads a large blob into the file at `path` by several byte ranges at once (see
   * {@link downloadRanges}), resuming what an earlier run left there. `ranged: false` in the
   * result means the registry ignores Range: the caller streams the rest with {@link download}.
   */
  downloadToFile(
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    path: string,
    options?: RangedDownloadOptions,
  ): Promise<RangedDownloadResult> {
    return downloadRanges(
      this.#context.transport,
      this.#url(descriptor.digest),
      this.#pull(),
      descriptor,
      path,
      options,
    );
  }

  /**
   * Fetches a small blob (a config, a small file) whole, verified. Refuses anything over `limit`
   * bytes (default 4 MiB).
   */
  async fetchBytes(
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    options: {
      signal?: AbortSignal | undefined;
      limit?: number;
      onProgress?: ((bytes: number) => void) | undefined;
    } = {},
  ): Promise<Buffer> {
    const limit = options.limit ?? 4 * 1024 * 1024;
    if (descriptor.size > limit) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `blob ${descriptor.digest} is ${descriptor.size} bytes, over the ${limit}-byte limit for reading it whole`,
      );
    }
    return downloadBlobBytes(
      this.#context.transport,
      this.#url(descriptor.digest),
      this.#pull(),
      descriptor,
      options,
    );
  }

  /**
   * Uploads a blob unless the registry has it. With a known digest and size the existence check
   * and mount come first; without them the content is hashed while it is sent.
   */
  async push(
    source: BlobSource,
    expected: { digest?: Digest | undefined; size?: number | undefined } = {},
    options?: PushBlobOptions,
  ): Promise<PushBlobResult> {
    return pushBlob(
      { ...this.#context, exists: (digest, signal) => this.exists(digest, signal) },
      source,
      expected,
      options,
    );
  }

  /**
   * Uploads `size` bytes while their digest is computed elsewhere (see
   * {@link pushBlobWhileHashing}): the transfer overlaps the hash pass, and stops early when
   * the digest shows the registry has the blob.
   */
  async pushWhileHashing(
    open: () => Readable,
    size: number,
    digest: Promise<Digest>,
    options?: StreamingUploadOptions,
  ): Promise<PushBlobResult> {
    return pushBlobWhileHashing(
      { ...this.#context, exists: (known, signal) => this.exists(known, signal) },
      open,
      size,
      digest,
      options,
    );
  }

  /** Mounts a blob from another repository of the same registry; uploads nothing. */
  async mount(digest: Digest, fromRepository: string, signal?: AbortSignal): Promise<boolean> {
    const url = new URL('blobs/uploads/', this.#context.repositoryUrl);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', fromRepository);
    const response = await this.#context.transport.send({
      method: 'POST',
      url,
      scopes: [`repository:${this.#context.name}:pull,push`, `repository:${fromRepository}:pull`],
      signal,
    });
    if (response.status === 201) {
      await discard(response);
      return true;
    }
    if (response.status === 202) {
      // The registry opened an ordinary upload instead: cancel it, the caller will upload.
      await discard(response);
      const location = response.headers.location;
      if (typeof location === 'string') {
        const cancel = await this.#context.transport.send({
          method: 'DELETE',
          url: new URL(location, this.#context.repositoryUrl),
          // registry:2 authorises every DELETE, upload cancels included, by the delete action.
          scopes: [`repository:${this.#context.name}:delete`],
          retry: false,
        });
        await discard(cancel);
      }
      return false;
    }
    throw await responseError(response, 'POST');
  }

  async delete(digest: Digest, signal?: AbortSignal): Promise<void> {
    const response = await this.#context.transport.send({
      method: 'DELETE',
      url: this.#url(digest),
      scopes: [`repository:${this.#context.name}:delete`],
      signal,
    });
    if (response.status !== 202 && response.status !== 200)
      throw await responseError(response, 'DELETE');
    await discard(response);
  }
}

/** Reads a small verified body; shared by manifests and referrers. */
export async function readVerified(
  body: Parameters<typeof readBytes>[0],
  limit: number,
  expected?: Digest,
): Promise<{ bytes: Buffer; digest: Digest }> {
  const bytes = await readBytes(body, limit);
  const digester = new Digester(expected ? parseDigest(expected).algorithm : 'sha256');
  digester.update(bytes);
  return { bytes, digest: digester.digest() };
}
