/**
 * The errors a request fails with below the HTTP layer: aborted by its signal, or a network
 * failure, each naming the request (its URL redacted).
 */
import { FerryError } from '@ferry/oci';
import { NetworkError, redactUrl, RegistryErrorCode } from './errors.js';
import type { TransportRequest } from './transport.js';

/** Waits for `promise`, or rejects as aborted when `signal` fires first. */
export async function waitOrAbort(
  promise: Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  throwIfAborted(signal);
  if (!signal) return promise;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(undefined, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(undefined, signal.reason);
}

export function abortedError(request: TransportRequest | undefined, cause: unknown): FerryError {
  if (cause instanceof FerryError) return cause;
  const what = request ? `${request.method} ${redactUrl(request.url)}: ` : '';
  return new FerryError(RegistryErrorCode.Aborted, `${what}aborted`, { cause });
}

/** `error` from sending `request` as the client's own: aborted, or a {@link NetworkError}. */
export function wrapNetworkError(error: unknown, request: TransportRequest): unknown {
  if (error instanceof FerryError) return error;
  const name = (error as { name?: unknown }).name;
  if (name === 'AbortError' || request.signal?.aborted) return abortedError(request, error);
  return new NetworkError({
    method: request.method,
    url: request.url,
    detail: describeError(error),
    cause: error,
  });
}

/** The error's message, led by its code (`ECONNRESET …`) when the message does not name it. */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}
