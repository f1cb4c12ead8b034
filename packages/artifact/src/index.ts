// @ferry/artifact: files ↔ OCI artifacts, the OCI image-layout store, and copying graphs of
// content between targets (registry repositories and layout directories). Every name below is
// public on purpose (src/public-surface.test.ts pins the list); size thresholds, worker hashing,
// tar limits and read tuning stay internal.

// Targets: the interfaces every store implements, and the two stores.
export type {
  BlobStater,
  BytesFetcher,
  Content,
  Deleter,
  ExistenceChecker,
  FileCopier,
  FileDownloader,
  HandleDownloader,
  Mounter,
  Named,
  ReadOnlyGraphTarget,
  ReadOnlyStorage,
  ReadOnlyTarget,
  ReferenceFetcher,
  ReferrerLister,
  TaggedPusher,
  TagLister,
  WritableTarget,
  FetchedManifest,
  FetchOptions,
  Fetcher,
  FileDownload,
  OperationOptions,
  PushOptions,
  Pusher,
  ReferrersOptions,
  Resolver,
  Storage,
  StreamingOutcome,
  StreamingPusher,
  StreamingPushOptions,
  Tagger,
  Target,
} from './target.js';
export { RegistryTarget, type RegistryTargetOptions } from './registry-target.js';
export { OciLayoutTarget, type OciLayoutOpenOptions } from './oci-layout.js';
export { MemoryTarget } from './memory-target.js';

// Capabilities only some targets have, asked with a guard instead of a cast.
export {
  canCopyTo,
  canDelete,
  canDownloadToFile,
  canDownloadIntoFile,
  canFetchBytes,
  canFetchReference,
  canMount,
  canPushTagged,
  canPushWhileHashing,
  canStatBlob,
} from './capabilities.js';

// The push sequence the CLI runs: existence checks, pools, eager uploads, manifest last, tags.
export {
  pushFiles,
  pushHasher,
  pushPacked,
  type PushDestination,
  type PushFilesOptions,
  type PushHasher,
  type PushHasherOptions,
  type PushPackedEvent,
  type PushPackedOptions,
} from './push-packed.js';
export { likelyPresentAt } from './likely-present.js';
export { archiveLayout, extractLayoutArchive } from './layout-archive.js';

// Reading content from any target: a manifest verified against its descriptor, bounded reads.
export { fetchManifest, fetchManifestByReference, readAll } from './content.js';

// Copying graphs between targets, and choosing a platform's manifest from an index.
export {
  copy,
  copyGraph,
  selectFromIndex,
  type CopyDestination,
  type CopyEvent,
  type CopyOptions,
} from './copy.js';

// Files → artifact: pack, the ORAS "unknown" media types, and the hashing pack relies on.
export {
  digestFile,
  MediaTypeUnknownArtifact,
  MediaTypeUnknownConfig,
  pack,
  type FileInput,
  type PackedArtifact,
  type PackedBlob,
  type PackOptions,
} from './pack.js';
export { encodeManifest } from './manifest-encoding.js';
export { DigestCache, type FileHasher } from './digest-cache.js';

// Artifact → files: unpack with its path guards, tar extraction for layers other packages read.
export { selectLayers, unpack, type UnpackedFile, type UnpackOptions } from './unpack.js';
export { globMatcher } from './glob.js';
export { assertNoSymlinkEscape, resolveTitlePath, UNSAFE_ARCHIVE, UNSAFE_PATH } from './paths.js';
export { applyDirectoryMetadata, extractTarGzip, type DirectoryMetadata } from './tar-extract.js';
export { ERR_EXPANSION_TOO_LARGE } from './tar-limits.js';
export { durable } from './durable.js';

// Image indexes: build and edit them the way ORAS does.
export {
  buildIndex,
  editIndex,
  goJson,
  resolveIndexSource,
  type BuiltIndex,
  type IndexEdit,
  type IndexFields,
  type IndexSource,
} from './index-builder.js';

// The download cache: verified, resumable, shared between targets.
export {
  BlobCache,
  CACHE_MOVE_MIN_SIZE,
  defaultCacheDir,
  ERR_CACHE_UNSAFE,
  type BlobCacheOptions,
  type CacheKeep,
  type CacheStats,
} from './blob-cache.js';
export { cachedTarget, cacheParallelDownloads } from './cache-adapters.js';

// Bounded concurrency, and the size from which a transfer counts as large for it.
export { LARGE_TRANSFER_MIN_SIZE, limit } from './limit.js';

// Errors: the codes artifact raises (shared ones come from @ferry/oci).
export { ArtifactErrorCode } from './errors.js';
