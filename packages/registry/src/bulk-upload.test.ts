/**
 * The bulk upload: a file read into two fixed buffers and sent chunked over a connection of its
 * own. The bytes must arrive intact however slowly the server reads (a buffer is reused only once
 * the socket has taken it), an early answer ends the sending, and the request carries exactly what
 * the Transport would have given undici: credentials for the registry's origin and nothing for
 * an upload Location on another one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeDigest } from '@ferry/oci';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BulkConnector } from './bulk-connector.js';
import { Registry } from './registry.js';
import { json, recordingSleep, startLoopback, type LoopbackServer } from './testing/loopback.js';
import { uploadServer } from './testing/upload-server.js';
import { FileUploadSource, type UploadSource } from './upload-source.js';

let dir: string;
let file: string;
const data = randomBytes(5 * 1024 * 1024 + 12_345);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-bulk-upload-'));
  file = join(dir, 'blob.bin');
  await writeFile(file, data);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const servers: Server[] = [];
const loopbacks: LoopbackServer[] = [];
const rawServers: NetServer[] = [];
afterEach(async () => {
  for (const server of rawServers.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const server of loopbacks.splice(0)) await server.close();
});

/** A server whose handler sees the raw request; returns its origin. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

const connector = () => new BulkConnector({ tls: { rejectUnauthorized: true } });

/** A raw TCP server (for answers node:http would not give); returns its origin. */
async function serveRaw(onSocket: (socket: Socket) => void): Promise<URL> {
  const raw = createNetServer(onSocket);
  rawServers.push(raw);
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(raw.address() as AddressInfo).port}/`);
}

describe('FileUploadSource', () => {
  it('reads the whole file in pieces, counting every byte', async () => {
    let counted = 0;
    const source = new FileUploadSource(file, (bytes) => (counted += bytes));
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    const pieces: Buffer[] = [];
    for (let n; (n = await source.read(buffer)) > 0;)
      pieces.push(Buffer.from(buffer.subarray(0, n)));
    await source.close();
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
    expect(counted).toBe(data.byteLength);
  });

  it('ends cleanly at the next read once stopped', async () => {
    const source = new FileUploadSource(file);
    const buffer = Buffer.allocUnsafe(1000);
    expect(await source.read(buffer)).toBe(1000);
    source.stop();
    expect(await source.read(buffer)).toBe(0);
    await source.close();
    await source.close();
  });

  it('gives the same bytes as a stream, for undici', async () => {
    const source = new FileUploadSource(file);
    const chunks: Buffer[] = [];
    for await (const chunk of source.stream()) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
  });

  it('a missing file fails the read with ENOENT, and closing it does not throw', async () => {
    const source = new FileUploadSource(join(dir, 'missing'));
    await expect(source.read(Buffer.alloc(10))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(source.close()).resolves.toBeUndefined();
  });
});

describe('a chunked PATCH from fixed buffers', () => {
  it('delivers the exact bytes, chunked, with the request headers and no Content-Length', async () => {
    let received: { headers: Record<string, unknown>; body: Buffer; method: string } | undefined;
    const origin = await serve((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received = {
          headers: request.headers,
          body: Buffer.concat(chunks),
          method: request.method ?? '',
        };
        response.writeHead(202, { location: '/next' }).end();
      });
    });
    const response = await connector().request({
      method: 'PATCH',
      url: new URL('/v2/a/b/blobs/uploads/x?_state=s', origin),
      headers: { 'content-type': 'application/octet-stream', authorization: 'Bearer t' },
      body: new FileUploadSource(file),
    });
    await response.body.dump();
    expect(response.statusCode).toBe(202);
    expect(response.headers.location).toBe('/next');
    expect(received?.method).toBe('PATCH');
    expect(received?.headers['transfer-encoding']).toBe('chunked');
    expect(received?.headers['content-length']).toBeUndefined();
    expect(received?.headers.authorization).toBe('Bearer t');
    expect(received?.body.byteLength).toBe(data.byteLength);
    expect(sha256(received?.body ?? Buffer.alloc(0))).toBe(sha256(data));
  });

  it('reuses a buffer only once the socket took it: a server reading slowly still gets every byte', async () => {
    // Each piece the source hands out is stamped with its number; overwriting a buffer the socket
    // still holds would show up as a repeated or missing stamp.
    const piece = 1024 * 1024;
    const pieces = 24;
    let served = 0;
    const source: UploadSource = {
      async read(buffer) {
        if (served === pieces) return 0;
        buffer.fill(served % 251, 0, piece);
        served++;
        return piece;
      },
      stream: () => Readable.from([]),
      close: async () => {},
    };
    let body = Buffer.alloc(0);
    const origin = await serve((request, response) => {
      const chunks: Buffer[] = [];
      // Reads in bursts with pauses: the client's writes back up.
      request.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        request.pause();
        setImmediate(() => request.resume());
      });
      request.on('end', () => {
        body = Buffer.concat(chunks);
        response.writeHead(202).end();
      });
    });
    const response = await connector().request({
      method: 'PATCH',
      url: new URL('/up', origin),
      headers: {},
      body: source,
    });
    await response.body.dump();
    expect(response.statusCode).toBe(202);
    expect(body.byteLength).toBe(piece * pieces);
    for (let index = 0; index < pieces; index++) {
      const slice = body.subarray(index * piece, (index + 1) * piece);
      expect(slice.every((byte) => byte === index % 251)).toBe(true);
    }
  });

  it('an answer before the end of the body (413) ends the sending and is what the request gives', async () => {
    let reads = 0;
    let closed = false;
    const source: UploadSource = {
      async read(buffer) {
        reads++;
        buffer.fill(1);
        return buffer.byteLength;
      },
      stream: () => Readable.from([]),
      close: async () => {
        closed = true;
      },
    };
    // A raw server: it answers once 3 MiB arrived and goes on reading without closing, as a
    // careful server does (one that closes at once makes the client's next write fail instead).
    const origin = await serveRaw((socket) => {
      let seen = 0;
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.byteLength;
        if (seen > 3 * 1024 * 1024 && !socket.writableEnded) {
          const answer = '{"errors":[{"code":"SIZE_INVALID"}]}';
          socket.end(
            `HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncontent-length: ${answer.length}\r\n\r\n${answer}`,
          );
        }
      });
      socket.on('error', () => {});
    });
    const response = await connector().request({
      method: 'PATCH',
      url: new URL('/up', origin),
      headers: {},
      body: source,
    });
    expect(response.statusCode).toBe(413);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toContain('SIZE_INVALID');
    // The source is endless: only an answer can have stopped the sending.
    await expect.poll(() => closed).toBe(true);
    expect(reads).toBeLessThan(1000);
  });

  it('a 100 Continue before the body is all sent does not end the sending: the whole body goes', async () => {
    let received = Buffer.alloc(0);
    const origin = await serveRaw((socket) => {
      const chunks: Buffer[] = [];
      let continued = false;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        if (!continued && all.includes('\r\n\r\n')) {
          continued = true;
          socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        }
        if (all.subarray(-7).toString('latin1') === '\r\n0\r\n\r\n'.slice(-7)) {
          received = all;
          socket.end('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n');
        }
      });
      socket.on('error', () => {});
    });
    const response = await connector().request({
      method: 'PATCH',
      url: new URL('/up', origin),
      headers: {},
      body: new FileUploadSource(file),
    });
    await response.body.dump();
    expect(response.statusCode).toBe(202);
    // The chunked body decoded is the file.
    const text = received.toString('latin1');
    const bodyStart = text.indexOf('\r\n\r\n') + 4;
    const pieces: Buffer[] = [];
    for (let at = bodyStart; ;) {
      const lineEnd = received.indexOf('\r\n', at);
      const size = Number.parseInt(received.toString('latin1', at, lineEnd), 16);
      if (size === 0) break;
      pieces.push(received.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    expect(sha256(Buffer.concat(pieces))).toBe(sha256(data));
  });

  it('a server that drops the connection mid-body fails the request with a network error', async () => {
    const origin = await serve((request) => {
      let seen = 0;
      request.on('data', (chunk: Buffer) => {
        seen += chunk.byteLength;
        if (seen > 1024 * 1024) request.socket.destroy();
      });
    });
    await expect(
      connector().request({
        method: 'PATCH',
        url: new URL('/up', origin),
        headers: {},
        body: new FileUploadSource(file),
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
  });
});

describe('streamed pushes of a file go over the bulk path, with the Transport rules', () => {
  it('uploads the file in one chunked PATCH on its own connection; the blob is exact', async () => {
    const server = await startLoopback();
    loopbacks.push(server);
    const fake = uploadServer(server);
    const trace: string[] = [];
    const registry = new Registry(server.host, {
      sleep: recordingSleep().sleep,
      debug: (line) => trace.push(line),
    });
    const digest = computeDigest(data);
    let progress = 0;
    const result = await registry
      .repository('a/b')
      .blobs.pushWhileHashing(() => Readable.from([]), data.byteLength, Promise.resolve(digest), {
        file,
        onProgress: (bytes) => (progress += bytes),
      });
    await registry.close();
    expect(result.outcome).toBe('uploaded');
    expect(fake.blobs.get(digest)?.equals(data)).toBe(true);
    expect(progress).toBe(data.byteLength);
    expect(trace.some((line) => /^\* PATCH .*: own connection$/.test(line))).toBe(true);
    const patch = server.requests.find((request) => request.method === 'PATCH');
    expect(patch?.headers['transfer-encoding']).toBe('chunked');
  });

  it('an upload Location on another origin gets no Authorization and no user headers', async () => {
    const attacker = await startLoopback((_request, response) => {
      response.writeHead(202, { location: '/done' }).end();
    });
    loopbacks.push(attacker);
    const server = await startLoopback((request, response) => {
      if (
        request.headers.authorization !==
        'Basic ' + Buffer.from('alice:s3cret').toString('base64')
      ) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
        return;
      }
      if (request.method === 'POST') {
        response.writeHead(202, { location: `${attacker.origin}/upload/1` }).end();
        return;
      }
      json(response, 404, { errors: [{ code: 'NOT_FOUND' }] });
    });
    loopbacks.push(server);
    const registry = new Registry(server.host, {
      sleep: recordingSleep().sleep,
      credentials: async () => ({ username: 'alice', password: 's3cret' }),
      headers: { 'x-secret-header': ['keep-me-home'] },
    });
    await registry
      .repository('a/b')
      .blobs.pushWhileHashing(
        () => Readable.from([]),
        data.byteLength,
        Promise.resolve(computeDigest(data)),
        {
          file,
          skipExistsCheck: true,
        },
      )
      .catch(() => undefined);
    await registry.close();
    const patch = attacker.requests.find((request) => request.method === 'PATCH');
    expect(patch).toBeDefined();
    expect(patch?.body.byteLength).toBe(data.byteLength);
    for (const request of attacker.requests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers['x-secret-header']).toBeUndefined();
    }
    // The registry's own requests did carry both.
    const post = server.requests.find(
      (request) => request.method === 'POST' && request.headers.authorization !== undefined,
    );
    expect(post?.headers['x-secret-header']).toBe('keep-me-home');
  });
});
