import { Readable } from 'node:stream';
import { computeDigest, EmptyJson, EMPTY_JSON_BYTES, MediaType, type Descriptor } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import {
  canDelete,
  canFetchReference,
  canMount,
  canPushTagged,
  canPushWhileHashing,
  canStatBlob,
} from './capabilities.js';
import { fetchManifestByReference, readAll } from './content.js';
import { copy } from './copy.js';
import { MemoryTarget } from './memory-target.js';
import type { ReadOnlyGraphTarget } from './target.js';

const blob = (text: string, mediaType = 'application/octet-stream'): [Descriptor, Buffer] => {
  const bytes = Buffer.from(text);
  return [{ mediaType, digest: computeDigest(bytes), size: bytes.byteLength }, bytes];
};

const manifestOf = (layers: Descriptor[], extra: object = {}) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: 'application/vnd.test',
      config: EmptyJson,
      layers,
      ...extra,
    }),
  );

async function pushManifest(target: MemoryTarget, layers: Descriptor[], extra: object = {}) {
  await target.add(EMPTY_JSON_BYTES, MediaType.OciEmpty);
  return target.add(manifestOf(layers, extra), MediaType.OciManifest);
}

describe('MemoryTarget: push and fetch', () => {
  it('stores the exact bytes, streamed or whole, and reports progress', async () => {
    const target = new MemoryTarget('t');
    const [d1, b1] = blob('hello');
    const [d2, b2] = blob('streamed bytes');
    const progress: number[] = [];
    await target.push(d1, b1, { onProgress: (n) => progress.push(n) });
    await target.push(d2, () => Readable.from([b2.subarray(0, 4), b2.subarray(4)]));
    expect(progress).toEqual([5]);
    expect(await target.exists(d1)).toBe(true);
    expect(await target.exists(d2)).toBe(true);
    expect(await readAll(await target.fetch(d2), 1024)).toEqual(b2);
    expect(target.bytes(d1.digest)).toEqual(b1);
    expect(target.digests()).toEqual([d1.digest, d2.digest]);
    expect(target.name).toBe('memory:t');
  });

  it('refuses bytes whose digest or size do not match, and keeps nothing', async () => {
    const target = new MemoryTarget();
    const [descriptor] = blob('expected');
    await expect(target.push(descriptor, Buffer.from('somethin'))).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
    await expect(target.push(descriptor, Buffer.from('expected!'))).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
    await expect(target.push(descriptor, Buffer.from('short'))).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
    expect(await target.exists(descriptor)).toBe(false);
    expect(target.digests()).toEqual([]);
  });

  it('refuses a descriptor whose digest is not a digest', async () => {
    const target = new MemoryTarget();
    await expect(
      target.push(
        { mediaType: 'x', digest: 'sha256:../../etc' as never, size: 1 },
        Buffer.from('x'),
      ),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_DIGEST' });
  });

  it('raises ERR_NOT_FOUND, naming the target, for a blob it lacks', async () => {
    const target = new MemoryTarget('empty');
    const [descriptor] = blob('absent');
    await expect(target.fetch(descriptor)).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: `blob ${descriptor.digest} not found in memory:empty`,
    });
  });

  it('fetch errors when the descriptor claims another size than the stored bytes', async () => {
    const target = new MemoryTarget();
    const [descriptor, bytes] = blob('twelve bytes');
    await target.push(descriptor, bytes);
    const stream = await target.fetch({ ...descriptor, size: descriptor.size + 1 });
    await expect(readAll(stream, 1024)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
  });

  it('statBlob gives the stored size, or undefined', async () => {
    const target = new MemoryTarget();
    const descriptor = await target.add('seven b');
    expect(await target.statBlob(descriptor.digest)).toEqual({
      mediaType: MediaType.OctetStream,
      digest: descriptor.digest,
      size: 7,
    });
    expect(await target.statBlob(blob('other')[0].digest)).toBeUndefined();
  });
});

describe('MemoryTarget: tags and resolve', () => {
  it('resolves a tag and a manifest digest to the manifest descriptor', async () => {
    const target = new MemoryTarget();
    const layer = await target.add('layer');
    const manifest = await pushManifest(target, [layer]);
    await target.tag(manifest, 'v1');
    expect(await target.resolve('v1')).toEqual(manifest);
    expect(await target.resolve(manifest.digest)).toEqual(manifest);
    expect(await target.tags()).toEqual(['v1']);
  });

  it('refuses to resolve a missing tag or a blob digest with ERR_NOT_FOUND', async () => {
    const target = new MemoryTarget('r');
    const layer = await target.add('layer');
    await expect(target.resolve('nope')).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: 'tag nope not found in memory:r',
    });
    await expect(target.resolve(layer.digest)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('tags only manifests it holds, with their size, under valid names', async () => {
    const target = new MemoryTarget();
    const layer = await target.add('layer');
    const manifest = await pushManifest(target, [layer]);
    const [missing] = blob('{"absent":true}', MediaType.OciManifest);
    await expect(target.tag(missing, 'v1')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(target.tag(layer, 'v1')).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    });
    await expect(target.tag({ ...manifest, size: 1 }, 'v1')).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
    await expect(target.tag(manifest, '-bad')).rejects.toMatchObject({
      code: 'ERR_INVALID_REFERENCE',
    });
    expect(await target.tags()).toEqual([]);
  });

  it('moves a re-set tag to the end and to its new manifest', async () => {
    const target = new MemoryTarget();
    const one = await pushManifest(target, [await target.add('a')]);
    const two = await pushManifest(target, [await target.add('b')]);
    await target.tag(one, 'latest');
    await target.tag(one, 'v1');
    await target.tag(two, 'latest');
    expect(await target.tags()).toEqual(['v1', 'latest']);
    expect((await target.resolve('latest')).digest).toBe(two.digest);
  });
});

describe('MemoryTarget: referrers and delete', () => {
  it('lists manifests whose subject is the manifest, filtered by artifact type, by digest', async () => {
    const target = new MemoryTarget();
    const subject = await pushManifest(target, [await target.add('image')]);
    const subjectRef = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
    const sbom = await pushManifest(target, [await target.add('sbom')], {
      artifactType: 'application/spdx+json',
      subject: subjectRef,
      annotations: { kind: 'sbom' },
    });
    const signature = await pushManifest(target, [await target.add('sig')], {
      artifactType: 'application/vnd.sig',
      subject: subjectRef,
    });
    await pushManifest(target, [await target.add('unrelated')]);
    const all = await target.referrers(subject);
    expect(all.map((d) => d.digest)).toEqual([sbom.digest, signature.digest].sort());
    expect(all.find((d) => d.digest === sbom.digest)).toEqual({
      mediaType: MediaType.OciManifest,
      digest: sbom.digest,
      size: sbom.size,
      artifactType: 'application/spdx+json',
      annotations: { kind: 'sbom' },
    });
    expect(await target.referrers(subject, { artifactType: 'application/vnd.sig' })).toEqual([
      {
        mediaType: MediaType.OciManifest,
        digest: signature.digest,
        size: signature.size,
        artifactType: 'application/vnd.sig',
      },
    ]);
  });

  it('delete removes the content and the tags naming it; a second delete is not found', async () => {
    const target = new MemoryTarget();
    const manifest = await pushManifest(target, [await target.add('x')]);
    await target.tag(manifest, 'v1');
    await target.delete(manifest);
    expect(await target.exists(manifest)).toBe(false);
    expect(await target.tags()).toEqual([]);
    await expect(target.delete(manifest)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});

describe('MemoryTarget: capabilities', () => {
  it('can delete and stat blobs; cannot mount, push by tag or stream while hashing', () => {
    const target = new MemoryTarget();
    expect(canDelete(target)).toBe(true);
    expect(canStatBlob(target)).toBe(true);
    expect(canMount(target)).toBe(false);
    expect(canPushTagged(target)).toBe(false);
    expect(canPushWhileHashing(target)).toBe(false);
    expect(canFetchReference(target)).toBe(false);
  });

  it('fetchManifestByReference resolves and then fetches where the target cannot in one step', async () => {
    const store = new MemoryTarget('store');
    const manifest = await pushManifest(store, [await store.add('by tag')]);
    await store.tag(manifest, 'v1');
    const calls: string[] = [];
    const recording = new (class extends MemoryTarget {
      override resolve(reference: string) {
        calls.push(`resolve ${reference}`);
        return store.resolve(reference);
      }
      override fetch(descriptor: Descriptor) {
        calls.push(`fetch ${descriptor.digest}`);
        return store.fetch(descriptor);
      }
    })('recording');
    const fetched = await fetchManifestByReference(recording, 'v1');
    expect(calls).toEqual(['resolve v1', `fetch ${manifest.digest}`]);
    expect(fetched.descriptor).toEqual(manifest);
    expect(computeDigest(fetched.bytes)).toBe(manifest.digest);
    await expect(fetchManifestByReference(store, 'nope')).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    });
  });

  it('fetchManifestByReference asks a target that can fetch by reference, and nothing else', async () => {
    const store = new MemoryTarget('store');
    const manifest = await pushManifest(store, [await store.add('one step')]);
    await store.tag(manifest, 'v1');
    const calls: string[] = [];
    const oneStep = {
      name: 'one-step',
      resolve: (reference: string) => {
        calls.push(`resolve ${reference}`);
        return store.resolve(reference);
      },
      fetch: (descriptor: Descriptor) => {
        calls.push(`fetch ${descriptor.digest}`);
        return store.fetch(descriptor);
      },
      fetchReference: async (reference: string) => {
        calls.push(`fetchReference ${reference}`);
        return fetchManifestByReference(store, reference);
      },
    };
    const fetched = await fetchManifestByReference(oneStep, 'v1');
    expect(calls).toEqual(['fetchReference v1']);
    expect(fetched.descriptor).toEqual(manifest);
  });

  it('copy() reads a source that offers only the read-only graph capabilities', async () => {
    const store = new MemoryTarget('store');
    const manifest = await pushManifest(store, [await store.add('only read')]);
    await store.tag(manifest, 'v1');
    // No push, tag, tags or delete: copy must not need them from its source.
    const source: ReadOnlyGraphTarget = {
      name: store.name,
      fetch: (d, o) => store.fetch(d, o),
      exists: (d, o) => store.exists(d, o),
      resolve: (r, o) => store.resolve(r, o),
      referrers: (d, o) => store.referrers(d, o),
    };
    const destination = new MemoryTarget('dst');
    await copy(source, destination, 'v1', { tags: ['v1'] });
    expect((await destination.resolve('v1')).digest).toBe(manifest.digest);
    expect([...destination.digests()].sort()).toEqual([...store.digests()].sort());
  });

  it('copies byte-identical graphs between two memory targets, and tags the root', async () => {
    const source = new MemoryTarget('src');
    const manifest = await pushManifest(source, [await source.add('payload')]);
    await source.tag(manifest, 'v1');
    const destination = new MemoryTarget('dst');
    const root = await copy(source, destination, 'v1', { tags: ['mirror'] });
    expect(root).toEqual(manifest);
    expect([...destination.digests()].sort()).toEqual([...source.digests()].sort());
    for (const digest of source.digests())
      expect(destination.bytes(digest)).toEqual(source.bytes(digest));
    expect(await destination.tags()).toEqual(['mirror']);
  });
});
