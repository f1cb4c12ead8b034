/**
 * Large blob bodies over connections of ferry's own that read into one fixed buffer.
 *
 * undici hands out every socket read as a new 64 KiB buffer; for a 512 MiB blob that is 8,000
 * allocations which glibc keeps as heap after they are freed (40 MiB of a pull's 107 MiB peak),
 * and every one passes through a stream before it reaches the file. Here the socket reads into one
 * buffer (`onread`), and the consumer copies each slice where it goes (see bulk-body.ts); an upload
 * is read from its file into two fixed buffers (chunked-upload.ts).
 *
 * This is one exchange on the wire, nothing more: which headers and credentials a request
 * carries, redirects, retries and 401s stay with the Transport, which hands this the same request
 * it would give undici. A GET's connection is kept for the next GET to the same origin (the ranges
 * of one blob: no new TCP and TLS handshake and slow start for each); an upload's is closed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connect as connectPlain, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { BulkBody } from './bulk-body.js';
import { sendChunked } from './chunked-upload.js';
import { FerryError } from '@ferry/oci';
import { redactUrl, RegistryErrorCode } from './errors.js';
import { MAX_HEAD, parseHeads, requestHead, type ParsedHead } from './http1-head.js';
import { isIpLiteral, resolveAddress, type ResolveRule } from './resolve.js';
import type { UploadSource } from './upload-source.js';

export interface BulkTlsOptions {
  ca?: string | Buffer | (string | Buffer)[] | undefined;
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  rejectUnauthorized: boolean;
}

export interface BulkConnectorOptions {
  tls: BulkTlsOptions;
  /** curl's --resolve, as for the undici connector. */
  resolve?: readonly ResolveRule[] | undefined;
  /** Default 10 s, as undici's. */
  connectTimeoutMs?: number | undefined;
  /** No byte for this long, while waiting for the answer or its body: fail. Default 300 s, as undici's. */
  idleTimeoutMs?: number | undefined;
  /**
   * The whole answer head must come within this from the end of the request (a head trickled a
   * byte at a time stays under the idle timeout). Default 300 s, as undici's headersTimeout.
   */
  headersTimeoutMs?: number | undefined;
  /** A kept connection unused this long is closed (0: none is kept). Default 4 s, as undici's. */
  keepAliveTimeoutMs?: number | undefined;
  /** Bytes per socket read. Default 256 KiB. */
  readBufferSize?: number | undefined;
}

export interface BulkRequest {
  /** Default GET. */
  method?: 'GET' | 'PATCH' | 'PUT' | undefined;
  url: URL;
  headers: Record<string, string | string[]>;
  /** Sent with chunked coding from two fixed buffers (see upload-source.ts). */
  body?: UploadSource | undefined;
  signal?: AbortSignal | null | undefined;
}

export interface BulkResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: BulkBody;
}

/** Kept connections per origin. */
const MAX_IDLE = 8;

/** One socket and the exchange it serves, if any. */
interface Connection {
  socket: Socket;
  key: string;
  /** Settles when the socket can send (connected, TLS done). */
  ready: Promise<void>;
  /** Served a request before: the server may have closed it meanwhile. */
  reused: boolean;
  /** The running exchange's reader; unset while the connection is idle. */
  onRead: ((slice: Buffer) => boolean) | undefined;
  /** The running exchange hears of the socket's end (with its error, if any). */
  onEnd: ((error?: unknown) => void) | undefined;
  /** The running exchange hears that the socket was idle too long. */
  onTimeout?: (() => void) | undefined;
  idleTimer?: NodeJS.Timeout | undefined;
}

/** A kept connection that failed before any byte of an answer: the server had closed it. */
class StaleConnectionError extends Error {}

export class BulkConnector {
  readonly #options: BulkConnectorOptions;
  readonly #idle = new Map<string, Connection[]>();
  /** The last TLS session per origin, to resume instead of a full handshake. */
  readonly #sessions = new Map<string, Buffer>();
  #closed = false;

  constructor(options: BulkConnectorOptions) {
    this.#options = options;
  }

  /** Sends the request and resolves with the answer's head; the body follows through `body`. */
  async request(request: BulkRequest): Promise<BulkResponse> {
    const { url, signal } = request;
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      // A redirect may name any URL; undici refuses these too.
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `${redactUrl(url)}: not an http or https URL with a host`,
      );
    }
    const method = request.method ?? 'GET';
    const upload = request.body;
    const keepAlive = upload === undefined;
    const text = requestHead(method, url, request.headers, upload !== undefined, keepAlive);
    if (signal?.aborted) throw abortError(signal);
    const key = `${url.protocol}//${url.host}`;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const kept = keepAlive ? this.#takeIdle(key) : undefined;
      try {
        return await this.#exchange(kept ?? this.#connect(url, key), request, text, keepAlive);
      } catch (error) {
        // The server closed a kept connection as it was reused: once more on a new one.
        if (error instanceof StaleConnectionError) continue;
        throw error;
      }
    }
  }

  /** Closes the kept connections; later requests still work (on new ones). */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const c of list) c.socket.destroy();
    this.#idle.clear();
  }

  #exchange(
    connection: Connection,
    request: BulkRequest,
    text: string,
    keepAlive: boolean,
  ): Promise<BulkResponse> {
    const { url, signal } = request;
    const subject = `${request.method ?? 'GET'} ${redactUrl(url)}`;
    const { socket } = connection;
    return new Promise<BulkResponse>((resolve, reject) => {
      let body: BulkBody | undefined;
      /** What arrived of the answer's head(s), and how much. */
      let headParts: Buffer[] = [];
      let headLength = 0;
      /** A byte of an answer came (an informational one counts). */
      let answered = false;
      let settled = false;
      let done = false;
      /** The whole answer head must come within this, however slowly it trickles. */
      let headDeadline: NodeJS.Timeout | undefined;
      const finish = (): void => {
        done = true;
        clearTimeout(headDeadline);
        connection.onTimeout = undefined;
        signal?.removeEventListener('abort', onAbort);
      };
      /** `closed`: the socket ended or failed (not a timeout, an abort or a bad answer). */
      const fail = (error: unknown, closed = false): void => {
        if (done) return;
        if (body) {
          finish();
          body.connectionFailed(error);
        } else if (!settled) {
          settled = true;
          finish();
          const stale = closed && connection.reused && !answered;
          reject(stale ? new StaleConnectionError() : error);
        }
        this.#discard(connection);
      };
      // After the head too, an abort fails the body as a broken connection would.
      const onAbort = (): void => fail(abortError(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });

      connection.onEnd = (error) => {
        if (error !== undefined || !body) fail(error ?? closedError(url), true);
        else body.connectionEnded();
      };
      const idleTimeoutMs = this.#options.idleTimeoutMs ?? 300_000;
      connection.onRead = (slice) => {
        answered = true;
        if (body) {
          const more = body.input(slice);
          // Reading stops until the consumer takes more: its time is not the server's silence.
          if (!more) socket.setTimeout(0);
          return more;
        }
        if (settled) return false;
        const before = headLength;
        headParts.push(Buffer.from(slice));
        headLength += slice.byteLength;
        // A head ends with a line end: a read without one cannot complete it, and parsing the
        // whole head again on each read of a trickled one would cost its square. (The first
        // bytes are always looked at: they tell HTTP/1 from anything else.)
        if (before >= 8 && slice.indexOf(0x0a) < 0 && headLength <= MAX_HEAD) return true;
        const head = Buffer.concat(headParts, headLength);
        headParts = [head];
        let parsed: ParsedHead | undefined;
        try {
          parsed = parseHeads(head, subject);
        } catch (error) {
          fail(error);
          return false;
        }
        if (!parsed) return true;
        const rest = head.subarray(parsed.length);
        const reusable = keepAlive && parsed.keepAlive;
        headParts = [];
        settled = true;
        clearTimeout(headDeadline);
        body = new BulkBody(
          {
            pause: () => socket.pause(),
            resume: () => {
              socket.setTimeout(idleTimeoutMs);
              socket.resume();
            },
            destroy: () => {
              finish();
              this.#discard(connection);
            },
            release: (clean) => {
              finish();
              if (clean && reusable) this.#keep(connection);
              else this.#discard(connection);
            },
          },
          parsed.decoder,
        );
        resolve({ statusCode: parsed.status, headers: parsed.headers, body });
        // Held until a consumer attaches; reading (and the idle timeout) stops until then.
        if (rest.byteLength > 0) body.input(rest);
        socket.setTimeout(0);
        return false;
      };
      // One 'timeout' listener per connection (see #connect), pointed at the exchange running.
      connection.onTimeout = () => fail(timeoutError(`${url.host} sent nothing for too long`));
      socket.setTimeout(idleTimeoutMs);
      const awaitHead = (): void => {
        if (done || settled) return;
        headDeadline = setTimeout(
          () => fail(timeoutError(`${url.host} sent no complete answer in time`)),
          this.#options.headersTimeoutMs ?? 300_000,
        );
      };
      connection.ready.then(() => {
        if (done) return;
        // Latin-1, as undici writes heads: a header's bytes are the ones the caller gave.
        socket.write(text, 'latin1');
        if (!request.body) return awaitHead();
        // A final answer before the whole body (a 401, a 413) ends the sending; an informational
        // one (100 Continue, 103) does not.
        sendChunked(socket, request.body, () => body !== undefined || done).then(awaitHead, fail);
      }, fail);
    });
  }

  #connect(url: URL, key: string): Connection {
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const target = resolveAddress(this.#options.resolve, hostname, port);
    const tls = this.#options.tls;
    const connection: Connection = {
      key,
      reused: false,
      onRead: undefined,
      onEnd: undefined,
    } as Connection;
    const onread = {
      buffer: Buffer.allocUnsafe(this.#options.readBufferSize ?? 256 * 1024),
      callback: (length: number, buffer: Buffer): boolean => {
        const reader = connection.onRead;
        if (!reader) {
          // Bytes on a kept connection nobody asked for: it is not fit to carry a request.
          this.#discard(connection);
          return false;
        }
        const more = reader(buffer.subarray(0, length));
        // Released to the pool during the call: keep reading, to see the server close it.
        return connection.onRead === undefined ? true : more;
      },
    };
    const secure = url.protocol === 'https:';
    const session = secure ? this.#sessions.get(key) : undefined;
    const socket: Socket = secure
      ? connectTls({
          host: target.address,
          port: target.port,
          ...(isIpLiteral(hostname) ? {} : { servername: hostname }),
          ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
          ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
          ...(tls.key !== undefined ? { key: tls.key } : {}),
          ...(session ? { session } : {}),
          rejectUnauthorized: tls.rejectUnauthorized,
          ALPNProtocols: ['http/1.1'],
          // Node has it since 15 (tls.md); @types/node leaves it out of ConnectionOptions.
          onread,
        } as ConnectionOptions)
      : connectPlain({ host: target.address, port: target.port, onread });
    connection.socket = socket;
    if (secure) socket.on('session', (ticket: Buffer) => this.#sessions.set(key, ticket));
    connection.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(timeoutError(`connecting to ${url.host} timed out`)),
        this.#options.connectTimeoutMs ?? 10_000,
      );
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(closedError(url));
      });
    });
    connection.ready.catch(() => {});
    socket.on('error', (error) => connection.onEnd?.(error));
    socket.on('timeout', () => connection.onTimeout?.());
    socket.on('close', () => {
      this.#forget(connection);
      connection.onEnd?.();
    });
    return connection;
  }

  #takeIdle(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    for (let c = list?.pop(); c; c = list?.pop()) {
      clearTimeout(c.idleTimer);
      if (c.socket.destroyed) continue;
      c.socket.ref();
      c.reused = true;
      return c;
    }
    return undefined;
  }

  /** The exchange ended cleanly: the connection waits for the next request to its origin. */
  #keep(connection: Connection): void {
    connection.onRead = undefined;
    connection.onEnd = undefined;
    const list = this.#idle.get(connection.key) ?? [];
    const keepFor = this.#options.keepAliveTimeoutMs ?? 4_000;
    if (this.#closed || connection.socket.destroyed || list.length >= MAX_IDLE || keepFor <= 0) {
      connection.socket.destroy();
      return;
    }
    connection.socket.setTimeout(0);
    // Reading goes on while idle (onread), so that a server's close is seen at once.
    connection.socket.resume();
    connection.socket.unref();
    connection.idleTimer = setTimeout(() => this.#discard(connection), keepFor);
    connection.idleTimer.unref();
    list.push(connection);
    this.#idle.set(connection.key, list);
  }

  #discard(connection: Connection): void {
    clearTimeout(connection.idleTimer);
    this.#forget(connection);
    connection.socket.destroy();
  }

  #forget(connection: Connection): void {
    const list = this.#idle.get(connection.key);
    const at = list?.indexOf(connection) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
  }
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

function closedError(url: URL): Error {
  return Object.assign(new Error(`${url.host} closed the connection before answering`), {
    code: 'ECONNRESET',
  });
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}
