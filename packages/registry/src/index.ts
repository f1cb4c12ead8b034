// @ferry/registry: a distribution-spec client on undici. `new Registry(host, options)
// .repository(name)` gives blobs, manifests, tags and referrers; authentication, retries,
// redirects, resumable downloads and chunked uploads happen underneath.
export {
  Authenticator,
  mergeScopes,
  repositoryScope,
  type AuthenticatorOptions,
  type ChallengeContext,
  type CredentialProvider,
} from './auth.js';
export type { BlobDownload, DownloadStats, FetchBlobOptions } from './blob-download.js';
export {
  rechunk,
  withDigest,
  type BlobSource,
  type PushBlobOptions,
  type PushBlobResult,
} from './blob-upload.js';
export type { StreamingUploadOptions } from './blob-upload-streaming.js';
export { BlobStore } from './blobs.js';
export * from './challenge.js';
export * from './credentials/index.js';
export {
  NetworkError,
  parseErrorBody,
  redactUrl,
  RegistryError,
  RegistryErrorCode,
  type DistributionError,
  type RegistryResourceKind,
} from './errors.js';
export {
  DEFAULT_PARALLEL_DOWNLOADS,
  DEFAULT_PARALLEL_THRESHOLD,
  defaultRangeSize,
  downloadRanges,
  rangeStatePath,
  type RangedDownloadOptions,
  type RangedDownloadResult,
} from './ranged-download.js';
export { ManifestStore, type FetchedManifest } from './manifests.js';
export { MAX_LIST_ENTRIES, MAX_LIST_PAGES, type PageOptions } from './paging.js';
export {
  MAX_REFERRERS_PAGES,
  nextLink,
  referrerDescriptor,
  referrersTag,
  type ReferrersOptions,
} from './referrers.js';
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_THRESHOLD,
  DEFAULT_USER_AGENT,
  isLoopbackHost,
  Registry,
  type RegistryOptions,
} from './registry.js';
export { Repository } from './repository.js';
export type { ResolveRule } from './resolve.js';
export {
  DEFAULT_RETRY_POLICY,
  formatHeaders,
  parseRetryAfter,
  Transport,
  type HttpMethod,
  type RequestBody,
  type RetryPolicy,
  type TransportOptions,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';
