/**
 * A guess, made before any file is hashed, at which large blobs a push will find in the registry
 * already: those of the sizes that the tag being pushed lists now. Pushing unchanged files to the
 * same tag again (a CI job run again on a fresh runner, with no digest cache) is when a large
 * blob is most likely present, and a file of exactly the size of one of the tag's blobs probably
 * is that blob. The guess only decides whether an upload runs beside the hash or waits for it
 * (EagerUploads): a wrong guess costs a new blob's upload the time of its hash, never a wrong
 * result, since the digest alone decides what is skipped.
 */
import type { Descriptor } from '@ferry/oci';
import { canFetchReference } from './capabilities.js';

/**
 * For a target that can fetch a manifest by tag: a function telling whether the manifest `tag`
 * names now lists a blob of a given size. The manifest is fetched once, on the first call (so a
 * push of small files asks nothing); a missing tag, an index, or any failure means "no".
 */
export function likelyPresentAt(
  target: object,
  tag: string | undefined,
  signal?: AbortSignal,
): ((size: number) => Promise<boolean>) | undefined {
  if (tag === undefined || !canFetchReference(target)) return undefined;
  let sizes: Promise<Set<number>> | undefined;
  const load = async (): Promise<Set<number>> => {
    const { parsed } = await target.fetchReference(tag, { signal });
    if (parsed.kind !== 'manifest') return new Set();
    const blobs: Descriptor[] = [parsed.manifest.config, ...parsed.manifest.layers];
    return new Set(blobs.map((blob) => blob.size));
  };
  return async (size) => {
    sizes ??= load().catch(() => new Set<number>());
    return (await sizes).has(size);
  };
}
