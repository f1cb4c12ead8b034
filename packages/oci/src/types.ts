/**
 * The OCI image spec's JSON structures (v1.1), which also cover Docker's schema 2 manifests and
 * manifest lists field for field.
 */
import type { Digest } from './digest.js';

/** String-to-string metadata. https://github.com/opencontainers/image-spec/blob/v1.1.0/annotations.md */
export type Annotations = Record<string, string>;

/** https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md#image-index-property-descriptions */
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

/** https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Annotations;
  /** Base64 of the content itself, for small blobs such as the empty config. */
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

/** https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md */
export interface ImageManifest {
  schemaVersion: 2;
  /** Required by Docker schema 2; recommended (and always written by ferry) for OCI. */
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

/** https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

/** https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md#oci-layout-file */
export interface OciLayoutFile {
  imageLayoutVersion: '1.0.0';
}
