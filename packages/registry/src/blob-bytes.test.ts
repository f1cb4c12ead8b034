import { randomBytes } from 'node:crypto';
import { computeDigest, DigestMismatchError, SizeMismatchError } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from './registry.js';
import {
  cutShort,
  recordingSleep,
  startLoopback,
  type LoopbackServer,
} from './testing/loopback.js';

let server: LoopbackServer;
let registry: Registry;
beforeEach(async () => {
  server = await startLoopback();
  registry = new Registry(server.host, { sleep: recordingSleep().sleep });
});
afterEach(async () => {
  await registry.close();
  await server.close();
});

const blob = randomBytes(200 * 1024);
const descriptor = { digest: computeDigest(blob), size: blob.byteLength };

describe('BlobStore.fetchBytes: a small blob whole, without a stream', () => {
  it('returns the verified bytes from one GET and reports them as progress', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-length': blob.byteLength });
      res.end(blob);
    };
    let progress = 0;
    const bytes = await registry
      .repository('a/b')
      .blobs.fetchBytes(descriptor, { onProgress: (n) => (progress += n) });
    expect(bytes.equals(blob)).toBe(true);
    expect(progress).toBe(blob.byteLength);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /v2/a/b/blobs/${descriptor.digest}`,
    ]);
  });

  it('continues a body cut short with Range from the byte reached, and verifies the whole', async () => {
    let calls = 0;
    server.handle = (req, res) => {
      calls++;
      if (calls === 1) return cutShort(res, 200, {}, blob, 100_000);
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1]);
      res.writeHead(206, {
        'content-length': blob.byteLength - start,
        'content-range': `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`,
      });
      res.end(blob.subarray(start));
    };
    let progress = 0;
    const bytes = await registry
      .repository('a/b')
      .blobs.fetchBytes(descriptor, { onProgress: (n) => (progress += n) });
    expect(bytes.equals(blob)).toBe(true);
    const resumedAt = Number(/\d+/.exec(server.requests[1]?.headers.range ?? '')?.[0]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
    expect(progress).toBe(blob.byteLength);
  });

  it('refuses bytes that do not match the digest', async () => {
    const tampered = Buffer.from(blob);
    tampered[5] = (tampered[5] ?? 0) ^ 0xff;
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-length': tampered.byteLength });
      res.end(tampered);
    };
    const error = await registry
      .repository('a/b')
      .blobs.fetchBytes(descriptor)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ expected: descriptor.digest, actual: computeDigest(tampered) });
  });

  it('refuses a Content-Length that contradicts the descriptor before reading the body', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-length': '1000000000000000' });
      res.write('x');
    };
    const error = await registry
      .repository('a/b')
      .blobs.fetchBytes(descriptor)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect(error).toMatchObject({ expected: blob.byteLength, actual: 1e15 });
  });

  it('refuses a body longer than the descriptor without keeping it', async () => {
    const longer = Buffer.concat([blob, Buffer.alloc(10)]);
    server.handle = (_req, res) => {
      // No Content-Length: the size is only known by reading.
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(longer);
    };
    const error = await registry
      .repository('a/b')
      .blobs.fetchBytes(descriptor)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
  });

  it("turns the registry's 404 into its error, naming the blob", async () => {
    server.handle = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
    };
    const error = await registry
      .repository('a/b')
      .blobs.fetchBytes(descriptor)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404 });
    expect(String((error as Error).message)).toMatch(/blob unknown|BLOB_UNKNOWN|404/);
  });
});
