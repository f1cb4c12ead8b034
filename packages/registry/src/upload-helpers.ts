/** Pure helpers of the upload protocol: digest on an opaque Location, fixed-size chunks. */
import type { Digest } from '@ferry/oci';

/**
 * Adds `digest=` to an upload URL by appending to its query, never rebuilding it: the `_state`
 * parameter is opaque and some registries sign it byte for byte.
 */
export function withDigest(location: URL, digest: Digest): URL {
  const href = location.href;
  const separator = location.search ? '&' : '?';
  return new URL(`${href}${separator}digest=${encodeURIComponent(digest)}`);
}

/** Regroups a stream's chunks into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const input of source) {
    let chunk = input;
    while (chunk.byteLength > 0) {
      const take = Math.min(size - filled, chunk.byteLength);
      buffer.set(chunk.subarray(0, take), filled);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === size) {
        yield buffer;
        buffer = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
