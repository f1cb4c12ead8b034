/**
 * Shared set-up of the bulk-path trust tests (bulk-trust.test.ts, bulk-trust-tls-proxy.test.ts):
 * a 9 MiB blob, the secrets that must not leak, loopback answers, and a forward proxy.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest } from '@ferry/oci';
import { afterEach, beforeEach, expect } from 'vitest';
import type { DownloadStats } from '../blob-download.js';
import { BULK_DOWNLOAD_THRESHOLD } from '../blob-file-download.js';
import type { Credential } from '../credentials/index.js';
import { Registry, type RegistryOptions } from '../registry.js';
import {
  json,
  recordingSleep,
  startLoopback,
  type Handler,
  type LoopbackOptions,
  type LoopbackServer,
} from './loopback.js';

export const MiB = 1024 * 1024;
export const blob = randomBytes(9 * MiB);
export const digest = computeDigest(blob);
export const descriptor = { digest, size: blob.byteLength };
export const blobPath = `/v2/a/b/blobs/${digest}`;

export const PASSWORD = 's3cret-password';
export const ALICE: Credential = { username: 'alice', password: PASSWORD };
export const ALICE_BASIC = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
export const TOKEN = 'tok-SECRET-4711';
export const STATIC_TOKEN = 'c3RhdGljLXNlY3JldA==';
export const API_KEY = 'k3y-secret-0815';
export const USER_HEADERS = { 'X-Api-Key': [API_KEY] };
/** What a bodyless GET over the bulk connection sends to an origin that gets no secrets. */
export const BARE_BULK_HEADERS = ['host', 'user-agent'];

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The URLs the trace says went over a connection of their own. */
export function ownConnections(trace: string[]): string[] {
  return trace.flatMap((line) => {
    const match = /^\* GET (\S+): own connection$/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

export type Answer = (req: IncomingMessage, res: ServerResponse) => void;

export const serveBlob: Answer = (_req, res) => {
  res.writeHead(200, { 'content-length': blob.byteLength, 'docker-content-digest': digest });
  res.end(blob);
};

export function redirect(location: string, status: number): Answer {
  return (_req, res) => {
    res.writeHead(status, { location, 'content-length': 0 });
    res.end();
  };
}

export function unauthorized(challenge: string): Answer {
  return (_req, res) =>
    json(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      { 'www-authenticate': challenge },
    );
}

/** Everything the server received in any header that could carry a secret, or the user's -H. */
export function secretsReceived(s: LoopbackServer): string[] {
  return s.requests.flatMap((r) =>
    ['authorization', 'cookie', 'proxy-authorization', 'x-api-key']
      .map((name) => r.headers[name])
      .filter((v): v is string => typeof v === 'string'),
  );
}

/** The sorted header names of each request the server received. */
export function headerNames(s: LoopbackServer): string[][] {
  return s.requests.map((r) => Object.keys(r.headers).sort());
}

/**
 * Registers the per-test set-up (a scratch directory; servers and clients closed after each test)
 * and gives the test file its server, registry and pull helpers.
 */
export function bulkTrustFixture() {
  let dir: string;
  let servers: LoopbackServer[] = [];
  let clients: Registry[] = [];
  let files = 0;

  beforeEach(async () => {
    expect(blob.byteLength).toBeGreaterThanOrEqual(BULK_DOWNLOAD_THRESHOLD);
    dir = await mkdtemp(join(tmpdir(), 'ferry-bulk-trust-'));
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
    clients = [];
    servers = [];
    await rm(dir, { recursive: true, force: true });
  });

  async function server(handle?: Handler, options: LoopbackOptions = {}): Promise<LoopbackServer> {
    const started = await startLoopback(handle, options);
    servers.push(started);
    return started;
  }

  /** A Registry on its own agent (the bulk path is on), tracing into `trace`. */
  function registry(host: string, trace: string[], options: RegistryOptions = {}): Registry {
    const client = new Registry(host, {
      plainHttp: true,
      sleep: recordingSleep().sleep,
      debug: (line) => trace.push(line),
      ...options,
    });
    clients.push(client);
    return client;
  }

  /** Downloads the blob into a new file and returns the file's bytes. */
  async function pull(client: Registry): Promise<{ bytes: Buffer; stats: DownloadStats }> {
    const path = join(dir, `blob-${++files}`);
    const handle = await open(path, 'w+');
    try {
      const stats = await client.repository('a/b').blobs.downloadIntoFile(descriptor, handle);
      return { bytes: await readFile(path), stats };
    } finally {
      await handle.close();
    }
  }

  return { server, registry, pull, scratch: () => dir };
}

/** A forward proxy on loopback: tunnels CONNECT and forwards absolute-form requests. */
export async function startForwardProxy(): Promise<{
  origin: string;
  /** `CONNECT host:port` or `GET http://…`, one per request it handled. */
  seen: string[];
  close(): Promise<void>;
}> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const proxy = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.byteLength > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
