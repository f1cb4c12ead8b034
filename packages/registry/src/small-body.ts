/** Small upload bodies: read whole into memory before they are sent (see pushBlob). */
import { addAbortSignal, type Readable } from 'node:stream';
import { FerryError } from '@ferry/oci';
import { RegistryErrorCode } from './errors.js';

/** Blobs up to this size (sent in one PUT) are read into memory before they are sent. */
export const SMALL_BODY = 256 * 1024;

/** Reads a small source whole; stops one byte past `size` (checkBytes reports the mismatch). */
export async function readSmall(
  open: () => Readable,
  size: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = open();
  // A source that stalls must still stop when the push is aborted (as a request body would).
  if (signal) addAbortSignal(signal, stream);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      total += buffer.byteLength;
      if (total > size) break;
    }
  } catch (error) {
    if (signal?.aborted) {
      throw new FerryError(RegistryErrorCode.Aborted, 'upload aborted', { cause: signal.reason });
    }
    throw error;
  } finally {
    stream.destroy();
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}
