// mirrorBottles between memory targets: the mirror holds the same bytes under the same digests,
// its tag names the same index, a second run sends nothing, and a subset of bottle tags gets
// an index of its own with only their blobs.
import { fetchManifest } from '@ferry/artifact';
import { Annotation, computeDigest } from '@ferry/oci';
import { beforeEach, describe, expect, it } from 'vitest';
import { readBottleFiles } from './inputs.js';
import { mirrorBottles, type MirrorBottlesOptions } from './mirror.js';
import { pushBottles } from './push.js';
import { MemoryRegistry } from './testing/memory-registry.js';
import { TAB_LINUX, TAB_MAC, usePushHarness, writeBottleJson } from './testing/push-harness.js';
import { homebrewJsonBytes } from './json.js';

usePushHarness();

let source: MemoryRegistry;
let mirror: MemoryRegistry;
beforeEach(() => {
  source = new MemoryRegistry();
  mirror = new MemoryRegistry();
});

async function publish(name: string, version = '1.0', tab: Record<string, unknown> = {}) {
  const { jsonPath } = await writeBottleJson({
    fullName: name,
    version,
    rootUrl: 'https://ghcr.io/v2/homebrew/core',
    tags: {
      arm64_sequoia: { tab: { ...TAB_MAC, ...tab } },
      x86_64_linux: { tab: { ...TAB_LINUX, ...tab } },
    },
  });
  await pushBottles(await readBottleFiles([jsonPath]), {
    openTarget: (host, repository) => source.open(`${host}/${repository}`),
  });
  return source.get(`ghcr.io/homebrew/core/${name}`);
}

const run = (formulas: string[], options: Partial<MirrorBottlesOptions> = {}) =>
  mirrorBottles({
    formulas,
    toPrefix: 'mirror',
    openSource: (repository) => source.get(`ghcr.io/${repository}`),
    openDestination: (repository) => mirror.open(repository),
    ...options,
  });

describe('mirrorBottles between memory targets', () => {
  it('copies every manifest and blob byte for byte, and tags the same index digest', async () => {
    const from = await publish('foo');
    const [image] = await run(['foo']);
    const to = mirror.get('mirror/homebrew/core/foo');
    expect([...to.digests()].sort()).toEqual([...from.digests()].sort());
    for (const digest of from.digests()) expect(to.bytes(digest)).toEqual(from.bytes(digest));
    expect(await to.resolve('1.0')).toEqual(await from.resolve('1.0'));
    expect(await to.tags()).toEqual(['1.0']);
    expect(image).toEqual(
      expect.objectContaining({
        repository: 'homebrew/core/foo',
        destination: 'mirror/homebrew/core/foo',
        imageTag: '1.0',
        indexDigest: (await from.resolve('1.0')).digest,
        bottleTags: ['arm64_sequoia', 'x86_64_linux'],
      }),
    );
    expect(image?.transferred).toBe(from.digests().length);
  });

  it('a second run transfers nothing', async () => {
    await publish('foo');
    await run(['foo']);
    const to = mirror.get('mirror/homebrew/core/foo');
    to.calls.length = 0;
    const [again] = await run(['foo']);
    expect(again?.transferred).toBe(0);
    expect(to.calls.filter((c) => c.startsWith('push'))).toEqual([]);
  });

  it('with tags, writes an index of just those bottles and copies only their blobs', async () => {
    const from = await publish('foo');
    const [image] = await run(['foo'], { tags: ['x86_64_linux'] });
    const to = mirror.get('mirror/homebrew/core/foo');
    const index = await fetchManifest(to, await to.resolve('1.0'));
    if (index.parsed.kind !== 'index') throw new Error('expected an index');
    expect(index.parsed.index.manifests.map((m) => m.annotations?.[Annotation.RefName])).toEqual([
      '1.0.x86_64_linux',
    ]);
    const original = await fetchManifest(from, await from.resolve('1.0'));
    if (original.parsed.kind !== 'index') throw new Error('expected an index');
    const [macEntry, linuxEntry] = original.parsed.index.manifests;
    expect(index.parsed.index.manifests[0]).toEqual(linuxEntry);
    // The subset index is Homebrew's JSON of the original with one entry left.
    const expected = homebrewJsonBytes({ ...original.parsed.index, manifests: [linuxEntry] });
    expect(index.bytes).toEqual(Buffer.from(expected));
    expect(image?.indexDigest).toBe(computeDigest(expected));
    expect(await to.exists(macEntry!)).toBe(false);
    expect(await to.exists(linuxEntry!)).toBe(true);
  });

  it('refuses a bottle tag the image does not have, before copying anything', async () => {
    await publish('foo');
    await expect(run(['foo'], { tags: ['arm64_tahoe_nope'] })).rejects.toMatchObject({
      code: 'ERR_BOTTLE_NOT_FOUND',
      message: expect.stringContaining('has no arm64_tahoe_nope bottle'),
    });
    expect(mirror.get('mirror/homebrew/core/foo').digests()).toEqual([]);
  });

  it('with withDeps, mirrors the dependencies named in the tabs as well', async () => {
    const bar = await publish('bar', '2.0');
    await publish('foo', '1.0', {
      runtime_dependencies: [{ full_name: 'bar', version: '2.0' }],
    });
    const images = await run(['foo'], { withDeps: true });
    expect(images.map((i) => `${i.destination}:${i.imageTag}`)).toEqual([
      'mirror/homebrew/core/foo:1.0',
      'mirror/homebrew/core/bar:2.0',
    ]);
    const to = mirror.get('mirror/homebrew/core/bar');
    expect((await to.resolve('2.0')).digest).toBe((await bar.resolve('2.0')).digest);
  });
});
