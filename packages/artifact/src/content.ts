import type { Readable } from 'node:stream';
import {
  FerryError,
  ImageManifestMediaTypes,
  IndexMediaTypes,
  MANIFEST_SIZE_LIMIT,
  ManifestTooLargeError,
  parseManifest,
  verifyDigest,
  type Descriptor,
  type ParsedManifest,
} from '@ferry/oci';
import { canFetchReference } from './capabilities.js';
import type { FetchedManifest, Fetcher, OperationOptions, Resolver } from './target.js';
import { ArtifactErrorCode } from './errors.js';

/** True for descriptors of manifests and indexes (nodes of a graph), false for blobs (leaves). */
export function isManifest(descriptor: Pick<Descriptor, 'mediaType'>): boolean {
  return (
    ImageManifestMediaTypes.includes(descriptor.mediaType) ||
    IndexMediaTypes.includes(descriptor.mediaType)
  );
}

/** Reads a whole stream into memory, refusing more than `limit` bytes. For manifests and configs only. */
export async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      stream.destroy();
      throw new FerryError(
        ArtifactErrorCode.ContentTooLarge,
        `content exceeds the ${limit}-byte limit for reading it whole`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Fetches a manifest's exact bytes from any target, verified against its descriptor and validated. */
export async function fetchManifest(
  fetcher: Fetcher,
  descriptor: Descriptor,
  options?: OperationOptions,
): Promise<FetchedManifest> {
  if (descriptor.size > MANIFEST_SIZE_LIMIT) {
    throw new ManifestTooLargeError(descriptor.size, MANIFEST_SIZE_LIMIT);
  }
  const bytes = await readAll(await fetcher.fetch(descriptor, options), MANIFEST_SIZE_LIMIT);
  verifyDigest(bytes, descriptor.digest, `manifest ${descriptor.digest}`);
  return { descriptor, bytes, parsed: parseManifest(bytes, descriptor.mediaType) };
}

/**
 * The manifest a tag or digest names: in one request where the target can
 * ({@link canFetchReference}: a registry), else a resolve and a verified fetch.
 */
export async function fetchManifestByReference(
  target: Fetcher & Resolver,
  reference: string,
  options: OperationOptions = {},
): Promise<FetchedManifest> {
  if (canFetchReference(target)) return target.fetchReference(reference, options);
  return fetchManifest(target, await target.resolve(reference, options), options);
}

/** The children of a manifest: config and layers (and subject is not a child), or an index's entries. */
export function successors(parsed: ParsedManifest): Descriptor[] {
  if (parsed.kind === 'index') return parsed.index.manifests;
  return [parsed.manifest.config, ...parsed.manifest.layers];
}
