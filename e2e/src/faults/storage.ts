/**
 * A second loopback origin standing in for blob storage behind a registry redirect (S3, a CDN):
 * it serves pre-signed URLs the proxy hands out, fetching the real bytes from the registry with
 * the credentials of the request that was redirected, and, like S3, answers 400 to any request
 * that carries its own Authorization header next to the signature.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send } from './streams.js';
import type { ConnectionThrottle } from './throttle.js';
import { recordedHeaders, type RecordedHeaders } from './script.js';

export interface StorageRequest {
  method: string;
  path: string;
  range: string | undefined;
  /** Whether the request carried an Authorization header (it must not). */
  authorization: boolean;
  /** The other request headers (for -H checks); credentials left out. */
  headers: RecordedHeaders;
  status: number | undefined;
  bytesOut: number;
}

export interface StorageOrigin {
  readonly url: string;
  readonly requests: StorageRequest[];
  /** A URL on this origin that serves `path` of the registry with `authorization`. */
  presign(path: string, authorization: string | undefined): string;
  close(): Promise<void>;
}

const PASSED_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
];

export async function startStorageOrigin(
  upstream: URL,
  throttle?: ConnectionThrottle,
): Promise<StorageOrigin> {
  const agent = new Agent({ keepAlive: true });
  const signed = new Map<string, { path: string; authorization: string | undefined }>();
  const requests: StorageRequest[] = [];
  const server = createServer((req, res) => serve(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const rec: StorageRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      range: req.headers.range,
      authorization: req.headers.authorization !== undefined,
      headers: recordedHeaders(req.headers),
      status: undefined,
      bytesOut: 0,
    };
    requests.push(rec);
    const fail = (status: number, code: string, message: string) => {
      rec.status = status;
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(body);
    };
    if (rec.authorization) {
      return fail(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      );
    }
    const id = new URL(rec.path, origin).searchParams.get('X-Amz-Signature') ?? '';
    const target = signed.get(id);
    if (!target || (rec.method !== 'GET' && rec.method !== 'HEAD')) {
      return fail(403, 'AccessDenied', 'Request has expired or the signature does not match');
    }
    const headers: OutgoingHttpHeaders = { host: upstream.host };
    if (target.authorization) headers.authorization = target.authorization;
    if (req.headers.range) headers.range = req.headers.range;
    const up = httpRequest({
      hostname: upstream.hostname,
      port: upstream.port,
      method: rec.method,
      path: target.path,
      headers,
      agent,
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.on('response', (upRes) => {
      rec.status = upRes.statusCode ?? 502;
      const out: OutgoingHttpHeaders = {};
      for (const name of PASSED_HEADERS) {
        const value = upRes.headers[name];
        if (value !== undefined) out[name] = value;
      }
      res.writeHead(rec.status, out);
      if (!throttle?.active) {
        upRes.on('data', (chunk: Buffer) => (rec.bytesOut += chunk.byteLength));
        upRes.pipe(res);
        return;
      }
      void (async () => {
        for await (const chunk of upRes) {
          for (const piece of throttle.pieces(chunk as Buffer)) {
            await throttle.wait(res.socket, piece.byteLength);
            rec.bytesOut += piece.byteLength;
            if (!(await send(res, piece))) return;
          }
        }
        res.end();
      })().catch(() => res.destroy());
    });
    up.end();
  }

  return {
    url: origin,
    requests,
    presign(path, authorization) {
      const id = randomBytes(16).toString('hex');
      signed.set(id, { path, authorization });
      const name = path.split('?')[0]?.split('/').pop() ?? 'blob';
      return `${origin}/ferry-e2e-bucket/${encodeURIComponent(name)}?X-Amz-Expires=300&X-Amz-Signature=${id}`;
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
