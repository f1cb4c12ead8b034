/**
 * When a request is worth sending again, and how long to wait first: which statuses and socket
 * errors are transient, which broken bodies are worth resuming, and exponential backoff with
 * full jitter that honours a server's `Retry-After`.
 */

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is cut to it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  minDelayMs: 250,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
};

export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const RETRYABLE_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Whether `error`, or an error it wraps (a few causes deep), is a transient network failure. */
export function isRetryableError(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_ERRORS.has(code)) return true;
  }
  return false;
}

/** Whether a response body ended before its length (a proxy or CDN that dropped the rest). */
export function isBodyCutShort(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'UND_ERR_ABORTED'
  );
}

/** Seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** How long to wait before attempt `attempt + 1`, in milliseconds. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: string | string[] | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
  // Full jitter spreads many clients' retries apart; Retry-After is a floor the server asked for.
  let delay = policy.minDelayMs / 2 + random() * (ceiling - policy.minDelayMs / 2);
  const asked = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  if (asked !== undefined) delay = Math.max(delay, Math.min(asked, policy.maxRetryAfterMs));
  return delay;
}
