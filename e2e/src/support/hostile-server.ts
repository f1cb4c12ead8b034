// Tiny fake servers for what registry:2 cannot be made to do: answer with a garbage challenge,
// name a token realm on another origin over http, redirect a blob download from https to http or
// to a storage host, or serve a manifest over the size limit. Every request is recorded (method,
// path, headers), so that a test can show what ferry sent, and to whom, and that it sent nothing.
// Also a recording proxy in front of registry:2 and its token server, so that a test knows every
// token value the token server issued to ferry.
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface FakeServer {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, as a reference takes it. */
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown;

const MAX_BODY = 16 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY) throw new Error('request body too large for a fake server');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function listen(server: Server, scheme: 'http' | 'https', requests: RecordedRequest[]) {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  } satisfies FakeServer;
}

/** An http server (https with `tls`) on a free loopback port that records every request. */
export async function startFakeServer(
  handler: FakeHandler,
  tls?: { cert: string; key: string },
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    readBody(req)
      .then((body) => handler(req, res, body))
      .catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
  };
  const server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
  return listen(server, tls ? 'https' : 'http', requests);
}

/** Sends a distribution-spec error body. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export interface TokenRecordingProxy extends FakeServer {
  /** Every token, access_token and refresh_token value the token server returned through it. */
  tokens: string[];
}

/**
 * A proxy in front of registry:2 that also stands in for its token server: the realm in every
 * challenge is rewritten to the proxy's `/token`, which forwards to the real token endpoint and
 * keeps each token value it passes on. The Host header is kept, so upload locations the registry
 * builds point back at the proxy.
 */
export async function startTokenRecordingProxy(
  registryUrl: string,
  tokenUrl: string,
): Promise<TokenRecordingProxy> {
  const registry = new URL(registryUrl);
  const token = new URL(tokenUrl);
  const tokens: string[] = [];
  let selfUrl = '';
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const toToken = (req.url ?? '').startsWith('/token');
      const upstream = toToken ? token : registry;
      const path = toToken
        ? `${token.pathname}${(req.url ?? '').slice('/token'.length)}`
        : (req.url ?? '/');
      const headers = { ...req.headers };
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      if (body.byteLength > 0 || req.method === 'PUT' || req.method === 'POST') {
        headers['content-length'] = String(body.byteLength);
      }
      const outgoing = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path,
          headers,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('error', reject);
          answer.on('end', () => {
            const data = Buffer.concat(chunks);
            const out = { ...answer.headers };
            const challenge = out['www-authenticate'];
            if (typeof challenge === 'string') {
              out['www-authenticate'] = challenge.replace(tokenUrl, `${selfUrl}/token`);
            }
            if (toToken && answer.statusCode === 200) {
              const parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
              for (const key of ['token', 'access_token', 'refresh_token']) {
                const value = parsed[key];
                if (typeof value === 'string' && value && !tokens.includes(value)) {
                  tokens.push(value);
                }
              }
            }
            delete out['transfer-encoding'];
            if (req.method !== 'HEAD') out['content-length'] = String(data.byteLength);
            res.writeHead(answer.statusCode ?? 502, out);
            res.end(data);
            resolve();
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  const server = await startFakeServer(forward);
  selfUrl = server.url;
  return Object.assign(server, { tokens });
}
