// @ferry/oci: the OCI vocabulary every other ferry package speaks. Pure: no I/O beyond hashing
// streams handed to it, and no runtime dependencies. Every name below is public on purpose
// (src/public-surface.test.ts pins the list); a module's other exports are internal.

// Media types, annotation keys, HTTP header names and the limits the spec sets.
export {
  Annotation,
  EMPTY_JSON_BYTES,
  EmptyJson,
  Header,
  ImageManifestMediaTypes,
  IndexMediaTypes,
  MANIFEST_SIZE_LIMIT,
  ManifestMediaTypes,
  MediaType,
  type KnownMediaType,
} from './constants.js';

// Descriptors, manifests, indexes and platforms as the image spec defines them.
export type {
  Annotations,
  Descriptor,
  ImageIndex,
  ImageManifest,
  OciLayoutFile,
  Platform,
} from './types.js';

// Digests: parse, compute, verify, and hash streams as they pass.
export {
  computeDigest,
  Digester,
  DigestAlgorithms,
  digestStream,
  DigestTransform,
  isDigest,
  isDigestAlgorithm,
  parseDigest,
  verifyDigest,
  type Digest,
  type DigestAlgorithm,
  type DigestTransformOptions,
  type ParsedDigest,
} from './digest.js';

// Errors: FerryError with a stable code, and the OCI-level failures.
export {
  brandError,
  DigestMismatchError,
  errorBrand,
  ErrorCode,
  hasErrorBrand,
  isNotFound,
  NotFoundError,
  FerryError,
  InvalidDigestError,
  InvalidPlatformError,
  InvalidReferenceError,
  isFerryError,
  ManifestInvalidError,
  ManifestTooLargeError,
  quote,
  SizeMismatchError,
  UnsupportedDigestAlgorithmError,
  UnsupportedMediaTypeError,
} from './errors.js';

// Manifests and indexes: validate bytes, describe them, check descriptors.
export {
  describeManifest,
  descriptor,
  isMediaType,
  parseManifest,
  stripMediaTypeParameters,
  type ParsedManifest,
} from './manifest.js';

// Platforms: parse, format, match and choose.
export {
  comparePlatformMatch,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatform,
  type HostInfo,
} from './platform.js';

// References: registry/repository[:tag][@digest], Docker Hub's names, and the length limits.
export {
  isReference,
  MAX_REFERENCE_LENGTH,
  parseReference,
  parseRepository,
  Reference,
  type ParseReferenceOptions,
} from './reference.js';
export {
  DOCKER_HUB_HOST,
  DOCKER_HUB_REGISTRY,
  isValidTag,
  MAX_NAME_LENGTH,
  MAX_TAG_LENGTH,
  type ReferenceParts,
} from './reference-parts.js';
