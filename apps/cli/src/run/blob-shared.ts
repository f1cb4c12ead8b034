import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OciLayoutTarget, RegistryTarget } from '@ferry/artifact';
import { isDigest, NotFoundError, parseDigest, type Descriptor, type Digest } from '@ferry/oci';
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
  let size: number | undefined;
  if (ref.target instanceof RegistryTarget) {
    size = (await ref.target.repository.blobs.stat(digest))?.size;
  } else if (ref.target instanceof OciLayoutTarget) {
    const { algorithm, hex } = parseDigest(digest);
    size = await stat(join(ref.target.dir, 'blobs', algorithm, hex)).then(
      (s) => s.size,
      () => undefined,
    );
  }
  if (size === undefined || size < 0) {
    throw new NotFoundError(`blob ${digest} not found in ${ref.target.name}`);
  }
  return { mediaType, digest, size };
}
