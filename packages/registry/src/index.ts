// @ferry/registry: a distribution-spec client on undici. `new Registry(host, options)
// .repository(name)` gives blobs, manifests, tags and referrers; authentication, retries,
// redirects, resumable downloads and chunked uploads happen underneath — and stay there: the
// transport, the authenticator, challenge parsing, upload chunking and paging are internal.
// src/public-surface.test.ts pins this list.

// The client: a registry, its repositories, and their blob and manifest stores.
export { Registry, isLoopbackHost, type RegistryOptions } from './registry.js';
export { Repository } from './repository.js';
export { BlobStore } from './blobs.js';
export { ManifestStore, type ManifestResponse } from './manifests.js';
export type { ResolveRule } from './resolve.js';
export type { RetryPolicy } from './transport.js';
export type { PageOptions } from './paging.js';

// Blob transfers: what a download, an upload and a ranged (parallel, resumable) download take
// and give back; the size from which a download goes in parallel ranges by default.
export type { BlobDownload, DownloadStats, FetchBlobOptions } from './blob-download.js';
export type { DownloadIntoFileOptions } from './blob-file-download.js';
export type { BlobSource, PushBlobOptions, PushBlobResult } from './blob-upload.js';
export type { StreamingUploadOptions } from './blob-upload-streaming.js';
export {
  DEFAULT_PARALLEL_DOWNLOADS,
  DEFAULT_PARALLEL_THRESHOLD,
  type RangedDownloadOptions,
  type RangedDownloadResult,
} from './ranged-download.js';

// Referrers: the request's options, and the `<alg>-<hex>` fallback tag of the tag schema.
export { referrersTag, type ReferrersRequestOptions } from './referrers.js';

// Errors: an HTTP failure with the registry's error body; the client's codes.
export {
  NetworkError,
  RegistryError,
  RegistryErrorCode,
  type DistributionError,
  type RegistryResourceKind,
} from './errors.js';

// Files: the directories a user names, made level by level (Node 20's recursive mkdir never
// settles under /proc); shared with @ferry/artifact, its users and the CLI.
export { makeDirectory, type MakeDirectoryOptions } from './make-directory.js';
// Files: fdatasync in the background as a download writes, so that its final fsync flushes only
// the tail; the ranged download and @ferry/artifact's cache writer share it.
export { BackgroundSync, DEFAULT_SYNC_EVERY } from './background-sync.js';

// Credentials: Docker's config.json, its credential stores and helpers, as a provider.
export type { CredentialProvider } from './auth.js';
export {
  CredentialErrorCode,
  credentialProvider,
  CredentialStore,
  type Credential,
  type CredentialStoreOptions,
  type HelperAction,
  type HelperResult,
  type HelperRunner,
} from './credentials/index.js';
