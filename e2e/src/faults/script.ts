/**
 * The script a fault proxy follows: which faults exist, how rules match requests, and what the
 * proxy records about each request.
 */

export type Fault =
  /** Response: headers and the first N body bytes, then the connection is destroyed. */
  | { closeAfterBytes: number }
  /**
   * Request: N body bytes are read and forwarded, then both connections are destroyed. With
   * `holdBody` the proxy buffers bodies (as nginx's proxy_request_buffering does), so the registry
   * never hears of the request.
   */
  | { closeRequestAfterBytes: number; holdBody?: boolean }
  /** Answered by the proxy, after the request body has been read. */
  | { status: number; retryAfter?: string; body?: string }
  /** Response body at this rate (after the first `afterBytes` bytes). */
  | { trickle: { bytesPerSecond: number; afterBytes?: number } }
  /** Response body with the byte at this offset inverted. */
  | { flipByte: number }
  /** Response with this Content-Length instead of the real one. */
  | { lieContentLength: number }
  /** Range stripped before forwarding: a server without Range support (200, whole body). */
  | { ignoreRange: true }
  /** 307 to the storage origin (a pre-signed URL that refuses Authorization). */
  | { redirectTo: 'storage' }
  /** A bearer token is good for one request; its second use gets 401 with a Bearer challenge. */
  | { singleUseToken: { realm: string; service: string } }
  /** Halfway through the request body, the registry is stopped and started again. */
  | { restartRegistry: true };

export interface FaultRule {
  match: {
    method?: string;
    /** Tested against the path and query. */
    path?: RegExp;
    /** Only the nth matching request (1-based), or the first of `times` from it. */
    nth?: number;
    /** How many matching requests get the fault; every one by default (one with `nth`). */
    times?: number;
  };
  fault: Fault;
}

export type RecordedHeaders = Readonly<Record<string, string | string[] | undefined>>;

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** A request's headers for a log: everything but the fields that carry credentials. */
export function recordedHeaders(headers: RecordedHeaders): RecordedHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase())),
  );
}

export interface ProxyRequest {
  seq: number;
  method: string;
  /** Path and query. */
  path: string;
  /** The Range header the client sent (downloads). */
  range: string | undefined;
  /** The Content-Range header the client sent (upload chunks). */
  contentRange: string | undefined;
  /** The Authorization scheme the client sent (`Bearer`, `Basic`), never the secret. */
  auth: string | undefined;
  /** The other request headers, names lower-case (for -H checks); credentials left out. */
  headers: RecordedHeaders;
  /** The fault applied (its key), if any. */
  fault: string | undefined;
  /** The status sent to the client; undefined when the connection was cut before headers. */
  status: number | undefined;
  /** Request body bytes received from the client. */
  bytesIn: number;
  /** Response body bytes sent to the client. */
  bytesOut: number;
  /** Date.now() when the request arrived and when it ended (answered or cut). */
  startedAt: number;
  endedAt: number | undefined;
  error: string | undefined;
}

export interface RegistryRestarter {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Rules in order, each counting the requests it matches; the first rule that applies wins. */
export class FaultScript {
  readonly #rules: { rule: FaultRule; seen: number }[];

  constructor(rules: FaultRule[]) {
    this.#rules = rules.map((rule) => ({ rule, seen: 0 }));
  }

  pick(method: string, path: string): Fault | undefined {
    let chosen: Fault | undefined;
    for (const state of this.#rules) {
      const { match } = state.rule;
      if (match.method !== undefined && match.method !== method) continue;
      if (match.path && !match.path.test(path)) continue;
      state.seen++;
      const first = match.nth ?? 1;
      const count = match.times ?? (match.nth !== undefined ? 1 : Infinity);
      if (!chosen && state.seen >= first && state.seen < first + count) chosen = state.rule.fault;
    }
    return chosen;
  }
}
