// @ferry/artifact: files ↔ OCI artifacts, the OCI image-layout store, and copying graphs of
// content between targets (registry repositories and layout directories).
export * from './content.js';
export * from './copy.js';
export * from './digest-cache.js';
export * from './eager-upload.js';
export * from './existence-checks.js';
export * from './oci-layout.js';
export * from './pack.js';
export * from './read-options.js';
export { RegistryTarget, type RegistryTargetOptions } from './registry-target.js';
export type * from './target.js';
export {
  canCopyTo,
  canDelete,
  canDownloadToFile,
  canMount,
  canPushTagged,
  canPushWhileHashing,
  canStatBlob,
} from './capabilities.js';
export { MemoryTarget } from './memory-target.js';
export { type CopyDestination } from './copy.js';
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
export * from './unpack.js';
export {
  applyDirectoryMetadata,
  archiveTime,
  ERR_EXPANSION_TOO_LARGE,
  EXPANSION_FLOOR,
  EXPANSION_RATIO,
  expansionLimit,
  extractTarGzip,
  type DirectoryMetadata,
} from './tar.js';
export { assertNoSymlinkEscape, resolveTitlePath, UNSAFE_ARCHIVE, UNSAFE_PATH } from './paths.js';
export * from './blob-cache.js';
export { cacheParallelDownloads } from './large-blob-cache.js';
export { digestFileOnWorker, offThreadHasher, WORKER_HASH_MIN_SIZE } from './digest-worker.js';
export { limit, limitBySize, LARGE_TRANSFER_MIN_SIZE } from './limit.js';
export { durable } from './durable.js';
export * from './index-builder.js';
export { archiveLayout, extractLayoutArchive } from './layout-archive.js';
