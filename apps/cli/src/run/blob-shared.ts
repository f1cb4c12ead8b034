import { canStatBlob } from '@ferry/artifact';
import { isDigest, NotFoundError, type Descriptor, type Digest } from '@ferry/oci';
import type { TargetRef } from '../context.js';
import { UsageError } from '../exit.js';

/** The digest a blob command names: `repo@sha256:…`. */
export function blobDigest(ref: TargetRef): Digest {
  if (!ref.reference || !isDigest(ref.reference)) {
    throw new UsageError(`${ref.display} must name a blob by digest: ${ref.base}@sha256:<hex>`);
  }
  return ref.reference;
}

/** A blob's descriptor, with the size the target reports (HEAD, or the layout's file). */
export async function blobDescriptor(
  ref: TargetRef,
  digest: Digest,
  mediaType = 'application/octet-stream',
): Promise<Descriptor> {
  const { target } = ref;
  const found = canStatBlob(target) ? await target.statBlob(digest) : undefined;
  if (!found) {
    throw new NotFoundError(`blob ${digest} not found in ${target.name}`);
  }
  return { mediaType, digest, size: found.size };
}
