/**
 * GETs of large blob bodies over a connection of their own that reads into one fixed buffer.
 *
 * undici hands out every socket read as a new 64 KiB buffer; for a 512 MiB blob that is 8,000
 * allocations which glibc keeps as heap after they are freed (40 MiB of a pull's 107 MiB peak),
 * and every one passes through a stream before it reaches the file. Here the socket reads into one
 * buffer (`onread`), and the consumer copies each slice where it goes (see bulk-body.ts).
 *
 * This is one exchange on the wire, nothing more: which headers and credentials a request
 * carries, redirects, retries and 401s stay with the Transport, which hands this the same request
 * it would give undici. The connection sends `Connection: close` and is never reused.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connect as connectPlain, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { FerryError } from '@ferry/oci';
import { BulkBody } from './bulk-body.js';
import { redactUrl, RegistryErrorCode } from './errors.js';
import { ChunkedDecoder, CloseDecoder, LengthDecoder, type BodyDecoder } from './http1-framing.js';
import { isIpLiteral, resolveAddress, type ResolveRule } from './resolve.js';

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
  /** Bytes per socket read. Default 256 KiB. */
  readBufferSize?: number | undefined;
}

export interface BulkRequest {
  url: URL;
  headers: Record<string, string | string[]>;
  signal?: AbortSignal | null | undefined;
}

export interface BulkResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: BulkBody;
}

/** All answer heads together (informational ones included) may not be larger than this. */
const MAX_HEAD = 64 * 1024;
const STATUS_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Headers that describe the connection or a request body: this exchange sets them itself. */
const OWN_HEADERS = new Set([
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
]);

export class BulkConnector {
  readonly #options: BulkConnectorOptions;

  constructor(options: BulkConnectorOptions) {
    this.#options = options;
  }

  /** Sends a GET and resolves with the answer's head; the body follows through `body`. */
  request(request: BulkRequest): Promise<BulkResponse> {
    const { url, signal } = request;
    let text: string;
    try {
      text = requestHead(url, request.headers);
    } catch (error) {
      // A promise-returning call fails through its promise, also for callers that chain `.catch`.
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<BulkResponse>((resolve, reject) => {
      let body: BulkBody | undefined;
      let head: Buffer | undefined;
      let settled = false;
      const settle = (): void => {
        settled = true;
        clearTimeout(connectTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: unknown): void => {
        if (body) body.connectionFailed(error);
        else if (!settled) {
          settle();
          reject(error);
        }
        socket.destroy();
      };
      const onAbort = (): void => fail(abortError(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });

      const idleTimeoutMs = this.#options.idleTimeoutMs ?? 300_000;
      const onread = {
        buffer: Buffer.allocUnsafe(this.#options.readBufferSize ?? 256 * 1024),
        callback: (length: number, buffer: Buffer): boolean => {
          const slice = buffer.subarray(0, length);
          if (body) {
            const more = body.input(slice);
            // Reading stops until the consumer takes more: its time is not the server's silence.
            if (!more) socket.setTimeout(0);
            return more;
          }
          if (settled) return false;
          head = head ? Buffer.concat([head, slice]) : Buffer.from(slice);
          let parsed: ParsedHead | undefined;
          try {
            parsed = parseHeads(head, url);
          } catch (error) {
            fail(error);
            return false;
          }
          if (!parsed) return true;
          const rest = head.subarray(parsed.length);
          head = undefined;
          // The abort signal keeps working for the body, until the body is done with the
          // connection: a signal may outlive many requests, and must not keep them alive.
          const onBodyAbort = (): void => void body?.destroy(abortError(signal as AbortSignal));
          body = new BulkBody(
            {
              pause: () => socket.pause(),
              resume: () => {
                socket.setTimeout(idleTimeoutMs);
                socket.resume();
              },
              destroy: () => {
                signal?.removeEventListener('abort', onBodyAbort);
                socket.destroy();
              },
            },
            parsed.decoder,
          );
          settle();
          signal?.addEventListener('abort', onBodyAbort, { once: true });
          resolve({ statusCode: parsed.status, headers: parsed.headers, body });
          // Held until a consumer attaches; reading (and the idle timeout) stops until then.
          if (rest.byteLength > 0) body.input(rest);
          socket.setTimeout(0);
          return false;
        },
      };

      const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
      const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const target = resolveAddress(this.#options.resolve, hostname, port);
      const tls = this.#options.tls;
      const socket: Socket =
        url.protocol === 'https:'
          ? connectTls({
              host: target.address,
              port: target.port,
              ...(isIpLiteral(hostname) ? {} : { servername: hostname }),
              ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
              ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
              ...(tls.key !== undefined ? { key: tls.key } : {}),
              rejectUnauthorized: tls.rejectUnauthorized,
              ALPNProtocols: ['http/1.1'],
              // Node has it since 15 (tls.md); @types/node leaves it out of ConnectionOptions.
              onread,
            } as ConnectionOptions)
          : connectPlain({ host: target.address, port: target.port, onread });
      const connectTimer = setTimeout(
        () => fail(timeoutError(`connecting to ${url.host} timed out`)),
        this.#options.connectTimeoutMs ?? 10_000,
      );
      socket.setTimeout(idleTimeoutMs, () =>
        fail(timeoutError(`${url.host} sent nothing for too long`)),
      );
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(connectTimer);
        socket.write(text);
      });
      socket.on('error', fail);
      socket.on('close', () => {
        if (body) body.connectionEnded();
        else fail(closedError(url));
      });
    });
  }
}

interface ParsedHead {
  status: number;
  headers: IncomingHttpHeaders;
  decoder: BodyDecoder;
  /** Bytes of `head` the heads took (informational answers included). */
  length: number;
}

/** The final answer's head at the start of `bytes`, or undefined if it is not complete yet. */
function parseHeads(bytes: Buffer, url: URL): ParsedHead | undefined {
  let start = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', start, 'latin1');
    if (end < 0) {
      // Something else than HTTP/1 (an HTTP/2 frame, another protocol's greeting) may never send
      // a blank line: refuse it by its first bytes instead of waiting for the idle timeout.
      const seen = Math.min(bytes.byteLength - start, STATUS_PREFIX.byteLength);
      if (bytes.compare(STATUS_PREFIX, 0, seen, start, start + seen) !== 0) {
        const lineEnd = bytes.indexOf('\r\n', start, 'latin1');
        throw notHttp1(url, bytes.toString('latin1', start, lineEnd < 0 ? undefined : lineEnd));
      }
      if (bytes.byteLength > MAX_HEAD) throw protocolError(url, 'the answer head is too large');
      return undefined;
    }
    if (end + 4 > MAX_HEAD) throw protocolError(url, 'the answer head is too large');
    const lines = bytes.toString('latin1', start, end).split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(lines[0] ?? '');
    if (!statusLine) throw notHttp1(url, lines[0] ?? '');
    const status = Number(statusLine[1]);
    const headers = parseHeaderLines(lines.slice(1), url);
    start = end + 4;
    // 100 Continue, 103 Early Hints: the answer is still to come.
    if (status >= 100 && status < 200) {
      if (status === 101) throw protocolError(url, 'the server switched protocols');
      continue;
    }
    return { status, headers, decoder: bodyDecoder(status, headers, url), length: start };
  }
}

function parseHeaderLines(lines: string[], url: URL): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // Folded lines (obsolete) and names with spaces are how responses get smuggled: refuse them.
    if (!TOKEN.test(name))
      throw protocolError(url, `bad header line ${JSON.stringify(line.slice(0, 40))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (INVALID_VALUE.test(value)) throw protocolError(url, `bad value of header ${name}`);
    const key = name.toLowerCase();
    const seen = headers[key];
    // As undici: a repeated header is a list of its values.
    if (seen === undefined) headers[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[key] = [seen, value];
  }
  return headers as IncomingHttpHeaders;
}

/** Where the body ends (RFC 9112 §6.3), refusing anything ambiguous. */
function bodyDecoder(status: number, headers: IncomingHttpHeaders, url: URL): BodyDecoder {
  const length = headers['content-length'];
  const coding = headers['transfer-encoding'];
  if (status === 204 || status === 304) return new LengthDecoder(0);
  if (coding !== undefined) {
    if (length !== undefined) {
      throw protocolError(url, 'the answer has both Content-Length and Transfer-Encoding');
    }
    if (typeof coding !== 'string' || coding.trim().toLowerCase() !== 'chunked') {
      throw protocolError(url, `unsupported Transfer-Encoding ${JSON.stringify(coding)}`);
    }
    return new ChunkedDecoder();
  }
  if (length === undefined) return new CloseDecoder();
  if (typeof length !== 'string' || !/^\d{1,15}$/.test(length)) {
    throw protocolError(url, `bad Content-Length ${JSON.stringify(length)}`);
  }
  return new LengthDecoder(Number(length));
}

/** The request line and headers; refuses what could split the request (as undici does). */
function requestHead(url: URL, headers: Record<string, string | string[]>): string {
  let host = url.host;
  let lines = '';
  for (const [name, values] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (!TOKEN.test(name) || OWN_HEADERS.has(key)) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `invalid request header ${JSON.stringify(name)}`,
      );
    }
    for (const value of Array.isArray(values) ? values : [values]) {
      if (INVALID_VALUE.test(value)) {
        throw new FerryError(RegistryErrorCode.Protocol, `invalid value of request header ${name}`);
      }
      if (key === 'host') host = value;
      else lines += `${name}: ${value}\r\n`;
    }
  }
  return `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${host}\r\n${lines}connection: close\r\n\r\n`;
}

function notHttp1(url: URL, firstLine: string): FerryError {
  return protocolError(url, `not an HTTP/1.1 answer: ${JSON.stringify(firstLine.slice(0, 40))}`);
}

function protocolError(url: URL, what: string): FerryError {
  return new FerryError(RegistryErrorCode.Protocol, `GET ${redactUrl(url)}: ${what}`);
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
