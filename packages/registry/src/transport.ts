/**
 * One HTTP exchange with a registry, made reliable: authentication on 401, retries with backoff
 * for transient failures, redirects that never carry credentials to another origin, and a debug
 * trace with secrets redacted. Everything above this speaks in requests and responses; nothing
 * below it knows about blobs or manifests.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { request as dispatch } from './undici-agent.js';
import type { BulkConnector } from './bulk-connector.js';
import { isUploadSource, type UploadSource } from './upload-source.js';
import type { Authenticator } from './auth.js';
import { sendAuthenticated } from './authenticated-send.js';
import { discard } from './body.js';
import { redactUrl } from './errors.js';
import { ownsCredentials, redactUserHeaders, userHeaders } from './origin-policy.js';
import { followRedirects } from './redirects.js';
import {
  abortedError,
  describeError,
  throwIfAborted,
  waitOrAbort,
  wrapNetworkError,
} from './request-errors.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  RETRYABLE_STATUS,
  type RetryPolicy,
} from './retry-policy.js';
import { formatHeaders, isNotTlsError } from './trace-format.js';

export type { RetryPolicy } from './retry-policy.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Bytes, or a factory that opens the body anew for each attempt (so retries can resend it): a
 * stream, or a source read into the sender's own buffers (upload-source.ts).
 */
export type RequestBody = Uint8Array | string | (() => Readable) | (() => UploadSource);

type Body = Uint8Array | string | Readable | undefined;

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
  /**
   * A large body: a GET whose answer the caller takes slice by slice (`BulkBody.pump`), or a
   * PATCH or PUT of an {@link UploadSource}, which may go over a connection of its own with
   * fixed buffers (see bulk-connector.ts).
   */
  bulk?: boolean;
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
  /**
   * Sends the bodyless GETs marked `bulk`, when set: the registry sets it only for the agent it
   * made itself, with no proxy configured, so that it reaches the same hosts the same way.
   */
  bulk?: BulkConnector | undefined;
}

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
    return sendAuthenticated(request, auth, (sent, authorization) =>
      followRedirects(sent, authorization, (hop, hopAuthorization) =>
        this.#exchange(hop, hopAuthorization),
      ),
    );
  }

  /** Whether `url` is the origin this transport's credentials were given for. */
  #ownsCredentials(url: URL): boolean {
    return ownsCredentials(
      url,
      this.#options.credentialOrigin,
      (host) => this.#plainHosts.has(host) || this.#options.plainHttpFallback?.has(host) === true,
    );
  }

  /** The user's headers for a request to `url`: none unless it is the registry's origin. */
  #originHeaders(url: URL): Record<string, string[]> {
    const given = this.#options.originHeaders;
    return given && this.#ownsCredentials(url) ? userHeaders(given) : {};
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
    const opened = typeof request.body === 'function' ? request.body() : request.body;
    const upload = isUploadSource(opened) ? opened : undefined;
    const started = Date.now();
    this.#trace(
      () =>
        `> ${request.method} ${redactUrl(request.url)} ${formatHeaders(redactUserHeaders(headers, this.#options.originHeaders))}`,
    );
    const method = request.method;
    const bulk =
      request.bulk === true &&
      ((method === 'GET' && opened === undefined) ||
        ((method === 'PATCH' || method === 'PUT') && upload !== undefined))
        ? this.#options.bulk
        : undefined;
    if (bulk) this.#trace(() => `* ${method} ${redactUrl(request.url)}: own connection`);
    const response = bulk
      ? await bulk.request({
          method: method as 'GET' | 'PATCH' | 'PUT',
          url: request.url,
          headers,
          body: upload,
          signal: request.signal,
        })
      : await this.#dispatch(request, headers, upload ? upload.stream() : (opened as Body));
    this.#trace(
      () =>
        `< ${response.statusCode} ${request.method} ${redactUrl(request.url)} (${Date.now() - started} ms) ${formatHeaders(response.headers)}`,
    );
    return {
      status: response.statusCode,
      headers: response.headers,
      // The bulk body is a Readable with undici's `dump`, which is all the helpers use of it.
      body: response.body as Dispatcher.ResponseData['body'],
      url: request.url,
    };
  }

  #dispatch(
    request: TransportRequest,
    headers: Record<string, string | string[]>,
    body: Body,
  ): Promise<Dispatcher.ResponseData> {
    return dispatch(this.dispatcher, {
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
  }

  async #backoff(
    attempt: number,
    retryAfter: string | string[] | undefined,
    request: TransportRequest,
    reason: string,
  ): Promise<void> {
    const policy = this.#retry;
    const delay = backoffDelay(policy, attempt, retryAfter);
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

export { crossOriginHeaders } from './origin-policy.js';
export { formatHeaders } from './trace-format.js';
export { abandon, discard, readBytes, readText, responseError } from './body.js';
