import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { computeDigest, type Digest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from './registry.js';
import { recordingSleep, startLoopback, type LoopbackServer } from './testing/loopback.js';
import { uploadServer } from './testing/upload-server.js';

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

const data = randomBytes(300_000);
const dataDigest = computeDigest(data);
const open = () => Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
const blobs = () => registry.repository('a/b').blobs;
const methods = () => server.requests.map((request) => request.method);
/** Resolves once the server has answered a request with this method (a gate, not a sleep). */
function answered(method: string): Promise<void> {
  const inner = server.handle;
  return new Promise((resolve) => {
    server.handle = async (request, response, body) => {
      await inner(request, response, body);
      if (request.method === method) resolve();
    };
  });
}

describe('uploads while the digest is computed elsewhere', () => {
  it('streams one PATCH without Content-Range, then PUTs the digest with an empty body', async () => {
    const fake = uploadServer(server);
    let progress = 0;
    const result = await blobs().pushWhileHashing(
      open,
      data.byteLength,
      Promise.resolve(dataDigest),
      {
        onProgress: (bytes) => (progress += bytes),
      },
    );
    expect(result).toEqual({ digest: dataDigest, size: data.byteLength, outcome: 'uploaded' });
    expect(methods()).toEqual(['POST', 'HEAD', 'PATCH', 'PUT']);
    const patch = server.requests[2];
    expect(patch?.headers['content-range']).toBeUndefined();
    expect(patch?.body.equals(data)).toBe(true);
    const put = server.requests[3];
    expect(put?.body.byteLength).toBe(0);
    expect(put?.url).toContain(`digest=${encodeURIComponent(dataDigest)}`);
    expect(fake.blobs.get(dataDigest)?.equals(data)).toBe(true);
    expect(progress).toBe(data.byteLength);
  });

  it('stops and deletes the session when the digest shows the registry has the blob', async () => {
    const fake = uploadServer(server);
    fake.blobs.set(dataDigest, data);
    let release: (digest: Digest) => void = () => {};
    const digest = new Promise<Digest>((resolve) => (release = resolve));
    let told = false;
    const posted = answered('POST');
    const pending = blobs().pushWhileHashing(open, data.byteLength, digest, {
      onExists: () => (told = true),
    });
    // The digest is known only once the upload session exists, so that session must be deleted.
    await posted;
    release(dataDigest);
    const result = await pending;
    expect(result.outcome).toBe('exists');
    expect(told).toBe(true);
    expect(methods()).not.toContain('PUT');
    expect(methods()).toContain('DELETE');
    expect(fake.sessions.size).toBe(0);
  });

  describe('holding until the digest is known (holdUntilKnown)', () => {
    /** `open` that counts how often the upload opened the content. */
    function countedOpen(): { open: () => Readable; opens: () => number } {
      let opens = 0;
      return {
        open: () => {
          opens++;
          return open();
        },
        opens: () => opens,
      };
    }

    it('sends no byte of a blob the registry has: no PATCH, the session is deleted', async () => {
      const fake = uploadServer(server);
      fake.blobs.set(dataDigest, data);
      const source = countedOpen();
      let release: (digest: Digest) => void = () => {};
      const digest = new Promise<Digest>((resolve) => (release = resolve));
      const posted = answered('POST');
      const pending = blobs().pushWhileHashing(source.open, data.byteLength, digest, {
        holdUntilKnown: true,
      });
      // The session is open (an ordinary eager upload would start its PATCH now); then the digest.
      await posted;
      release(dataDigest);
      const result = await pending;
      expect(result.outcome).toBe('exists');
      expect(methods()).toEqual(['POST', 'HEAD', 'DELETE']);
      expect(source.opens()).toBe(0);
      expect(fake.sessions.size).toBe(0);
    });

    it('sends a new blob whole once the HEAD said the registry lacks it', async () => {
      const fake = uploadServer(server);
      const source = countedOpen();
      const inner = server.handle;
      let opensAtHead = -1;
      server.handle = (request, response, body) => {
        if (request.method === 'HEAD') opensAtHead = source.opens();
        return inner(request, response, body);
      };
      let release: (digest: Digest) => void = () => {};
      const digest = new Promise<Digest>((resolve) => (release = resolve));
      const posted = answered('POST');
      let progress = 0;
      const pending = blobs().pushWhileHashing(source.open, data.byteLength, digest, {
        holdUntilKnown: Promise.resolve(true),
        onProgress: (bytes) => (progress += bytes),
      });
      await posted;
      release(dataDigest);
      const result = await pending;
      expect(result).toEqual({ digest: dataDigest, size: data.byteLength, outcome: 'uploaded' });
      expect(methods()).toEqual(['POST', 'HEAD', 'PATCH', 'PUT']);
      // Nothing was read for the upload before the registry was asked.
      expect(opensAtHead).toBe(0);
      expect(server.requests[2]?.body.equals(data)).toBe(true);
      expect(fake.blobs.get(dataDigest)?.equals(data)).toBe(true);
      expect(progress).toBe(data.byteLength);
    });

    it('a guess that fails counts as no guess: the upload runs beside the hash', async () => {
      const fake = uploadServer(server);
      // The digest is known only once the PATCH has arrived whole: a held upload would wait forever.
      const patched = answered('PATCH');
      const digest = patched.then(() => dataDigest);
      const result = await blobs().pushWhileHashing(open, data.byteLength, digest, {
        holdUntilKnown: Promise.reject(new Error('could not read the tag')),
      });
      expect(result.outcome).toBe('uploaded');
      expect(methods()).toEqual(['POST', 'PATCH', 'HEAD', 'PUT']);
      expect(fake.blobs.get(dataDigest)?.equals(data)).toBe(true);
    });

    it('fails with the hashing error, sends nothing and leaves no session behind', async () => {
      const fake = uploadServer(server);
      const source = countedOpen();
      let fail: (error: Error) => void = () => {};
      const digest = new Promise<Digest>((_resolve, reject) => (fail = reject));
      const posted = answered('POST');
      const pending = blobs().pushWhileHashing(source.open, data.byteLength, digest, {
        holdUntilKnown: true,
      });
      await posted;
      fail(new Error('EIO reading the file'));
      await expect(pending).rejects.toThrow('EIO reading the file');
      expect(methods()).toEqual(['POST', 'DELETE']);
      expect(source.opens()).toBe(0);
      expect(fake.sessions.size).toBe(0);
    });
  });

  it('an abort ends the upload at once, before the hash is done, and deletes the session', async () => {
    const fake = uploadServer(server);
    const controller = new AbortController();
    // A file still being read: one chunk, then nothing more until the push is cancelled.
    const source = new Readable({ read() {} });
    source.push(data.subarray(0, 1000));
    let sending: () => void = () => {};
    const sent = new Promise<void>((resolve) => (sending = resolve));
    const deleted = answered('DELETE');
    // The hash never finishes: only the abort can end this upload.
    const pending = blobs().pushWhileHashing(() => source, data.byteLength, new Promise(() => {}), {
      signal: controller.signal,
      onProgress: () => sending(),
    });
    await sent;
    controller.abort(new Error('push cancelled'));
    await expect(pending).rejects.toThrow('push cancelled');
    await deleted;
    expect(methods().filter((method) => method !== 'PATCH')).toEqual(['POST', 'DELETE']);
    expect(methods()).not.toContain('PUT');
    expect(fake.sessions.size).toBe(0);
  });

  it('fails with the hashing error and leaves no session behind', async () => {
    const fake = uploadServer(server);
    let fail: (error: Error) => void = () => {};
    const digest = new Promise<Digest>((_resolve, reject) => (fail = reject));
    const posted = answered('POST');
    const pending = blobs().pushWhileHashing(open, data.byteLength, digest);
    await posted;
    fail(new Error('EIO reading the file'));
    await expect(pending).rejects.toThrow('EIO reading the file');
    expect(methods()).not.toContain('PUT');
    expect(fake.sessions.size).toBe(0);
  });

  it('pushes again the ordinary way, with the now known digest, when the PATCH fails with 503', async () => {
    const fake = uploadServer(server, { patchStatus: 503 });
    let progress = 0;
    const result = await blobs().pushWhileHashing(
      open,
      data.byteLength,
      Promise.resolve(dataDigest),
      {
        onProgress: (bytes) => (progress += bytes),
      },
    );
    expect(result.outcome).toBe('uploaded');
    expect(methods()).toEqual(['POST', 'HEAD', 'PATCH', 'DELETE', 'POST', 'PUT']);
    expect(server.requests[5]?.body.equals(data)).toBe(true);
    expect(fake.blobs.get(dataDigest)?.equals(data)).toBe(true);
    // Bytes of the failed attempt are taken back, so a progress bar ends at the blob's size.
    expect(progress).toBe(data.byteLength);
  });

  it('refuses bytes that do not match the digest (the file changed after hashing)', async () => {
    const fake = uploadServer(server);
    const stale = computeDigest(Buffer.from('the file as it was when hashed'));
    const error = await blobs()
      .pushWhileHashing(open, data.byteLength, Promise.resolve(stale))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, registryCode: 'DIGEST_INVALID' });
    expect(fake.blobs.size).toBe(0);
    expect(methods().filter((method) => method === 'PUT')).toHaveLength(1);
    expect(fake.sessions.size).toBe(0);
  });
});
