// The push sequence through a RegistryTarget on a loopback registry: a large file streams while
// it is hashed (POST, PATCH, PUT ?digest), small ones are checked and uploaded, and the manifest
// goes last, in one PUT by tag.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, EmptyJson } from '@ferry/oci';
import { Registry } from '@ferry/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pack } from './pack.js';
import { likelyPresentAt } from './likely-present.js';
import { pushFiles, pushHasher, pushPacked, type PushPackedEvent } from './push-packed.js';
import { RegistryTarget } from './registry-target.js';
import { startFakeRegistry, type FakeRegistry } from './testing/fake-registry.js';

let dir: string;
let server: FakeRegistry;
let registry: Registry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-push-registry-'));
  server = await startFakeRegistry({ referrersApi: false });
  registry = new Registry(server.host, { plainHttp: true, retry: { retries: 0 } });
});
afterEach(async () => {
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pushPacked to a registry', () => {
  it('streams the large file while hashing, checks the small ones, and PUTs the manifest by tag last', async () => {
    const big = randomBytes(96 * 1024);
    const small = randomBytes(1024);
    await writeFile(join(dir, 'big.bin'), big);
    await writeFile(join(dir, 'small.txt'), small);
    const target = new RegistryTarget(registry, 'a/b');
    const hashing = pushHasher(target, { concurrency: 2, eagerMinSize: 64 * 1024 });
    const packed = await pack(
      [
        { path: join(dir, 'big.bin'), title: 'big.bin' },
        { path: join(dir, 'small.txt'), title: 'small.txt' },
      ],
      { hashFile: hashing.hashFile },
    );
    const events: PushPackedEvent[] = [];
    await pushPacked(target, packed, {
      concurrency: 2,
      tags: ['v1'],
      eager: hashing.eager,
      onEvent: (event) => events.push(event),
    });

    const repository = server.repository('a/b');
    expect(repository.blobs.get(computeDigest(big))).toEqual(big);
    expect(repository.blobs.get(computeDigest(small))).toEqual(small);
    expect(repository.blobs.get(EmptyJson.digest)?.toString()).toBe('{}');
    expect(repository.manifests.get(packed.descriptor.digest)?.bytes).toEqual(packed.manifestBytes);
    expect(repository.tags.get('v1')).toBe(packed.descriptor.digest);

    const requests = server.requests.filter((r) => r !== 'GET /v2/');
    // The streamed blob went up once, in its streamed session; the small one was asked about.
    const closing = (bytes: Buffer) =>
      requests.filter(
        (r) => r.startsWith('PUT') && r.endsWith(encodeURIComponent(computeDigest(bytes))),
      );
    expect(closing(big)).toHaveLength(1);
    expect(closing(small)).toHaveLength(1);
    expect(requests).toContain(`HEAD /v2/a/b/blobs/${computeDigest(small)}`);
    expect(requests.filter((r) => r.startsWith('PATCH /v2/a/b/blobs/uploads/'))).toHaveLength(1);
    // One manifest request, by tag, and it is the last one.
    expect(requests.filter((r) => r.includes('/manifests/'))).toEqual(['PUT /v2/a/b/manifests/v1']);
    expect(requests.at(-1)).toBe('PUT /v2/a/b/manifests/v1');
    expect(events.find((e) => e.type === 'uploaded' && e.early)?.descriptor.digest).toBe(
      computeDigest(big),
    );
    expect(events.at(-1)).toEqual({
      type: 'manifest',
      descriptor: packed.descriptor,
      tags: ['v1'],
    });
  });
});

describe('pushing again to the same tag with no digest cache (a fresh CI runner)', () => {
  const size = 8 * 1024 * 1024;

  /** One push of big.bin to a/b:v1 as `ferry push` does it: eager uploads, guessed from the tag. */
  async function pushBig(bytes: Buffer): Promise<string[]> {
    await writeFile(join(dir, 'big.bin'), bytes);
    const target = new RegistryTarget(registry, 'a/b');
    const hashing = pushHasher(target, {
      concurrency: 2,
      eagerMinSize: 64 * 1024,
      likelyPresent: likelyPresentAt(target, 'v1'),
    });
    const before = server.requests.length;
    const packed = await pack([{ path: join(dir, 'big.bin'), title: 'big.bin' }], {
      hashFile: hashing.hashFile,
    });
    await pushPacked(target, packed, { concurrency: 2, tags: ['v1'], eager: hashing.eager });
    expect(server.repository('a/b').tags.get('v1')).toBe(packed.descriptor.digest);
    return server.requests.slice(before).filter((r) => r !== 'GET /v2/');
  }

  it('sends no byte of the large file the tag lists: its upload waits for the digest, and the session is deleted', async () => {
    const big = randomBytes(size);
    const first = await pushBig(big);
    // The first push: no tag yet, so the upload ran beside the hash.
    expect(first).toContain('GET /v2/a/b/manifests/v1');
    expect(first.filter((r) => r.startsWith('PATCH'))).toHaveLength(1);
    const received = server.uploadedBytes;
    expect(received).toBe(size + 2);

    const second = await pushBig(big);
    expect(server.uploadedBytes).toBe(received);
    expect(second.filter((r) => r.startsWith('PATCH'))).toEqual([]);
    expect(second).toContain(`HEAD /v2/a/b/blobs/${computeDigest(big)}`);
    expect(second.filter((r) => r.startsWith('DELETE /v2/a/b/blobs/uploads/'))).toHaveLength(1);
    expect(server.openUploads).toBe(0);
    expect(second.at(-1)).toBe('PUT /v2/a/b/manifests/v1');
  });

  it('a new file of the same size (a wrong guess) is hashed first, then sent whole with the right digest', async () => {
    await pushBig(randomBytes(size));
    const received = server.uploadedBytes;
    const changed = randomBytes(size);

    const requests = await pushBig(changed);
    // Buffer.equals: a deep toEqual of 8 MiB takes minutes.
    expect(server.repository('a/b').blobs.get(computeDigest(changed))?.equals(changed)).toBe(true);
    expect(server.uploadedBytes - received).toBe(size);
    // The registry was asked before a byte went up.
    const head = requests.indexOf(`HEAD /v2/a/b/blobs/${computeDigest(changed)}`);
    const patch = requests.findIndex((r) => r.startsWith('PATCH'));
    expect(head).toBeGreaterThanOrEqual(0);
    expect(patch).toBeGreaterThan(head);
    expect(server.openUploads).toBe(0);
  });

  it('pushFiles guesses from its first tag', async () => {
    // Large enough for pushFiles' default eager size (16 MiB).
    const big = randomBytes(16 * 1024 * 1024);
    await writeFile(join(dir, 'big.bin'), big);
    const target = new RegistryTarget(registry, 'a/b');
    const files = [{ path: join(dir, 'big.bin'), title: 'big.bin' }];
    await pushFiles(target, files, { tags: ['v1'] });
    const received = server.uploadedBytes;
    const before = server.requests.length;
    await pushFiles(target, files, { tags: ['v1', 'v2'] });
    const second = server.requests.slice(before);
    expect(second).toContain('GET /v2/a/b/manifests/v1');
    expect(second.filter((r) => r.startsWith('PATCH'))).toEqual([]);
    expect(server.uploadedBytes).toBe(received);
    expect(server.openUploads).toBe(0);
  });
});

describe('pushPacked with many blobs at once', () => {
  it('prints no MaxListenersExceededWarning when more than 10 requests share its signal', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const files = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const path = join(dir, `f${i}.bin`);
          await writeFile(path, randomBytes(512));
          return { path, title: `f${i}.bin` };
        }),
      );
      const target = new RegistryTarget(registry, 'many/blobs');
      const packed = await pack(files);
      await pushPacked(target, packed, { concurrency: 16, tags: ['v1'] });
      expect(server.repository('many/blobs').tags.get('v1')).toBe(packed.descriptor.digest);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
  });
});
