/**
 * Building and editing image indexes from manifests already in a target (`manifest index create`
 * and `manifest index update`, as ORAS has them). Entries are plain descriptors (media type,
 * digest, size) with the platform read from each image manifest's config; the JSON is written
 * with the field order of Go's image-spec structs, so that the same inputs give ORAS's digest.
 */
import {
  FerryError,
  ImageManifestMediaTypes,
  IndexMediaTypes,
  MediaType,
  describeManifest,
  isDigest,
  type Annotations,
  type Descriptor,
  type ImageIndex,
  type Platform,
  isFerryError,
  ErrorCode,
  NotFoundError,
} from '@ferry/oci';
import { fetchManifest, readAll } from './content.js';
import type { OperationOptions, Target } from './target.js';
import { ArtifactErrorCode } from './errors.js';

/** ORAS reads a config for its platform only up to this size. */
export const PLATFORM_CONFIG_LIMIT = 4 * 1024 * 1024;

export interface IndexSource {
  /** As the user named it: a tag or a digest. */
  reference: string;
  /** The index entry: media type, digest, size and (for images) platform. */
  descriptor: Descriptor;
}

/**
 * The platform an image manifest's config declares, or undefined when the config is not JSON or
 * names neither os nor architecture (an artifact's `{}`).
 */
export async function platformFromConfig(
  target: Target,
  config: Descriptor,
  options: OperationOptions = {},
): Promise<Platform | undefined> {
  if (config.mediaType === MediaType.OciEmpty) return undefined;
  if (config.size > PLATFORM_CONFIG_LIMIT) {
    throw new FerryError(
      ArtifactErrorCode.ContentTooLarge,
      `config ${config.digest} is ${config.size} bytes, more than the ${PLATFORM_CONFIG_LIMIT} read for its platform`,
    );
  }
  const bytes = await readAll(await target.fetch(config, options), PLATFORM_CONFIG_LIMIT);
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) return undefined;
  const fields = document as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === 'string' ? fields[key] : undefined);
  const list = (key: string) =>
    Array.isArray(fields[key]) && fields[key].every((item) => typeof item === 'string')
      ? (fields[key] as string[])
      : undefined;
  const os = text('os') ?? '';
  const architecture = text('architecture') ?? '';
  if (!os && !architecture) return undefined;
  // Go's ocispec.Platform field order: architecture, os, os.version, os.features, variant.
  const platform: Platform = { architecture, os };
  const osVersion = text('os.version');
  const osFeatures = list('os.features');
  const variant = text('variant');
  if (osVersion) platform['os.version'] = osVersion;
  if (osFeatures?.length) platform['os.features'] = osFeatures;
  if (variant) platform.variant = variant;
  return platform;
}

/**
 * Resolves a tag or digest of `target` to an index entry: a manifest or an index (refusing a
 * blob), with the platform of an image manifest's config.
 */
export async function resolveIndexSource(
  target: Target,
  reference: string,
  options: OperationOptions = {},
): Promise<IndexSource> {
  let resolved: Descriptor;
  try {
    resolved = await target.resolve(reference, options);
  } catch (error) {
    // A layout's miss gets a message naming the layout; a registry's 404 keeps its own (and
    // the CLI's hint naming the tag and repository).
    if (isFerryError(error, ErrorCode.NotFound)) {
      throw new NotFoundError(`could not find the manifest ${reference} in ${target.name}`, {
        cause: error,
      });
    }
    throw error;
  }
  const isImage = ImageManifestMediaTypes.includes(resolved.mediaType);
  if (!isImage && !IndexMediaTypes.includes(resolved.mediaType)) {
    throw new FerryError(
      ArtifactErrorCode.NotAManifest,
      `${reference} in ${target.name} is not a manifest (${resolved.mediaType})`,
    );
  }
  const descriptor: Descriptor = {
    mediaType: resolved.mediaType,
    digest: resolved.digest,
    size: resolved.size,
  };
  if (isImage) {
    const { parsed } = await fetchManifest(target, resolved, options);
    if (parsed.kind === 'manifest') {
      const platform = await platformFromConfig(target, parsed.manifest.config, options);
      if (platform) descriptor.platform = platform;
    }
  }
  return { reference, descriptor };
}

export interface IndexFields {
  manifests: Descriptor[];
  artifactType?: string | undefined;
  subject?: Descriptor | undefined;
  annotations?: Annotations | undefined;
  /** Default the OCI index type; an updated Docker manifest list keeps its own. */
  mediaType?: string | undefined;
}

export interface BuiltIndex {
  bytes: Buffer;
  descriptor: Descriptor;
  index: ImageIndex;
}

/** Serialises an index in Go's field order (ORAS's bytes for the same inputs). */
export function buildIndex(fields: IndexFields): BuiltIndex {
  const mediaType = fields.mediaType ?? MediaType.OciIndex;
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType,
    ...(fields.artifactType ? { artifactType: fields.artifactType } : {}),
    manifests: fields.manifests.map(orderDescriptor),
    ...(fields.subject ? { subject: orderDescriptor(fields.subject) } : {}),
    ...(fields.annotations && Object.keys(fields.annotations).length
      ? { annotations: sortKeys(fields.annotations) }
      : {}),
  };
  const bytes = Buffer.from(goJson(index), 'utf8');
  const descriptor = describeManifest(bytes, mediaType);
  if (index.artifactType) descriptor.artifactType = index.artifactType;
  return { bytes, descriptor, index };
}

export interface IndexEdit {
  /** Entries to append (resolved with {@link resolveIndexSource}). */
  add?: Descriptor[];
  /** Digests to drop; each must be in the index. */
  remove?: string[];
  /** Indexes whose entries are appended. */
  merge?: ImageIndex[];
  /** Annotations set on the index (a key with value undefined is removed). */
  annotations?: Record<string, string | undefined>;
  artifactType?: string | undefined;
}

/**
 * Applies an edit to an index: removals first, then additions and merges, in ORAS's order. A
 * digest to remove that the index does not hold is an error (nothing is pushed).
 */
export function editIndex(index: ImageIndex, edit: IndexEdit, name = 'the index'): BuiltIndex {
  const remove = new Set(edit.remove ?? []);
  for (const digest of remove) {
    if (!isDigest(digest)) {
      throw new FerryError(ErrorCode.InvalidDigest, `--remove ${digest}: give a manifest digest`);
    }
    if (!index.manifests.some((entry) => entry.digest === digest)) {
      throw new NotFoundError(`${digest} does not exist in ${name}`);
    }
  }
  const manifests = index.manifests.filter((entry) => !remove.has(entry.digest));
  manifests.push(...(edit.add ?? []));
  for (const merged of edit.merge ?? []) manifests.push(...merged.manifests);
  const annotations: Annotations = { ...(index.annotations ?? {}) };
  for (const [key, value] of Object.entries(edit.annotations ?? {})) {
    if (value === undefined) delete annotations[key];
    else annotations[key] = value;
  }
  return buildIndex({
    manifests,
    mediaType: index.mediaType,
    artifactType: edit.artifactType ?? index.artifactType,
    subject: index.subject,
    annotations,
  });
}

/** A descriptor with its fields in Go's order (and nothing unknown carried along). */
function orderDescriptor(descriptor: Descriptor): Descriptor {
  const platform = descriptor.platform;
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.urls ? { urls: descriptor.urls } : {}),
    ...(descriptor.annotations ? { annotations: sortKeys(descriptor.annotations) } : {}),
    ...(descriptor.data !== undefined ? { data: descriptor.data } : {}),
    ...(platform
      ? {
          platform: {
            architecture: platform.architecture,
            os: platform.os,
            ...(platform['os.version'] ? { 'os.version': platform['os.version'] } : {}),
            ...(platform['os.features'] ? { 'os.features': platform['os.features'] } : {}),
            ...(platform.variant ? { variant: platform.variant } : {}),
            ...(platform.features ? { features: platform.features } : {}),
          },
        }
      : {}),
    ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
  };
}

/** Go marshals maps with sorted keys. */
function sortKeys(annotations: Annotations): Annotations {
  return Object.fromEntries(
    Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/**
 * JSON as Go's encoding/json writes it: like JSON.stringify, but with `<`, `>`, `&`, U+2028 and
 * U+2029 escaped as \u sequences. Those characters occur only inside strings, so the replacement
 * cannot touch the structure.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
