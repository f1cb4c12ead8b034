import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, EmptyJson, EMPTY_JSON_BYTES, MediaType, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copy, type CopyEvent } from './copy.js';
import { OciLayoutTarget } from './oci-layout.js';
import type { Content, Mounter, PushOptions, Target } from './target.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-copy-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const layout = (name: string) => OciLayoutTarget.open(join(work, name));

async function putBlob(
  target: Target,
  bytes: Buffer,
  mediaType = 'application/octet-stream',
): Promise<Descriptor> {
  const descriptor = { mediaType, digest: computeDigest(bytes), size: bytes.byteLength };
  await target.push(descriptor, bytes);
  return descriptor;
}

async function putManifest(
  target: Target,
  document: object,
  mediaType: string,
): Promise<Descriptor> {
  return putBlob(target, Buffer.from(JSON.stringify(document)), mediaType);
}

/** A two-platform index over two artifacts that share the empty config. */
async function seed(source: Target) {
  const config = await putBlob(source, Buffer.from(EMPTY_JSON_BYTES), MediaType.OciEmpty);
  const manifests: Descriptor[] = [];
  for (const arch of ['amd64', 'arm64']) {
    const layer = await putBlob(source, Buffer.from(`layer for ${arch}`));
    const manifest = await putManifest(
      source,
      {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'application/vnd.t',
        config: EmptyJson,
        layers: [layer],
      },
      MediaType.OciManifest,
    );
    manifests.push({ ...manifest, platform: { os: 'linux', architecture: arch } });
  }
  const index = await putManifest(
    source,
    { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
    MediaType.OciIndex,
  );
  await source.tag(index, 'v1');
  return { config, manifests, index };
}

/** A target that forwards to `inner` (bound, so its private fields work) except for `overrides`. */
function wrap(inner: Target, overrides: Partial<Target & Mounter>): Target {
  return {
    name: inner.name,
    fetch: inner.fetch.bind(inner),
    push: inner.push.bind(inner),
    exists: inner.exists.bind(inner),
    resolve: inner.resolve.bind(inner),
    tag: inner.tag.bind(inner),
    referrers: inner.referrers.bind(inner),
    tags: inner.tags.bind(inner),
    ...overrides,
  };
}

/** Wraps a target to record pushes and the most pushes in flight at once. */
function recording(inner: Target) {
  const pushed: string[] = [];
  let active = 0;
  let peak = 0;
  const target: Target = wrap(inner, {
    async push(descriptor: Descriptor, content: Content, options?: PushOptions) {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      try {
        await inner.push(descriptor, content, options);
        pushed.push(descriptor.digest);
      } finally {
        active--;
      }
    },
  });
  return { target, pushed, peak: () => peak };
}

describe('copy', () => {
  it('copies an index graph children first, with identical digests', async () => {
    const source = await layout('a');
    const { index, manifests } = await seed(source);
    const destination = recording(await layout('b'));
    const events: CopyEvent[] = [];
    const root = await copy(source, destination.target, 'v1', {
      tags: ['v1'],
      onEvent: (e) => events.push(e),
    });
    expect(root.digest).toBe(index.digest);
    expect((await destination.target.resolve('v1')).digest).toBe(index.digest);
    // Every manifest was pushed after the blobs it lists, the index last.
    const at = (digest: string) => destination.pushed.indexOf(digest);
    expect(at(index.digest)).toBe(destination.pushed.length - 1);
    for (const manifest of manifests) {
      expect(at(manifest.digest)).toBeLessThan(at(index.digest));
      expect(at(EmptyJson.digest)).toBeLessThan(at(manifest.digest));
    }
    expect(new Set(destination.pushed).size).toBe(destination.pushed.length);
    expect(destination.pushed).toHaveLength(6); // config, 2 layers, 2 manifests, index
    expect(events.filter((e) => e.type === 'copied')).toHaveLength(6);
  });

  it('copies nothing the second time: the root exists', async () => {
    const source = await layout('a');
    await seed(source);
    const destination = await layout('b');
    await copy(source, destination, 'v1');
    const events: CopyEvent[] = [];
    const again = recording(destination);
    await copy(source, again.target, 'v1', { onEvent: (e) => events.push(e) });
    expect(again.pushed).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['exists']);
  });

  it('keeps at most `concurrency` pushes in flight', async () => {
    const source = await layout('a');
    const layers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => putBlob(source, Buffer.from(`blob ${i}`))),
    );
    const manifest = await putManifest(
      source,
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config: EmptyJson, layers },
      MediaType.OciManifest,
    );
    await putBlob(source, Buffer.from(EMPTY_JSON_BYTES), MediaType.OciEmpty);
    const destination = recording(await layout('b'));
    await copy(source, destination.target, manifest.digest, { concurrency: 2 });
    expect(destination.pushed).toHaveLength(14);
    expect(destination.peak()).toBeLessThanOrEqual(2);
  });

  it('selects one platform from an index', async () => {
    const source = await layout('a');
    const { manifests } = await seed(source);
    const destination = recording(await layout('b'));
    const root = await copy(source, destination.target, 'v1', {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(root.digest).toBe(manifests[1]?.digest);
    expect(destination.pushed).toHaveLength(3); // config, the arm64 layer, its manifest
    await expect(
      copy(source, destination.target, 'v1', {
        platform: { os: 'windows', architecture: 'amd64' },
      }),
    ).rejects.toMatchObject({
      code: 'ERR_PLATFORM_NOT_FOUND',
      message: expect.stringContaining('linux/amd64, linux/arm64'),
    });
  });

  it('copies referrers when asked, and only then', async () => {
    const source = await layout('a');
    const { index } = await seed(source);
    const note = await putBlob(source, Buffer.from('a signature'));
    const referrer = await putManifest(
      source,
      {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'application/vnd.sig',
        config: EmptyJson,
        layers: [note],
        subject: { mediaType: index.mediaType, digest: index.digest, size: index.size },
      },
      MediaType.OciManifest,
    );
    const without = await layout('b');
    await copy(source, without, 'v1');
    expect(await without.exists(referrer)).toBe(false);
    const withReferrers = await layout('c');
    await copy(source, withReferrers, 'v1', { referrers: true });
    expect(await withReferrers.exists(referrer)).toBe(true);
    expect((await withReferrers.referrers(index)).map((d) => d.digest)).toEqual([referrer.digest]);
  });

  it('mounts blobs when the destination can, instead of sending them', async () => {
    const source = await layout('a');
    await seed(source);
    const inner = await layout('b');
    const mounted: string[] = [];
    const destination: Target = wrap(inner, {
      async mount(descriptor: Descriptor, from: Target) {
        expect(from).toBe(source);
        // Pretend the registry mounted it: the bytes appear without a push through us.
        await inner.push(descriptor, await readAllFrom(source, descriptor));
        mounted.push(descriptor.digest);
        return true;
      },
    });
    const events: CopyEvent[] = [];
    await copy(source, destination, 'v1', { onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'mounted')).toHaveLength(3); // config + 2 layers
    expect(mounted).toContain(EmptyJson.digest);
  });
});

async function readAllFrom(target: Target, descriptor: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await target.fetch(descriptor)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
