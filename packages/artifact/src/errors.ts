/**
 * The stable error codes @ferry/artifact adds to @ferry/oci's `ErrorCode` (whose shared codes —
 * ERR_NOT_FOUND, ERR_FILE_NOT_FOUND, ERR_FILE_EXISTS, ERR_INVALID_OPTIONS, the mismatches — it
 * reuses, never repeats). Codes @ferry/model raises too live here, the lower of the two packages.
 * Every error raised on purpose is a `FerryError` carrying a code from one of these tables.
 */
export const ArtifactErrorCode = {
  /** An index offers no manifest for the platform asked for. */
  PlatformNotFound: 'ERR_PLATFORM_NOT_FOUND',
  /** Two files or layers would have the same title (or one inside the other). */
  DuplicateTitle: 'ERR_DUPLICATE_TITLE',
  /** The download cache directory is a symlink or another user's. */
  CacheUnsafe: 'ERR_CACHE_UNSAFE',
  /** A cached blob kept disappearing while it was placed. */
  CacheChanged: 'ERR_CACHE_CHANGED',
  /** A directory or archive is not a valid OCI image layout. */
  LayoutInvalid: 'ERR_LAYOUT_INVALID',
  /** A file changed while it was packed or uploaded. */
  FileChanged: 'ERR_FILE_CHANGED',
  /** A file could not be read (other than not existing). */
  FileRead: 'ERR_FILE_READ',
  /** Content is larger than the limit for reading it whole. */
  ContentTooLarge: 'ERR_CONTENT_TOO_LARGE',
  /** A reference names something that is not the manifest the operation needs. */
  NotAManifest: 'ERR_NOT_A_MANIFEST',
  /** A file of a kind that cannot be packed (a socket, a device). */
  UnsupportedFile: 'ERR_UNSUPPORTED_FILE',
  /** An archive expands past its limit: a likely decompression bomb. */
  ExpansionTooLarge: 'ERR_EXPANSION_TOO_LARGE',
  /** A file title that would escape the output directory or is not portable. */
  UnsafePath: 'ERR_UNSAFE_PATH',
  /** An archive entry that would escape the output directory. */
  UnsafeArchive: 'ERR_UNSAFE_ARCHIVE',
  /** An annotation whose value the spec forbids. */
  InvalidAnnotation: 'ERR_INVALID_ANNOTATION',
} as const;

export type ArtifactErrorCode = (typeof ArtifactErrorCode)[keyof typeof ArtifactErrorCode];
