/**
 * One HTTP exchange with a registry, made reliable: authentication on 401, retries with backoff
 * for transient failures, redirects that never carry credentials to another origin, and a debug
 * trace with secrets redacted. Everything above this speaks in requests and responses; nothing
 * below it knows about blobs or manifests.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '@ferry/oci';
import type { Dispatcher } from 'undici';
import { request as dispatch } from './undici-agent.js';
import type { Authenticator } from './auth.js';
import { discard } from './body.js';
import { parseWwwAuthenticate } from './challenge.js';
import { NetworkError, redactUrl, RegistryErrorCode } from './errors.js';
import { crossOriginHeaders } from './origin-policy.js';
import { formatHeaders, isNotTlsError } from './trace-format.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** Bytes, or a factory that opens the body anew for each attempt (so retries can resend it). */
export type RequestBody = Uint8Array | string | (() => Readable);

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

export interface TransportRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes this request needs, e.g. `repository:a/b:pull`. */
  scopes?: string[];
  signal?: AbortSignal | undefined;
  /** False for requests that must not be repeated blindly (a PATCH of an upload chunk). */
  retry?: boolean;
  /**
   * Send no credentials at all: the URL is not the registry's but where it redirected a blob to
   * (storage on another origin), reused for more requests.
   */
  anonymous?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  /** Where the response finally came from, after redirects. */
  url: URL;
  /**
   * The URL the client asked for, when redirects led elsewhere: what the request was about.
   * `url` is then the registry's choice (and may be a host it controls).
   */
  requested?: URL | undefined;
}

export interface TransportOptions {
  dispatcher: Dispatcher;
  authenticator?: Authenticator | undefined;
  userAgent: string;
  retry?: RetryPolicy | undefined;
  /** Receives one line per request and response, secrets redacted. */
  debug?: ((line: string) => void) | undefined;
  /** Replaces the backoff sleep (tests). */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /**
   * Hosts tried over https first that may fall back to plain http when the server turns out not
   * to speak TLS (Docker's rule for loopback registries). Never on certificate errors.
   */
  plainHttpFallback?: ReadonlySet<string> | undefined;
  /**
   * The origin the authenticator's credentials belong to (the registry's base URL). Requests to
   * any other origin — an upload `Location`, a `Link: rel="next"`, a redirect target the
   * registry named — go out without credentials, and their 401s are not answered with any.
   * Unset: every origin this transport is asked to reach counts as the registry's own.
   */
  credentialOrigin?: URL | undefined;
  /**
   * The user's own headers (`-H`), sent on requests to `credentialOrigin` only: like credentials,
   * they never reach a token realm, upload Location, Link or redirect target on another origin.
   * The request's own headers (content type, range, authorization) win over them.
   */
  originHeaders?: Readonly<Record<string, readonly string[]>> | undefined;
}

export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;
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

export class Transport {
  readonly dispatcher: Dispatcher;
  readonly #options: TransportOptions;
  readonly #retry: RetryPolicy;
  /** Hosts found to speak plain http (see `plainHttpFallback`). */
  readonly #plainHosts = new Set<string>();
  /** Fallback hosts whose scheme is settled (either way). */
  readonly #settledHosts = new Set<string>();
  /**
   * The first request to a fallback host, while it finds out whether the host speaks TLS. Others
   * wait for it instead of each trying https first: 16 small blobs at once made 16 failed TLS
   * handshakes and 32 HEADs.
   */
  readonly #probes = new Map<string, { settled: Promise<void>; release: () => void }>();

  constructor(options: TransportOptions) {
    this.dispatcher = options.dispatcher;
    this.#options = options;
    this.#retry = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  /**
   * Sends a request and resolves with the final response, whatever its status (callers decide
   * what they expect). Rejects only when the network failed after every retry, a redirect was
   * unsafe, or the signal aborted.
   */
  async send(original: TransportRequest): Promise<TransportResponse> {
    const host = original.url.host;
    if (
      original.url.protocol === 'https:' &&
      this.#options.plainHttpFallback?.has(host) === true &&
      !this.#settledHosts.has(host)
    ) {
      const pending = this.#probes.get(host);
      if (pending) {
        await waitOrAbort(pending.settled, original.signal);
      } else {
        let release = () => {};
        const settled = new Promise<void>((resolve) => (release = resolve));
        this.#probes.set(host, { settled, release });
        try {
          return await this.#send(original);
        } finally {
          // Settled by now, unless the probe failed before any answer: then the next one probes.
          this.#probes.delete(host);
          release();
        }
      }
    }
    return this.#send(original);
  }

  /** The host's scheme is known: requests waiting for the probe go ahead now, not when it ends. */
  #settle(host: string): void {
    this.#settledHosts.add(host);
    this.#probes.get(host)?.release();
  }

  async #send(original: TransportRequest): Promise<TransportResponse> {
    let request = this.#withScheme(original);
    const retries = request.retry === false ? 0 : this.#retry.retries;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(request.signal);
      let response: TransportResponse;
      try {
        response = await this.#authenticated(request);
        this.#settle(request.url.host);
      } catch (error) {
        if (this.#fallsBackToPlainHttp(request, error)) {
          this.#trace(() => `! ${request.url.host} does not speak TLS; using plain http`);
          this.#plainHosts.add(request.url.host);
          this.#settle(request.url.host);
          request = this.#withScheme(request);
          attempt--;
          continue;
        }
        if (attempt < retries && isRetryableError(error)) {
          await this.#backoff(attempt, undefined, request, describeError(error));
          continue;
        }
        throw wrapNetworkError(error, request);
      }
      if (attempt < retries && RETRYABLE_STATUS.has(response.status)) {
        await discard(response);
        await this.#backoff(
          attempt,
          response.headers['retry-after'],
          request,
          `${response.status}`,
        );
        continue;
      }
      return response;
    }
  }

  #withScheme(request: TransportRequest): TransportRequest {
    if (request.url.protocol !== 'https:' || !this.#plainHosts.has(request.url.host))
      return request;
    const url = new URL(request.url);
    url.protocol = 'http:';
    return { ...request, url };
  }

  #fallsBackToPlainHttp(request: TransportRequest, error: unknown): boolean {
    return (
      request.url.protocol === 'https:' &&
      this.#options.plainHttpFallback?.has(request.url.host) === true &&
      isNotTlsError(error)
    );
  }

  /** Sends with credentials; on a 401 learns the challenge and tries once more. */
  async #authenticated(request: TransportRequest): Promise<TransportResponse> {
    // Credentials belong to the registry's origin; another host that the registry's answers
    // named (an upload Location, a Link, a redirect) gets none, not even after its 401, and an
    // anonymous request (a range of a blob on a storage origin) gets none at all.
    const auth =
      request.anonymous !== true && this.#ownsCredentials(request.url)
        ? this.#options.authenticator
        : undefined;
    const host = request.url.host;
    const scopes = request.scopes ?? [];
    const first = auth ? await auth.authorization(host, scopes, request.signal) : undefined;
    const response = await this.#followRedirects(request, first);
    if (response.status !== 401 || !auth || response.url.origin !== request.url.origin) {
      return response;
    }

    const challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
    const retryWith = await auth.onChallenge(
      { host, secure: request.url.protocol === 'https:', challenges, scopes, rejected: first },
      request.signal,
    );
    // Nothing better to offer: hand the 401 (and its error body) to the caller.
    if (retryWith === undefined) return response;
    await discard(response);
    return this.#followRedirects(request, retryWith);
  }

  /** Whether `url` is the origin this transport's credentials were given for. */
  #ownsCredentials(url: URL): boolean {
    const home = this.#options.credentialOrigin;
    if (!home) return true;
    if (url.host !== home.host) return false;
    if (url.protocol === home.protocol) return true;
    // A loopback registry that speaks plain http is still the same registry (the token
    // transport never probes, so it goes by the fallback rule rather than by what it found).
    return (
      home.protocol === 'https:' &&
      url.protocol === 'http:' &&
      (this.#plainHosts.has(url.host) || this.#options.plainHttpFallback?.has(url.host) === true)
    );
  }

  /** `headers` for the debug trace: the user's own values hidden, as any may be a credential. */
  #traced(headers: Record<string, string | string[]>): Record<string, string | string[]> {
    const given = this.#options.originHeaders;
    if (!given) return headers;
    const traced = { ...headers };
    for (const name of Object.keys(given)) {
      if (traced[name.toLowerCase()] !== undefined) traced[name.toLowerCase()] = 'REDACTED';
    }
    return traced;
  }

  /** The user's headers for a request to `url`: none unless it is the registry's origin. */
  #originHeaders(url: URL): Record<string, string[]> {
    const given = this.#options.originHeaders;
    if (!given || !this.#ownsCredentials(url)) return {};
    const headers: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(given)) headers[name.toLowerCase()] = [...values];
    return headers;
  }

  async #followRedirects(
    request: TransportRequest,
    authorization: string | undefined,
  ): Promise<TransportResponse> {
    let url = request.url;
    let method = request.method;
    for (let hop = 0; ; hop++) {
      // One rule for every request, whatever field carries the secret: nothing that could be a
      // credential crosses an origin. A blob redirected to storage elsewhere (S3, a CDN) gets no
      // Authorization header, which is also what pre-signed URLs expect; a token realm that
      // redirects elsewhere does not get the Basic header the token request carried.
      const sameOrigin = url.origin === request.url.origin;
      const response = await this.#exchange(
        {
          ...request,
          method,
          url,
          headers: sameOrigin ? request.headers : crossOriginHeaders(request.headers),
        },
        sameOrigin ? authorization : undefined,
      );
      const location = response.headers.location;
      const final = hop === 0 ? response : { ...response, requested: request.url };
      if (!REDIRECT_STATUS.has(response.status) || typeof location !== 'string') return final;
      if (method !== 'GET' && method !== 'HEAD') return final;
      await discard(response);
      if (hop >= MAX_REDIRECTS) {
        throw new FerryError(
          RegistryErrorCode.TooManyRedirects,
          `${method} ${redactUrl(request.url)}: more than ${MAX_REDIRECTS} redirects`,
        );
      }
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol !== 'https:') {
        throw new FerryError(
          RegistryErrorCode.InsecureRedirect,
          `${method} ${redactUrl(url)}: refusing a redirect from https to ${redactUrl(next)}`,
        );
      }
      url = next;
      if (response.status === 303) method = 'GET';
    }
  }

  async #exchange(
    request: TransportRequest,
    authorization: string | undefined,
  ): Promise<TransportResponse> {
    const headers: Record<string, string | string[]> = {
      'user-agent': this.#options.userAgent,
      ...this.#originHeaders(request.url),
      ...request.headers,
    };
    if (authorization) headers.authorization = authorization;
    const body = typeof request.body === 'function' ? request.body() : request.body;
    const started = Date.now();
    this.#trace(
      () => `> ${request.method} ${redactUrl(request.url)} ${formatHeaders(this.#traced(headers))}`,
    );
    const response = await dispatch(this.dispatcher, {
      origin: request.url.origin,
      path: `${request.url.pathname}${request.url.search}`,
      method: request.method,
      headers,
      body: body ?? null,
      signal: request.signal ?? null,
      // Blob bodies are large: buffer more of them before pausing the socket.
      highWaterMark: 1024 * 1024,
      // undici closes the connection after every HEAD ("interop with misbehaving servers") unless
      // told otherwise. Registries send no HEAD bodies, and a push of 1,000 small files checks
      // 1,000 blobs: keeping the connection took 1,000 HEADs from 1.9-2.5 s to 1.1-1.2 s.
      ...(request.method === 'HEAD' ? { reset: false } : {}),
    });
    this.#trace(
      () =>
        `< ${response.statusCode} ${request.method} ${redactUrl(request.url)} (${Date.now() - started} ms) ${formatHeaders(response.headers)}`,
    );
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.body,
      url: request.url,
    };
  }

  async #backoff(
    attempt: number,
    retryAfter: string | string[] | undefined,
    request: TransportRequest,
    reason: string,
  ): Promise<void> {
    const policy = this.#retry;
    const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
    // Full jitter spreads many clients' retries apart; Retry-After is a floor the server asked for.
    let delay = policy.minDelayMs / 2 + Math.random() * (ceiling - policy.minDelayMs / 2);
    const asked = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    if (asked !== undefined) delay = Math.max(delay, Math.min(asked, policy.maxRetryAfterMs));
    this.#trace(
      () =>
        `! ${request.method} ${redactUrl(request.url)}: ${reason}; retry ${attempt + 1}/${policy.retries} in ${Math.round(delay)} ms`,
    );
    const wait =
      this.#options.sleep ??
      ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
    try {
      await wait(delay, request.signal ?? undefined);
    } catch (error) {
      throw abortedError(request, error);
    }
  }

  /**
   * Waits as the retry policy says before attempt `attempt + 1` (exponential backoff with jitter,
   * at least `Retry-After`), for callers that retry whole sequences of requests themselves.
   */
  async pause(
    attempt: number,
    retryAfter: string | string[] | undefined,
    request: TransportRequest,
    reason: string,
  ): Promise<void> {
    await this.#backoff(attempt, retryAfter, request, reason);
  }

  /** Attempts after the first that the retry policy allows. */
  get retries(): number {
    return this.#retry.retries;
  }

  #trace(line: () => string): void {
    if (this.#options.debug) this.#options.debug(line());
  }
}

/** Seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

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

/** Waits for `promise`, or rejects as aborted when `signal` fires first. */
async function waitOrAbort(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
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

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(undefined, signal.reason);
}

function abortedError(request: TransportRequest | undefined, cause: unknown): FerryError {
  if (cause instanceof FerryError) return cause;
  const what = request ? `${request.method} ${redactUrl(request.url)}: ` : '';
  return new FerryError(RegistryErrorCode.Aborted, `${what}aborted`, { cause });
}

function wrapNetworkError(error: unknown, request: TransportRequest): unknown {
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

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}

export { crossOriginHeaders } from './origin-policy.js';
export { formatHeaders } from './trace-format.js';
export { abandon, discard, readBytes, readText, responseError } from './body.js';
