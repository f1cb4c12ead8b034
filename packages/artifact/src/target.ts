/**
 * Where artifacts live: a registry repository or an OCI image-layout directory. Small capability
 * interfaces in the manner of oras-go's content package, kept apart from HTTP, so that `copy`,
 * `push` and `pull` work the same against either.
 */
import type { Readable } from 'node:stream';
import type { Descriptor, Digest, Digester } from '@ferry/oci';

export interface OperationOptions {
  signal?: AbortSignal | undefined;
}

/** Bytes in memory, or a factory that opens the content (again, if a retry needs it). */
export type Content = Uint8Array | (() => Readable);

export interface FetchOptions extends OperationOptions {
  /** Called with the number of new bytes delivered. */
  onProgress?: ((bytes: number) => void) | undefined;
  /**
   * Continue a download: the caller holds bytes [0, offset) and a digester that has hashed them;
   * the stream then yields only the rest, and still verifies the whole blob. Only targets with
   * `resumable: true` (registries) are asked to.
   */
  resume?: { offset: number; digester: Digester } | undefined;
}

export interface PushOptions extends OperationOptions {
  onProgress?: ((bytes: number) => void) | undefined;
}

/** What {@link Fetcher.downloadToFile} did. */
export interface FileDownload {
  /** Bytes that were on disk from an earlier, interrupted run. */
  resumedBytes: number;
  /** Bytes fetched over the network. */
  fetchedBytes: number;
}

/** Reads content by descriptor. The stream errors unless the bytes match size and digest. */
export interface Fetcher {
  fetch(descriptor: Descriptor, options?: FetchOptions): Promise<Readable>;
  /**
   * Optional: writes the verified content to `path` (which must not exist) without passing it
   * through the caller, e.g. a kernel copy out of a cache that already checked the digest.
   */
  copyTo?(descriptor: Descriptor, path: string, options?: FetchOptions): Promise<void>;
  /**
   * Optional: downloads a large blob into the partial file `path` over several connections at
   * once, resuming what an earlier run left there, and resolves once the file is verified and
   * fsync'ed. Resolves undefined when it will not (a small blob, parallel downloads off, a
   * server that ignores Range), leaving at `path` only a valid prefix that `fetch` with `resume`
   * can continue.
   */
  downloadToFile?(
    descriptor: Descriptor,
    path: string,
    options?: FetchOptions,
  ): Promise<FileDownload | undefined>;
}

/** Stores content under its descriptor; refuses content that does not match it. */
export interface Pusher {
  push(descriptor: Descriptor, content: Content, options?: PushOptions): Promise<void>;
}

/** What an upload started before its digest was known came to. */
export type StreamingOutcome = 'exists' | 'uploaded' | 'mounted';

/**
 * Optional: stores `size` bytes from `open` while their digest is still being computed (a
 * registry streams them and closes the upload with the digest). Stops early, answering
 * `exists`, when the digest shows the target holds the blob.
 */
export interface StreamingPusher {
  pushWhileHashing(
    open: () => Readable,
    size: number,
    digest: Promise<Digest>,
    options?: PushOptions,
  ): Promise<StreamingOutcome>;
}

export interface Storage extends Fetcher, Pusher {
  exists(descriptor: Descriptor, options?: OperationOptions): Promise<boolean>;
}

/** Maps a tag (or a digest) to the descriptor of a manifest. */
export interface Resolver {
  resolve(reference: string, options?: OperationOptions): Promise<Descriptor>;
}

/** Points a tag at a manifest the target already holds. */
export interface Tagger {
  tag(descriptor: Descriptor, reference: string, options?: OperationOptions): Promise<void>;
}

export interface ReferrersOptions extends OperationOptions {
  artifactType?: string | undefined;
}

export interface Target extends Storage, Resolver, Tagger, Partial<StreamingPusher> {
  /** How the target is named to users: `localhost:5000/a/b` or `oci-layout:./dir`. */
  readonly name: string;
  /** True when `fetch` honours `resume` (remote targets; a local layout needs no cache). */
  readonly resumable?: boolean;
  /** Manifests whose `subject` is the given manifest. */
  referrers(subject: Descriptor, options?: ReferrersOptions): Promise<Descriptor[]>;
  /** Every tag, in the target's order. */
  tags(options?: OperationOptions): Promise<string[]>;
  /**
   * Makes a blob of `source` (the same registry) appear here without sending its bytes; false
   * when the target cannot, and the caller copies instead.
   */
  mount?(descriptor: Descriptor, source: Target, options?: OperationOptions): Promise<boolean>;
  /**
   * Pushes a manifest and points `tag` at it in one step, where the target can (a registry's
   * `PUT /manifests/<tag>`); otherwise callers push by digest and then tag.
   */
  pushTagged?(
    descriptor: Descriptor,
    content: Uint8Array,
    tag: string,
    options?: PushOptions,
  ): Promise<void>;
  /** Deletes a manifest or blob, where the target allows it. */
  delete?(descriptor: Descriptor, options?: OperationOptions): Promise<void>;
}
