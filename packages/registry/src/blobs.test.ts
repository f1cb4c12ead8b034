import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { computeDigest, DigestMismatchError, SizeMismatchError, type Digest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError } from './errors.js';
import { Registry } from './registry.js';
import { uploadServer } from './testing/upload-server.js';
import {
  cutShort,
  json,
  recordingSleep,
  startLoopback,
  type LoopbackServer,
} from './testing/loopback.js';

let server: LoopbackServer;
let registry: Registry;
beforeEach(async () => {
  server = await startLoopback();
  registry = new Registry(server.host, {
    sleep: recordingSleep().sleep,
    chunkSize: 1024,
    monolithicThreshold: 4096,
  });
});
afterEach(async () => {
  await registry.close();
  await server.close();
});

const blob = randomBytes(256 * 1024);
const digest = computeDigest(blob);
const descriptor = { digest, size: blob.byteLength };

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function serveRange(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!range) {
    res.writeHead(200, {
      'content-length': body.byteLength,
      'docker-content-digest': computeDigest(body),
    });
    return void res.end(body);
  }
  const start = Number(range[1]);
  res.writeHead(206, {
    'content-length': body.byteLength - start,
    'content-range': `bytes ${start}-${body.byteLength - 1}/${body.byteLength}`,
  });
  res.end(body.subarray(start));
}

describe('blob downloads', () => {
  it('resumes a body cut mid-stream with Range, re-sending no byte', async () => {
    let calls = 0;
    server.handle = (req, res) => {
      calls++;
      if (calls === 1) return cutShort(res, 200, {}, blob, 100_000);
      serveRange(req, res, blob);
    };
    const download = registry.repository('a/b').blobs.download(descriptor);
    const bytes = await collect(download.stream);
    expect(bytes.equals(blob)).toBe(true);
    expect(server.requests[1]?.headers.range).toMatch(/^bytes=\d+-$/);
    const resumedAt = Number(/\d+/.exec(server.requests[1]?.headers.range ?? '')?.[0]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
    expect(download.stats).toMatchObject({ resumes: 1, restarts: 0, bytesRefetched: 0 });
    expect(download.stats.bytesReceived).toBe(blob.byteLength);
  });

  it('restarts cleanly when the server ignores Range, skipping what was delivered', async () => {
    let calls = 0;
    server.handle = (_req, res) => {
      calls++;
      if (calls === 1) return cutShort(res, 200, {}, blob, 100_000);
      res.writeHead(200, { 'content-length': blob.byteLength });
      res.end(blob);
    };
    const download = registry.repository('a/b').blobs.download(descriptor);
    const bytes = await collect(download.stream);
    expect(bytes.equals(blob)).toBe(true);
    expect(download.stats.restarts).toBe(1);
    expect(download.stats.bytesRefetched).toBeGreaterThan(0);
    expect(download.stats.bytesReceived).toBe(blob.byteLength + download.stats.bytesRefetched);
  });

  it('rejects bytes that do not match the digest', async () => {
    const tampered = Buffer.from(blob);
    tampered[1000] = (tampered[1000] ?? 0) ^ 0xff;
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-length': tampered.byteLength });
      res.end(tampered);
    };
    const error = await collect(registry.repository('a/b').blobs.fetch(descriptor)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ expected: digest, actual: computeDigest(tampered) });
  });

  it('refuses a Content-Length that contradicts the descriptor before reading the body', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-length': '1000000000000000' });
      res.write('x');
    };
    const error = await collect(registry.repository('a/b').blobs.fetch(descriptor)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect(error).toMatchObject({ expected: blob.byteLength, actual: 1e15 });
  });

  it('refuses a Docker-Content-Digest that names other content', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, {
        'content-length': blob.byteLength,
        'docker-content-digest': computeDigest('other'),
      });
      res.end(blob);
    };
    await expect(
      collect(registry.repository('a/b').blobs.fetch(descriptor)),
    ).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('gives up after repeated breaks with a message naming the byte reached', async () => {
    server.handle = (req, res) => {
      const start = Number(/\d+/.exec(req.headers.range ?? '')?.[0] ?? 0);
      const rest = blob.subarray(start);
      cutShort(
        res,
        start ? 206 : 200,
        start
          ? { 'content-range': `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}` }
          : {},
        rest,
        10,
      );
    };
    const error = await collect(
      registry.repository('a/b').blobs.fetch(descriptor, { maxResumes: 2 }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_NETWORK' });
    expect((error as Error).message).toMatch(/broke 3 times; gave up at byte \d+ of 262144/);
    // The server answered (the handshake, certificates and protocol were fine): what broke was the
    // body, so nothing may read its reason as a refused or unverified connection.
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ answered: true, secure: true, reason: 'UND_ERR_SOCKET' });
  });
});

describe('blob uploads', () => {
  const data = randomBytes(10_000);
  const dataDigest = computeDigest(data);

  it('uploads a small known blob in one PUT, appending digest to the opaque Location', async () => {
    const fake = uploadServer(server);
    const result = await registry
      .repository('a/b')
      .blobs.push(() => Readable.from([data.subarray(0, 3000)]), {
        digest: computeDigest(data.subarray(0, 3000)),
        size: 3000,
      });
    expect(result.outcome).toBe('uploaded');
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD', 'POST', 'PUT']);
    expect(server.requests[2]?.url).toContain('_state=opaque%3D%3D&digest=sha256%3A');
    expect(fake.blobs.get(result.digest)?.equals(data.subarray(0, 3000))).toBe(true);
  });

  it('skips a blob the registry has', async () => {
    const fake = uploadServer(server);
    fake.blobs.set(dataDigest, data);
    const result = await registry
      .repository('a/b')
      .blobs.push(data, { digest: dataDigest, size: data.byteLength });
    expect(result).toEqual({ digest: dataDigest, size: data.byteLength, outcome: 'exists' });
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('mounts from another repository when it can', async () => {
    const fake = uploadServer(server);
    fake.blobs.set(dataDigest, data);
    const result = await registry
      .repository('a/b')
      .blobs.push(
        data,
        { digest: dataDigest, size: data.byteLength },
        { mountFrom: 'other/repo', skipExistsCheck: true },
      );
    expect(result.outcome).toBe('mounted');
    expect(server.requests[0]?.url).toBe(
      `/v2/a/b/blobs/uploads/?mount=${encodeURIComponent(dataDigest)}&from=other%2Frepo`,
    );
  });

  it('streams an unknown-digest source in PATCH chunks with Content-Range and hashes on the way', async () => {
    const fake = uploadServer(server);
    const result = await registry.repository('a/b').blobs.push(() => Readable.from([data]));
    expect(result).toEqual({ digest: dataDigest, size: data.byteLength, outcome: 'uploaded' });
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(Math.ceil(data.byteLength / 1024));
    expect(patches[0]?.headers['content-range']).toBe('0-1023');
    expect(patches[1]?.headers['content-range']).toBe('1024-2047');
    expect(fake.blobs.get(dataDigest)?.equals(data)).toBe(true);
  });

  it('respects OCI-Chunk-Min-Length', async () => {
    uploadServer(server, { chunkMin: 4096 });
    await registry.repository('a/b').blobs.push(() => Readable.from([data]));
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.body.byteLength)).toEqual([4096, 4096, 10_000 - 8192]);
  });

  it('resumes an interrupted chunk from the upload status Range, re-sending only the missing half', async () => {
    const fake = uploadServer(server, { failPatch: 3 });
    const result = await registry.repository('a/b').blobs.push(() => Readable.from([data]));
    expect(result.digest).toBe(dataDigest);
    expect(fake.blobs.get(dataDigest)?.equals(data)).toBe(true);
    const methods = server.requests.map((r) => r.method);
    expect(methods.filter((m) => m === 'GET')).toHaveLength(1);
    const resent = server.requests[methods.indexOf('GET') + 1];
    expect(resent?.headers['content-range']).toBe('2560-3071');
    expect(resent?.body.byteLength).toBe(512);
    const bytesSent = server.requests
      .filter((r) => r.method === 'PATCH')
      .reduce((n, r) => n + r.body.byteLength, 0);
    // Every byte once, plus the half of the broken chunk that the registry had not kept.
    expect(bytesSent).toBe(data.byteLength + 512);
  });

  it('refuses a source whose bytes do not match the expected digest and cancels the session', async () => {
    const fake = uploadServer(server);
    const big = randomBytes(6000); // above the monolithic threshold: chunked
    const error = await registry
      .repository('a/b')
      .blobs.push(() => Readable.from([big]), {
        digest: computeDigest('something else'),
        size: 6000,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(server.requests.at(-1)?.method).toBe('DELETE');
    expect(fake.sessions.size).toBe(0);
    expect(fake.blobs.size).toBe(0);
  });

  it('reads a small blob into memory first: bytes that do not match are refused before any request', async () => {
    const fake = uploadServer(server);
    const small = randomBytes(3000); // below the monolithic threshold: one PUT from memory
    const error = await registry
      .repository('a/b')
      .blobs.push(() => Readable.from([small]), {
        digest: computeDigest('something else'),
        size: 3000,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(server.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect(fake.sessions.size).toBe(0);
    expect(fake.blobs.size).toBe(0);
  });

  it('sends a small blob read from a stream as one PUT with its length, and can resend it', async () => {
    const fake = uploadServer(server);
    const small = randomBytes(3000);
    let opened = 0;
    const result = await registry.repository('a/b').blobs.push(
      () => {
        opened++;
        return Readable.from([small.subarray(0, 1000), small.subarray(1000)]);
      },
      { digest: computeDigest(small), size: 3000 },
    );
    expect(result.outcome).toBe('uploaded');
    expect(opened).toBe(1);
    const put = server.requests.find((r) => r.method === 'PUT');
    expect(put?.headers['content-length']).toBe('3000');
    expect(fake.blobs.get(computeDigest(small))?.equals(small)).toBe(true);
  });

  it('stops reading a small source that stalls when the push is aborted', async () => {
    uploadServer(server);
    // Aborted once the source is being read (a timer could fire before it is opened, under load).
    const controller = new AbortController();
    const stalled = new Readable({
      read() {
        setTimeout(() => controller.abort(), 20);
      },
    });
    const error = await registry
      .repository('a/b')
      .blobs.push(
        () => stalled,
        { digest: computeDigest('0123456789'), size: 10 },
        {
          signal: controller.signal,
        },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(stalled.destroyed).toBe(true);
    expect(server.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
  });

  it('does not read a small source before a cross-repository mount that succeeds', async () => {
    server.handle = (req, res) => {
      if (req.method === 'HEAD') return json(res, 404, {});
      if (req.method === 'POST' && req.url?.includes('mount=')) {
        res.writeHead(201, { location: '/v2/a/b/blobs/x' });
        return void res.end();
      }
      json(res, 500, {});
    };
    let opened = 0;
    const result = await registry.repository('a/b').blobs.push(
      () => {
        opened++;
        return Readable.from([Buffer.from('small')]);
      },
      { digest: computeDigest('small'), size: 5 },
      { mountFrom: 'c/d' },
    );
    expect(result.outcome).toBe('mounted');
    expect(opened).toBe(0);
  });

  it('refuses a small source longer than its size without reading all of it', async () => {
    uploadServer(server);
    let pushed = 0;
    const endless = new Readable({
      read() {
        pushed++;
        this.push(Buffer.alloc(1024));
      },
    });
    const error = await registry
      .repository('a/b')
      .blobs.push(() => endless, { digest: computeDigest('x'), size: 2048 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect(pushed).toBeLessThan(10);
    expect(endless.destroyed).toBe(true);
  });

  it('a streamed upload of unknown digest is stored under the sha256 of the bytes it sent', async () => {
    const fake = uploadServer(server);
    const parts = Array.from({ length: 7 }, () => randomBytes(1500));
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    const result = await registry.repository('a/b').blobs.push(() => Readable.from(parts));
    expect(result.digest).toBe(`sha256:${hash.digest('hex')}` as Digest);
    expect(result.size).toBe(10_500);
    expect(fake.blobs.get(result.digest)?.equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('blob upload failures', () => {
  it('fails (rather than hangs) when the source stream errors during a monolithic PUT', async () => {
    server.handle = (req, res) => {
      if (req.method === 'HEAD') return json(res, 404, {});
      if (req.method === 'POST') {
        res.writeHead(202, { location: '/v2/a/b/blobs/uploads/x?_state=s' });
        return void res.end();
      }
      json(res, 201, {});
    };
    const failing = () =>
      new Readable({
        read() {
          this.push(Buffer.alloc(100));
          this.destroy(new Error('disk went away'));
        },
      });
    const error = await registry
      .repository('a/b')
      .blobs.push(
        failing,
        { digest: computeDigest(Buffer.alloc(200)), size: 200 },
        { replayable: false },
      )
      .catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/disk went away/);
  });
});

describe('upload progress', () => {
  it('reports progress of a monolithic streamed PUT without disturbing the body', async () => {
    const fake = uploadServer(server);
    const data = randomBytes(3000);
    const seen: number[] = [];
    const result = await registry.repository('a/b').blobs.push(
      () => Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      { digest: computeDigest(data), size: 3000 },
      {
        onProgress: (n) => seen.push(n),
      },
    );
    expect(result.outcome).toBe('uploaded');
    expect(fake.blobs.get(result.digest)?.equals(data)).toBe(true);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(3000);
  });
});
