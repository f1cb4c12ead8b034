// `pushBottles`: destinations, refusals, bare tarballs and dry runs, pushed into OCI layouts and
// compared with `GitHubPackages#upload_bottle` (testing/github-packages-reference.ts).
import { describe, expect, it } from 'vitest';
import { fetchManifest } from '@ferry/artifact';
import { writeTarball } from './testing/bottle-files.js';
import { dir } from './testing/push-harness.js';
import { referenceUpload } from './testing/github-packages-reference.js';
import {
  expectSameAsBrew,
  layouts,
  opened,
  push,
  TAB_LINUX,
  TAB_MAC,
  usePushHarness,
  writeBottleJson,
} from './testing/push-harness.js';

usePushHarness();

describe('bottle.root_url decides the destination (item 2)', () => {
  it('a tap formula with root_url ghcr.io/v2/OtherOrg/bottles goes there, vendor OtherOrg', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'someone/tap/foo',
      rootUrl: 'https://ghcr.io/v2/OtherOrg/bottles',
      tags: { arm64_sequoia: { tab: TAB_MAC }, x86_64_linux: { tab: TAB_LINUX } },
    });
    const { pushed } = await push([jsonPath]);
    const reference = referenceUpload('someone/tap/foo', hash);
    expect(reference.imageUri).toBe('ghcr.io/otherorg/bottles/foo:1.0');
    expect(pushed).toEqual([
      expect.objectContaining({
        host: 'ghcr.io',
        repository: 'otherorg/bottles/foo',
        imageTag: '1.0',
      }),
    ]);
    expect(opened).toEqual(['ghcr.io/otherorg/bottles/foo']);
    await expectSameAsBrew('ghcr.io/otherorg/bottles/foo', '1.0', reference);
    const index = JSON.parse(reference.index.json) as { annotations: Record<string, string> };
    expect(index.annotations['org.opencontainers.image.vendor']).toBe('OtherOrg');
    expect(index.annotations['org.opencontainers.image.source']).toBe(
      'https://github.com/OtherOrg/homebrew-bottles/blob/0123456789abcdef0123456789abcdef01234567/Formula/f/foo.rb',
    );
  });

  it('--namespace wins over root_url, and vendor/source follow it; --registry names the host', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/homebrew/core',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await push([jsonPath], { namespace: 'myorg/tap', registry: 'registry.local:5000' });
    expect(opened).toEqual(['registry.local:5000/myorg/tap/foo']);
    // Homebrew with root_url https://ghcr.io/v2/myorg/tap writes the same bytes.
    const reference = referenceUpload('foo', {
      ...hash,
      bottle: { ...hash.bottle, root_url: 'https://ghcr.io/v2/myorg/tap' },
    });
    await expectSameAsBrew('registry.local:5000/myorg/tap/foo', '1.0', reference);
    expect(reference.index.json).toContain('"org.opencontainers.image.vendor": "myorg"');
    expect(reference.index.json).toContain('https://github.com/myorg/homebrew-tap/blob/');
  });

  it('refuses a root_url that is not <scheme>://<host>/v2/<org>/<repo>', async () => {
    const { jsonPath } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://example.com/bottles',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await expect(push([jsonPath])).rejects.toThrow(/root_url "https:\/\/example.com\/bottles"/);
    expect(opened).toEqual([]);
  });
});

describe('an existing version tag (item 1)', () => {
  async function twoPushes() {
    const first = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await push([first.jsonPath]);
    const layout = layouts.get('ghcr.io/myorg/tap/foo')!;
    const before = (await layout.resolve('1.0')).digest;
    const second = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { x86_64_linux: { tab: TAB_LINUX } },
    });
    return { layout, before, second };
  }

  it('is refused as brew refuses it ("… already exists!"), the tag untouched', async () => {
    const { layout, before, second } = await twoPushes();
    await expect(push([second.jsonPath])).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_BOTTLE_EXISTS',
        message: expect.stringContaining('ghcr.io/myorg/tap/foo:1.0 already exists!'),
      }),
    );
    expect((await layout.resolve('1.0')).digest).toBe(before);
  });

  it('is skipped with a warning under warnOnError (--warn-on-upload-failure)', async () => {
    const { layout, before, second } = await twoPushes();
    const { pushed, events } = await push([second.jsonPath], { warnOnError: true });
    expect(pushed).toEqual([]);
    expect(events).toEqual([
      {
        type: 'warning',
        repository: 'myorg/tap/foo',
        message: 'ghcr.io/myorg/tap/foo:1.0 already exists, skipping upload!',
      },
    ]);
    expect((await layout.resolve('1.0')).digest).toBe(before);
  });

  it('is merged with keepOld', async () => {
    const { layout, before, second } = await twoPushes();
    const { pushed } = await push([second.jsonPath], { keepOld: true });
    expect(pushed[0]?.bottleTags).toEqual(['1.0.arm64_sequoia', '1.0.x86_64_linux']);
    expect((await layout.resolve('1.0')).digest).not.toBe(before);
  });

  it('keepOld with no such tag yet writes a new index (keep_old is ignored)', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await push([jsonPath], { keepOld: true });
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', referenceUpload('foo', hash));
  });
});

describe('bare tarballs (items 9 and 18)', () => {
  const receipt = {
    homebrew_version: '5.1.0',
    used_options: [],
    poured_from_bottle: false,
    changed_files: [],
    time: 1_700_000_100,
    source_modified_time: 1_700_000_000,
    stdlib: null,
    compiler: 'gcc-12',
    runtime_dependencies: [],
    source: {
      spec: 'stable',
      versions: { stable: '1.0' },
      path: '/x/foo.rb',
      scm_revision: 'feedbeef',
      tap: 'homebrew/core',
    },
    arch: 'x86_64',
    built_on: { os: 'Linux', os_version: 'Ubuntu 24.04', glibc_version: '2.39' },
  };

  it('refuses to guess homebrew/core on ghcr.io, and says which flag to pass', async () => {
    const tarball = await writeTarball(
      dir,
      'foo--1.0.x86_64_linux.bottle.tar.gz',
      'foo',
      '1.0',
      receipt,
    );
    await expect(push([tarball.path])).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTIONS',
        message: expect.stringContaining('--namespace'),
      }),
    );
    await expect(push([tarball.path], { registry: 'ghcr.io' })).rejects.toThrow(/homebrew\/core/);
    expect(opened).toEqual([]);
  });

  it('keeps homebrew/core on another registry, with an ISO 8601 date and the scm_revision', async () => {
    const tarball = await writeTarball(
      dir,
      'foo--1.0.x86_64_linux.bottle.tar.gz',
      'foo',
      '1.0',
      receipt,
    );
    await push([tarball.path], { registry: 'localhost:5000' });
    const layout = layouts.get('localhost:5000/homebrew/core/foo')!;
    const index = await fetchManifest(layout, await layout.resolve('1.0'));
    const parsed = JSON.parse(index.bytes.toString()) as {
      annotations: Record<string, string>;
      manifests: { annotations: Record<string, string> }[];
    };
    // SOURCE_DATE_EPOCH unset: the sources' modification time, as Time#utc.iso8601 writes it.
    expect(parsed.annotations['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
    expect(parsed.annotations['org.opencontainers.image.vendor']).toBe('homebrew');
    expect(parsed.annotations['org.opencontainers.image.source']).toBe(
      'https://github.com/homebrew/homebrew-core/blob/HEAD/',
    );
    // Tab#to_bottle_hash: blank stdlib dropped, source cut to scm_revision, in Homebrew's key order.
    expect(parsed.manifests[0]!.annotations['sh.brew.tab']).toBe(
      JSON.stringify({
        homebrew_version: '5.1.0',
        changed_files: [],
        source_modified_time: 1_700_000_000,
        compiler: 'gcc-12',
        runtime_dependencies: [],
        source: { scm_revision: 'feedbeef' },
        arch: 'x86_64',
        built_on: receipt.built_on,
      }),
    );
  });

  it('takes vendor and source from --namespace', async () => {
    const tarball = await writeTarball(
      dir,
      'foo--1.0.x86_64_linux.bottle.tar.gz',
      'foo',
      '1.0',
      receipt,
    );
    await push([tarball.path], { namespace: 'MyOrg/tools' });
    const layout = layouts.get('ghcr.io/myorg/tools/foo')!;
    const index = JSON.parse(
      (await fetchManifest(layout, await layout.resolve('1.0'))).bytes.toString(),
    ) as {
      annotations: Record<string, string>;
    };
    expect(index.annotations['org.opencontainers.image.vendor']).toBe('MyOrg');
    expect(index.annotations['org.opencontainers.image.source']).toBe(
      'https://github.com/MyOrg/homebrew-tools/blob/HEAD/',
    );
  });
});

describe('dry run (item 8)', () => {
  it('builds and reports every image without opening a registry', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    const { pushed } = await push([jsonPath], { dryRun: true });
    const reference = referenceUpload('foo', hash);
    expect(opened).toEqual([]);
    expect(pushed).toEqual([
      {
        host: 'ghcr.io',
        repository: 'myorg/tap/foo',
        imageTag: '1.0',
        indexDigest: `sha256:${reference.index.sha256}`,
        indexSize: reference.index.size,
        bottleTags: ['1.0.arm64_sequoia'],
        dryRun: true,
      },
    ]);
  });
});
