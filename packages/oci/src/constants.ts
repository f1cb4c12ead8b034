/**
 * Every media type, annotation key and HTTP header name ferry uses, in one module, so that a typo
 * is a compile error and a grep finds every use.
 */

/**
 * Media types of the OCI image spec v1.1 and of Docker's image manifest v2 schema 2.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/media-types.md
 * https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayout: 'application/vnd.oci.layout.header.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  /** The config of an artifact that has none: the two bytes `{}`. */
  OciEmpty: 'application/vnd.oci.empty.v1+json',

  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** Schema 1 is deprecated and signed; ferry recognises it only to refuse it clearly. */
  DockerManifestSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerManifestSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',

  /** ORAS's default config type for v1.0 artifacts (image spec 1.0 has no `artifactType`). */
  OrasConfig: 'application/vnd.oras.config.v1+json',
  OctetStream: 'application/octet-stream',
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

/** Manifest media types that describe a single image or artifact. */
export const ImageManifestMediaTypes: readonly string[] = [
  MediaType.OciManifest,
  MediaType.DockerManifest,
];

/** Manifest media types that list other manifests. */
export const IndexMediaTypes: readonly string[] = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
];

/** Every manifest media type ferry reads, in the order sent in `Accept`. */
export const ManifestMediaTypes: readonly string[] = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
];

/**
 * The empty descriptor: what an OCI 1.1 artifact without a config points at.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md#guidance-for-an-empty-descriptor
 */
export const EmptyJson = {
  mediaType: MediaType.OciEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

/**
 * The bytes behind {@link EmptyJson}. A Buffer, not a bare Uint8Array: `Readable.from()` sends a
 * Buffer as one chunk but iterates a Uint8Array byte by byte, as numbers.
 */
export const EMPTY_JSON_BYTES: Uint8Array = Buffer.from('{}');

/** Registries refuse manifests over 4 MiB; so does ferry, before parsing untrusted JSON. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

/**
 * Annotation keys.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/annotations.md
 */
export const Annotation = {
  Created: 'org.opencontainers.image.created',
  Authors: 'org.opencontainers.image.authors',
  Url: 'org.opencontainers.image.url',
  Documentation: 'org.opencontainers.image.documentation',
  Source: 'org.opencontainers.image.source',
  Version: 'org.opencontainers.image.version',
  Revision: 'org.opencontainers.image.revision',
  Vendor: 'org.opencontainers.image.vendor',
  Licenses: 'org.opencontainers.image.licenses',
  /** Homebrew writes the singular form; the spec's key is `licenses`. */
  License: 'org.opencontainers.image.license',
  RefName: 'org.opencontainers.image.ref.name',
  Title: 'org.opencontainers.image.title',
  Description: 'org.opencontainers.image.description',
  BaseDigest: 'org.opencontainers.image.base.digest',
  BaseName: 'org.opencontainers.image.base.name',

  /** ORAS: the digest of a directory's uncompressed tar, checked after unpacking. */
  OrasContentDigest: 'io.deis.oras.content.digest',
  /** ORAS: `"true"` when the layer is a directory to unpack. */
  OrasContentUnpack: 'io.deis.oras.content.unpack',

  /** Homebrew: the sha256 hex of the bottle tarball, as in the formula's bottle block. */
  BrewBottleDigest: 'sh.brew.bottle.digest',
  /** Homebrew: the bottle's tab (INSTALL_RECEIPT) as a JSON string. */
  BrewTab: 'sh.brew.tab',
  BrewBottleCpuVariant: 'sh.brew.bottle.cpu.variant',
  BrewBottleGlibcVersion: 'sh.brew.bottle.glibc.version',
  BrewBottleSize: 'sh.brew.bottle.size',
  BrewBottleInstalledSize: 'sh.brew.bottle.installed_size',
  /** GitHub Packages: `homebrew_bottle` marks a bottle image. */
  GithubPackageType: 'com.github.package.type',
} as const;

/** HTTP header names of the distribution spec (lowercase: undici hands them over that way). */
export const Header = {
  Accept: 'accept',
  Authorization: 'authorization',
  ContentType: 'content-type',
  ContentLength: 'content-length',
  ContentRange: 'content-range',
  Range: 'range',
  Location: 'location',
  Link: 'link',
  RetryAfter: 'retry-after',
  UserAgent: 'user-agent',
  WwwAuthenticate: 'www-authenticate',
  DockerContentDigest: 'docker-content-digest',
  DockerDistributionApiVersion: 'docker-distribution-api-version',
  DockerUploadUuid: 'docker-upload-uuid',
  OciSubject: 'oci-subject',
  OciFiltersApplied: 'oci-filters-applied',
  OciChunkMinLength: 'oci-chunk-min-length',
} as const;
