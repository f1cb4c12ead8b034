// pushBottles against memory targets: what is stored (bytes, digests), in what order (blobs and
// manifests by digest, then the index, then its tag, last), and what is left when a check refuses
// or an upload fails (no tag).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchManifest } from '@ferry/artifact';
import { Annotation, computeDigest, MediaType } from '@ferry/oci';
import { RegistryError, RegistryErrorCode } from '@ferry/registry';
import { beforeEach, describe, expect, it } from 'vitest';
import { readBottleFiles } from './inputs.js';
import { pushBottles, type PushBottlesOptions, type PushEvent } from './push.js';
import { MemoryRegistry } from './testing/memory-registry.js';
import {
  dir,
  TAB_LINUX,
  TAB_MAC,
  usePushHarness,
  writeBottleJson,
} from './testing/push-harness.js';

usePushHarness();

let registry: MemoryRegistry;
beforeEach(() => {
  registry = new MemoryRegistry();
});

const KEY = 'ghcr.io/myorg/tap/foo';

async function push(paths: string[], options: Partial<PushBottlesOptions> = {}) {
  const events: PushEvent[] = [];
  const pushed = await pushBottles(await readBottleFiles(paths), {
    openTarget: (host, repository) => registry.open(`${host}/${repository}`),
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { pushed, events };
}

const twoBottles = (version = '1.0') =>
  writeBottleJson({
    fullName: 'foo',
    version,
    rootUrl: 'https://ghcr.io/v2/myorg/tap',
    tags: { arm64_sequoia: { tab: TAB_MAC }, x86_64_linux: { tab: TAB_LINUX } },
  });

describe('pushBottles into memory targets', () => {
  it('stores each tarball byte for byte, the manifests, and the index under its tag, last', async () => {
    const { jsonPath } = await twoBottles();
    const { pushed } = await push([jsonPath]);
    const target = registry.get(KEY);
    expect(pushed).toEqual([
      expect.objectContaining({ host: 'ghcr.io', repository: 'myorg/tap/foo', imageTag: '1.0' }),
    ]);
    expect(await target.tags()).toEqual(['1.0']);
    const indexDescriptor = await target.resolve('1.0');
    expect(indexDescriptor.digest).toBe(pushed[0]?.indexDigest);
    expect(indexDescriptor.mediaType).toBe(MediaType.OciIndex);
    // The tag is the very last call, right after the index itself.
    expect(target.calls.slice(-2)).toEqual([`push ${indexDescriptor.digest}`, 'tag 1.0']);
    expect(target.calls.filter((c) => c.startsWith('tag'))).toEqual(['tag 1.0']);

    const index = await fetchManifest(target, indexDescriptor);
    if (index.parsed.kind !== 'index') throw new Error('expected an index');
    const entries = index.parsed.index.manifests;
    expect(entries.map((e) => e.annotations?.[Annotation.RefName])).toEqual([
      '1.0.arm64_sequoia',
      '1.0.x86_64_linux',
    ]);
    for (const [entry, tag] of entries.map(
      (e, i) => [e, ['arm64_sequoia', 'x86_64_linux'][i]] as const,
    )) {
      const tarball = await readFile(join(dir, `foo--1.0.${tag}.bottle.tar.gz`));
      // The index entry's digest annotation and the manifest's one layer are the tarball.
      expect(entry.annotations?.['sh.brew.bottle.digest']).toBe(computeDigest(tarball).slice(7));
      const manifest = await fetchManifest(target, entry);
      if (manifest.parsed.kind !== 'manifest') throw new Error('expected a manifest');
      const [layer] = manifest.parsed.manifest.layers;
      expect(layer?.digest).toBe(computeDigest(tarball));
      expect(target.bytes(layer?.digest as string)).toEqual(tarball);
      expect(await target.exists(manifest.parsed.manifest.config)).toBe(true);
    }
  });

  it('refuses an image tag that exists before uploading anything to any image', async () => {
    const first = await twoBottles();
    await push([first.jsonPath]);
    const target = registry.get(KEY);
    const before = target.digests();
    target.calls.length = 0;
    await expect(push([first.jsonPath])).rejects.toMatchObject({
      code: 'ERR_BOTTLE_EXISTS',
      message: expect.stringContaining('ghcr.io/myorg/tap/foo:1.0 already exists!'),
    });
    expect(target.calls).toEqual([]);
    expect(target.digests()).toEqual(before);
  });

  it('a 404 that is not the registry saying "no such tag" stops the push: the tag is not free', async () => {
    // A token server's 404 (its realm even shaped like a manifest URL) or a lost upload session's
    // is no answer about the tag; taking it for one would overwrite the existing 1.0.
    const first = await twoBottles();
    await push([first.jsonPath]);
    const target = registry.get(KEY);
    const before = target.digests();
    const refusals = [
      new RegistryError(
        { status: 404, method: 'GET', url: 'https://ghcr.io/v2/myorg/tap/foo/manifests/1.0' },
        RegistryErrorCode.TokenExchange,
      ),
      new RegistryError({
        status: 404,
        method: 'PUT',
        url: 'https://ghcr.io/v2/myorg/tap/foo/blobs/uploads/1',
      }),
    ];
    for (const refusal of refusals) {
      target.resolve = () => Promise.reject(refusal);
      target.calls.length = 0;
      await expect(push([first.jsonPath])).rejects.toBe(refusal);
      expect(target.calls).toEqual([]);
      expect(target.digests()).toEqual(before);
    }
  });

  it('with warnOnError, skips the existing image with a warning and pushes nothing', async () => {
    const first = await twoBottles();
    await push([first.jsonPath]);
    registry.get(KEY).calls.length = 0;
    const { pushed, events } = await push([first.jsonPath], { warnOnError: true });
    expect(pushed).toEqual([]);
    expect(events).toEqual([
      {
        type: 'warning',
        repository: 'myorg/tap/foo',
        message: 'ghcr.io/myorg/tap/foo:1.0 already exists, skipping upload!',
      },
    ]);
    expect(registry.get(KEY).calls).toEqual([]);
  });

  it('a blob that fails to upload leaves no index and no tag', async () => {
    const { jsonPath } = await twoBottles();
    const target = registry.open(KEY);
    registry.opened.length = 0;
    const linux = await readFile(join(dir, 'foo--1.0.x86_64_linux.bottle.tar.gz'));
    target.failPush.add(computeDigest(linux));
    await expect(push([jsonPath])).rejects.toThrow(`upload of ${computeDigest(linux)} refused`);
    expect(await target.tags()).toEqual([]);
    expect(target.calls.some((c) => c.startsWith('tag'))).toBe(false);
    // No index was pushed: every manifest stored is a bottle manifest of one layer.
    for (const digest of target.digests()) {
      const text = target.bytes(digest)?.toString('utf8') ?? '';
      expect(text.includes(MediaType.OciIndex) && text.includes('"manifests"')).toBe(false);
    }
  });

  it('keepOld adds a bottle to the existing index and leaves the old one as it was', async () => {
    const mac = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await push([mac.jsonPath]);
    const target = registry.get(KEY);
    const before = await fetchManifest(target, await target.resolve('1.0'));
    if (before.parsed.kind !== 'index') throw new Error('expected an index');
    const macEntry = before.parsed.index.manifests[0];
    const linux = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { x86_64_linux: { tab: TAB_LINUX } },
    });
    target.calls.length = 0;
    const { pushed } = await push([linux.jsonPath], { keepOld: true });
    const calls = [...target.calls];
    const index = await fetchManifest(target, await target.resolve('1.0'));
    if (index.parsed.kind !== 'index') throw new Error('expected an index');
    expect(index.parsed.index.manifests.map((m) => m.annotations?.[Annotation.RefName])).toEqual([
      '1.0.arm64_sequoia',
      '1.0.x86_64_linux',
    ]);
    expect(index.parsed.index.manifests[0]).toEqual(macEntry);
    expect(index.descriptor.digest).toBe(pushed[0]?.indexDigest);
    // The old bottle was neither fetched nor sent again: only its index was read.
    expect(calls).not.toContain(`push ${macEntry?.digest}`);
    expect(calls.filter((c) => c.startsWith('fetch'))).toEqual([
      `fetch ${before.descriptor.digest}`,
    ]);
    expect(calls.at(-1)).toBe('tag 1.0');
  });

  it('dryRun opens no target and stores nothing', async () => {
    const { jsonPath } = await twoBottles();
    const { pushed } = await push([jsonPath], { dryRun: true });
    expect(pushed).toEqual([expect.objectContaining({ imageTag: '1.0', dryRun: true })]);
    expect(registry.opened).toEqual([]);
  });
});
