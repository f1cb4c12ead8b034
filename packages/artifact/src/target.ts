/**
 * Where artifacts live: a registry repository or an OCI image-layout directory. Small capability
 * interfaces in the manner of oras-go's content package, kept apart from HTTP, so that `copy`,
 * `push` and `pull` work the same against either.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Descriptor, Digest, Digester, ParsedManifest } from '@ferry/oci';

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

/** What {@link FileDownloader.downloadToFile} did. */
export interface FileDownload {
  /** Bytes that were on disk from an earlier, interrupted run. */
  resumedBytes: number;
  /** Bytes fetched over the network. */
  fetchedBytes: number;
}

// Each interface below is one capability, in the manner of oras-go's `content` and `registry`
// packages (content/storage.go, content/graph.go, registry/repository.go): functions ask for the
// few they use (`copy` reads its source through a ReadOnlyTarget), and a capability only some
// targets have (mount, push by tag, delete, streaming push, file copies) is tested with its
// `can…` guard below instead of a cast.

/** How a target is named to users: `localhost:5000/a/b`, `oci-layout:./dir`, `memory:x`. */
export interface Named {
  readonly name: string;
}

/**
 * Reads content by descriptor. The stream errors unless the bytes match size and digest. Some
 * fetchers can also write content straight to files: {@link FileCopier} and
 * {@link FileDownloader}, asked with {@link canCopyTo} and {@link canDownloadToFile}.
 */
export interface Fetcher {
  fetch(descriptor: Descriptor, options?: FetchOptions): Promise<Readable>;
}

/** Says whether content is present. */
export interface ExistenceChecker {
  exists(descriptor: Descriptor, options?: OperationOptions): Promise<boolean>;
}

/** Fetch and exists: what a reader of a graph needs (oras-go `content.ReadOnlyStorage`). */
export interface ReadOnlyStorage extends Fetcher, ExistenceChecker {}

/** Stores content under its descriptor; refuses content that does not match it. */
export interface Pusher {
  push(descriptor: Descriptor, content: Content, options?: PushOptions): Promise<void>;
}

/** Reads and stores content by descriptor (oras-go `content.Storage`). */
export interface Storage extends ReadOnlyStorage, Pusher {}

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

/** Lists the manifests whose `subject` is a given manifest (oras-go `registry.ReferrerLister`). */
export interface ReferrerLister {
  referrers(subject: Descriptor, options?: ReferrersOptions): Promise<Descriptor[]>;
}

/** Lists every tag, in the target's order (oras-go `registry.TagLister`). */
export interface TagLister {
  tags(options?: OperationOptions): Promise<string[]>;
}

/** What `copy` reads from its source: content, references, and (for `cp -r`) referrers. */
export interface ReadOnlyTarget extends Named, ReadOnlyStorage, Resolver {}

/** A read-only target that can also list referrers (oras-go `ReadOnlyGraphTarget`). */
export interface ReadOnlyGraphTarget extends ReadOnlyTarget, ReferrerLister {}

/**
 * What `copy` and the push sequence write to: content, and tags once the content is there
 * (oras-go `oras.Target`).
 */
export interface WritableTarget extends Named, Storage, Resolver, Tagger {}

/** What an upload started before its digest was known came to. */
export type StreamingOutcome = 'exists' | 'uploaded' | 'mounted';

export interface StreamingPushOptions extends PushOptions {
  /**
   * True (or a promise of true) when the target probably holds the blob already: then nothing is
   * sent until the digest is known and the target said it lacks the blob, so that no upload
   * competes with the hash for CPU only to be thrown away.
   */
  holdUntilKnown?: boolean | Promise<boolean> | undefined;
  /**
   * The file `open` reads, to its end: a target may read it itself into buffers of its own
   * instead of through the stream (a registry's bulk upload; see @ferry/registry).
   */
  file?: string | undefined;
}

/**
 * Stores `size` bytes from `open` while their digest is still being computed (a registry streams
 * them and closes the upload with the digest). Stops early, answering `exists`, when the digest
 * shows the target holds the blob.
 */
export interface StreamingPusher {
  pushWhileHashing(
    open: () => Readable,
    size: number,
    digest: Promise<Digest>,
    options?: StreamingPushOptions,
  ): Promise<StreamingOutcome>;
}

/**
 * Makes a blob of `source` (the same registry) appear here without sending its bytes; false
 * when it cannot, and the caller copies instead (oras-go `registry.Mounter`).
 */
export interface Mounter {
  mount(descriptor: Descriptor, source: Named, options?: OperationOptions): Promise<boolean>;
}

/**
 * Pushes a manifest and points `tag` at it in one step (a registry's `PUT /manifests/<tag>`;
 * oras-go `registry.ReferencePusher`); other targets push by digest and then tag.
 */
export interface TaggedPusher {
  pushTagged(
    descriptor: Descriptor,
    content: Uint8Array,
    tag: string,
    options?: PushOptions,
  ): Promise<void>;
}

/** A manifest's exact bytes, verified against its digest, and what they parse to. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  parsed: ParsedManifest;
}

/**
 * Fetches the manifest a tag or digest names in one request (a registry's
 * `GET /manifests/<reference>`; oras-go `registry.ReferenceFetcher`) where other targets resolve
 * and then fetch. The bytes are verified against the digest asked for, or the one the target
 * declares.
 */
export interface ReferenceFetcher {
  fetchReference(reference: string, options?: OperationOptions): Promise<FetchedManifest>;
}

/** Deletes a manifest or blob (oras-go `content.Deleter`). */
export interface Deleter {
  delete(descriptor: Descriptor, options?: OperationOptions): Promise<void>;
}

/**
 * Writes the verified content to `path` (which must not exist) without passing it through the
 * caller, e.g. a kernel copy out of a cache that already checked the digest.
 */
export interface FileCopier {
  copyTo(descriptor: Descriptor, path: string, options?: FetchOptions): Promise<void>;
}

/**
 * Hands over a small blob whole, verified against its descriptor, without a stream per blob
 * (a registry answers one GET): cheaper than `fetch` for the many-small-files case.
 */
export interface BytesFetcher {
  fetchBytes(descriptor: Descriptor, options?: FetchOptions): Promise<Buffer>;
}

/**
 * Downloads a large blob into the partial file `path` over several connections at once,
 * resuming what an earlier run left there, and resolves once the file is verified and fsync'ed.
 * Resolves undefined when it will not (a small blob, parallel downloads off, a server that
 * ignores Range), leaving at `path` only a valid prefix that `fetch` with `resume` can continue.
 */
export interface FileDownloader {
  downloadToFile(
    descriptor: Descriptor,
    path: string,
    options?: FetchOptions,
  ): Promise<FileDownload | undefined>;
}

/**
 * Writes a blob into an open file from `resume.offset` (0 without it) on, verified against its
 * digest as `fetch`'s stream is and resumed the same way after a break, without a stream between
 * the network and the file; the file is synced in the background every `syncEvery` bytes. The
 * caller fsyncs and closes it. What the download cache uses for a large blob from a registry.
 */
export interface HandleDownloader {
  downloadIntoFile(
    descriptor: Descriptor,
    handle: FileHandle,
    options?: FetchOptions & { syncEvery?: number | undefined },
  ): Promise<void>;
}

/**
 * Looks a blob up by digest alone: its size as the target stores it, or undefined when it holds
 * no such blob (a registry's `HEAD /blobs/<digest>`, a layout's file, a map entry). For commands
 * that name a blob by digest (`blob fetch`, `blob delete`) and must learn its size first.
 */
export interface BlobStater {
  statBlob(digest: Digest, options?: OperationOptions): Promise<Descriptor | undefined>;
}

/**
 * Everything a registry repository or a layout directory offers: the capabilities every target
 * has, and (optional) those only some have. Functions should ask for less (see ReadOnlyTarget,
 * WritableTarget) and test optional members with the `can…` guards.
 */
export interface Target extends ReadOnlyGraphTarget, WritableTarget, TagLister {
  /** True when `fetch` honours `resume` (remote targets; a local layout needs no cache). */
  readonly resumable?: boolean;
}
