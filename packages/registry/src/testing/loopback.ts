/**
 * A scripted loopback HTTP server for unit tests of behaviour a real registry will not produce
 * on demand (cut bodies, 429s, redirects to other origins). Each test sets `handle`; every request
 * is recorded with its headers and the number of body bytes received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
) => void | Promise<void>;

export interface LoopbackServer {
  /** `127.0.0.1:<port>` */
  host: string;
  origin: string;
  requests: RecordedRequest[];
  handle: Handler;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Serve https with this key and certificate (PEM) instead of plain http. */
  tls?: { key: string; cert: string } | undefined;
}

export async function startLoopback(
  handle: Handler = notFound,
  options: LoopbackOptions = {},
): Promise<LoopbackServer> {
  const requests: RecordedRequest[] = [];
  const state: { handle: Handler } = { handle };
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      Promise.resolve(state.handle(request, response, body)).catch((error: unknown) => {
        response.statusCode = 599;
        response.end(String(error));
      });
    });
  };
  const server: Server = options.tls
    ? createTlsServer(options.tls, listener)
    : createServer(listener);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    get handle() {
      return state.handle;
    },
    set handle(next: Handler) {
      state.handle = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function notFound(_request: IncomingMessage, response: ServerResponse): void {
  json(response, 404, {
    errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
  });
}

export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Writes the first `bytes` bytes of `body` under a Content-Length for all of it, then drops the socket. */
export function cutShort(
  response: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body: Buffer,
  bytes: number,
): void {
  response.writeHead(status, { 'content-length': body.byteLength, ...headers });
  response.write(body.subarray(0, bytes), () => {
    setTimeout(() => response.socket?.destroy(), 20);
  });
}

/** A no-wait sleep that records the delays asked for. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

/**
 * A handler that lets `serve` answer the first `count` requests, then aborts `controller` and
 * leaves every later request unanswered (the abort ends it): a run killed part way through.
 */
export function answerThenAbort(
  count: number,
  controller: AbortController,
  serve: (request: IncomingMessage, response: ServerResponse) => void,
): (request: IncomingMessage, response: ServerResponse) => void {
  let answered = 0;
  return (request, response) => {
    if (answered >= count) {
      controller.abort();
      return;
    }
    answered++;
    serve(request, response);
  };
}

/** Parses `bytes=a-b` (both ends given, as the ranged download sends them). */
export function requestedRange(
  request: IncomingMessage,
): { start: number; end: number } | undefined {
  const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
  return match ? { start: Number(match[1]), end: Number(match[2]) } : undefined;
}

/** Answers as a registry that honours Range: 206 with the part asked for, or 200 with all of `body`. */
export function serveRange(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
  const range = requestedRange(request);
  if (!range) {
    response.writeHead(200, { 'content-length': body.byteLength });
    return void response.end(body);
  }
  const end = Math.min(range.end, body.byteLength - 1);
  response.writeHead(206, {
    'content-length': end - range.start + 1,
    'content-range': `bytes ${range.start}-${end}/${body.byteLength}`,
  });
  response.end(body.subarray(range.start, end + 1));
}
