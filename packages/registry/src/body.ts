/** Response bodies: read small ones whole (bounded), release or drop the rest, and errors. */
import { FerryError } from '@ferry/oci';
import { parseErrorBody, redactUrl, RegistryError, RegistryErrorCode } from './errors.js';
import type { TransportResponse } from './transport.js';

/** Reads an error response's body (bounded) into a {@link RegistryError}. */
export async function responseError(
  response: TransportResponse,
  method: string,
  code?: string,
): Promise<RegistryError> {
  const text = method === 'HEAD' ? '' : await readText(response, 64 * 1024).catch(() => '');
  const error = new RegistryError(
    {
      status: response.status,
      method,
      url: response.url,
      requested: response.requested,
      errors: parseErrorBody(text),
    },
    code,
  );
  const retryAfter = response.headers['retry-after'];
  if (typeof retryAfter === 'string') error.retryAfter = retryAfter;
  return error;
}

/** Reads a body as text, refusing more than `limit` bytes. */
export async function readText(response: TransportResponse, limit: number): Promise<string> {
  return (await readBytes(response, limit)).toString('utf8');
}

/** Reads a whole (small) body, refusing more than `limit` bytes without reading them. */
export async function readBytes(response: TransportResponse, limit: number): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    await discard(response);
    throw new FerryError(
      RegistryErrorCode.Protocol,
      `${redactUrl(response.url)}: response of ${declared} bytes exceeds the ${limit}-byte limit`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      abandon(response);
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `${redactUrl(response.url)}: response exceeds the ${limit}-byte limit`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Drops a response whose body will not be read. undici answers destroy() on an unread body with
 * an 'error' event; without a listener that would crash the process instead of letting the
 * caller report why it gave up.
 */
export function abandon(response: TransportResponse): void {
  response.body.on('error', () => {});
  response.body.destroy();
}

/** Releases a response's connection without reading a large body. */
export async function discard(response: TransportResponse): Promise<void> {
  try {
    await response.body.dump({ limit: 64 * 1024 });
  } catch {
    // A body that fails while being thrown away changes nothing.
  }
}
