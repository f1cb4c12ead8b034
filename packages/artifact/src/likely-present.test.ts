import { computeDigest, MediaType } from '@ferry/oci';
import { Registry } from '@ferry/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { likelyPresentAt } from './likely-present.js';
import { MemoryTarget } from './memory-target.js';
import { RegistryTarget } from './registry-target.js';
import { startFakeRegistry, type FakeRegistry } from './testing/fake-registry.js';

let server: FakeRegistry;
let registry: Registry;
beforeEach(async () => {
  server = await startFakeRegistry({ referrersApi: false });
  registry = new Registry(server.host, { plainHttp: true, retry: { retries: 0 } });
});
afterEach(async () => {
  await registry.close();
  await server.close();
});

/** Stores a manifest under `tag` listing a config of 2 bytes and layers of these sizes. */
function tagManifest(tag: string, layerSizes: number[], mediaType: string = MediaType.OciManifest) {
  const layer = (size: number, i: number) => ({
    mediaType: MediaType.OciLayer,
    digest: computeDigest(Buffer.from(`layer ${i}`)),
    size,
  });
  const document =
    mediaType === MediaType.OciIndex
      ? { schemaVersion: 2, mediaType, manifests: layerSizes.map(layer) }
      : {
          schemaVersion: 2,
          mediaType,
          config: {
            mediaType: MediaType.OciEmpty,
            digest: computeDigest(Buffer.from('{}')),
            size: 2,
          },
          layers: layerSizes.map(layer),
        };
  const bytes = Buffer.from(JSON.stringify(document));
  const repository = server.repository('a/b');
  repository.manifests.set(computeDigest(bytes), { bytes, mediaType });
  repository.tags.set(tag, computeDigest(bytes));
}

const manifestRequests = () => server.requests.filter((r) => r.includes('/manifests/'));

describe('likelyPresentAt', () => {
  it('says yes for the sizes of the blobs the tag lists now, no for others', async () => {
    tagManifest('v1', [1000, 5000]);
    const guess = likelyPresentAt(new RegistryTarget(registry, 'a/b'), 'v1');
    expect(await guess?.(5000)).toBe(true);
    expect(await guess?.(1000)).toBe(true);
    expect(await guess?.(2)).toBe(true);
    expect(await guess?.(4999)).toBe(false);
  });

  it('asks only on the first call, and only once', async () => {
    tagManifest('v1', [1000]);
    const guess = likelyPresentAt(new RegistryTarget(registry, 'a/b'), 'v1');
    expect(manifestRequests()).toEqual([]);
    await Promise.all([guess?.(1000), guess?.(7)]);
    await guess?.(1000);
    expect(manifestRequests()).toEqual(['GET /v2/a/b/manifests/v1']);
  });

  it('says no when the tag does not exist, or names an index', async () => {
    tagManifest('multi', [1000], MediaType.OciIndex);
    const target = new RegistryTarget(registry, 'a/b');
    expect(await likelyPresentAt(target, 'missing')?.(1000)).toBe(false);
    expect(await likelyPresentAt(target, 'multi')?.(1000)).toBe(false);
  });

  it('has no guess without a tag, or for a target that cannot fetch by tag', () => {
    expect(likelyPresentAt(new RegistryTarget(registry, 'a/b'), undefined)).toBeUndefined();
    expect(likelyPresentAt(new MemoryTarget(), 'v1')).toBeUndefined();
  });
});
