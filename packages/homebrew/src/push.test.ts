// `pushBottles` compared byte for byte with `GitHubPackages#upload_bottle` as ported in
// __fixtures__/github-packages-reference.ts, pushing into OCI layouts (one per host/repository).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { fetchManifest, OciLayoutTarget, type Target } from '@ferry/artifact';
import { readBottleFiles } from './inputs.js';
import { pushBottles, type PushBottlesOptions, type PushEvent } from './push.js';
import { writeTarball, type WrittenTarball } from './__fixtures__/bottle-files.js';
import {
  referenceUpload,
  type RefBottleHash,
  type RefTagHash,
} from './__fixtures__/github-packages-reference.js';

let dir: string;
let layouts: Map<string, OciLayoutTarget>;
let opened: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-push-'));
  layouts = new Map();
  opened = [];
});

async function openTarget(host: string, repository: string): Promise<Target> {
  const key = `${host}/${repository}`;
  opened.push(key);
  let layout = layouts.get(key);
  if (!layout) {
    layout = await OciLayoutTarget.open(join(dir, 'layouts', key.replaceAll(/[/:]/g, '_')), {
      create: true,
    });
    layouts.set(key, layout);
  }
  return layout;
}

const TAB_MAC = {
  homebrew_version: '5.1.0',
  changed_files: [],
  source_modified_time: 1_700_000_000,
  compiler: 'clang',
  runtime_dependencies: [],
  arch: 'arm64',
  built_on: { os: 'Macintosh', os_version: 'macOS 15', cpu_family: 'dunno', xcode: '16.0' },
};
const TAB_LINUX = {
  ...TAB_MAC,
  compiler: 'gcc-12',
  arch: 'x86_64',
  built_on: {
    os: 'Linux',
    os_version: 'Ubuntu 24.04 LTS',
    glibc_version: '2.39',
    oldest_cpu_family: 'core2',
  },
};

interface JsonBottle {
  fullName: string;
  version?: string;
  rebuild?: number;
  rootUrl: string;
  license?: string;
  tags: Record<string, { tab: Record<string, unknown>; sbom?: unknown }>;
}

/** Writes the tarballs and the `.bottle.json` brew bottle --json would; returns both views. */
async function writeBottleJson(
  bottle: JsonBottle,
): Promise<{ jsonPath: string; hash: RefBottleHash }> {
  const name = bottle.fullName.split('/').pop()!;
  const version = bottle.version ?? '1.0';
  const rebuild = bottle.rebuild ?? 0;
  const tags: Record<string, RefTagHash> = {};
  for (const [tag, { tab, sbom }] of Object.entries(bottle.tags)) {
    const fileName = `${name}--${version}.${tag}.bottle${rebuild ? `.${rebuild}` : ''}.tar.gz`;
    const file: WrittenTarball = await writeTarball(dir, fileName, name, version);
    tags[tag] = {
      local_filename: fileName,
      tab,
      path_exec_files: [`bin/${name}`],
      installed_size: 4096,
      ...(sbom !== undefined ? { sbom } : {}),
      file: { sha256: file.sha256, size: file.size, tarSha256: file.tarSha256 },
    };
  }
  const hash: RefBottleHash = {
    formula: {
      name,
      pkg_version: version,
      desc: 'A test formula',
      license: bottle.license ?? 'MIT',
      homepage: 'https://example.com/foo',
      tap_git_path: `Formula/${name[0]}/${name}.rb`,
      tap_git_revision: '0123456789abcdef0123456789abcdef01234567',
      tap_git_remote: 'https://github.com/OtherOrg/homebrew-bottles',
    },
    bottle: { root_url: bottle.rootUrl, rebuild, date: '2026-05-10T00:00:00Z', tags },
  };
  const json = {
    [bottle.fullName]: {
      formula: hash.formula,
      bottle: {
        ...hash.bottle,
        tags: Object.fromEntries(
          Object.entries(tags).map(([tag, { file: _file, ...rest }]) => [
            tag,
            { ...rest, filename: rest.local_filename, sha256: _file.sha256 },
          ]),
        ),
      },
    },
  };
  const jsonPath = join(dir, `${name}--${version}.bottle.json`);
  await writeFile(jsonPath, JSON.stringify(json, null, 2));
  return { jsonPath, hash };
}

async function push(paths: string[], options: Partial<PushBottlesOptions> = {}) {
  const events: PushEvent[] = [];
  const pushed = await pushBottles(await readBottleFiles(paths), {
    openTarget,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { pushed, events };
}

/** Every blob of the reference upload is in the layout, and the tag names its index. */
async function expectSameAsBrew(
  key: string,
  tag: string,
  reference: ReturnType<typeof referenceUpload>,
) {
  const layout = layouts.get(key);
  expect(layout, `nothing pushed to ${key}`).toBeDefined();
  const indexDescriptor = await layout!.resolve(tag);
  const index = await fetchManifest(layout!, indexDescriptor);
  expect(index.bytes.toString('utf8')).toBe(reference.index.json);
  expect(indexDescriptor.digest).toBe(`sha256:${reference.index.sha256}`);
  for (const manifest of reference.manifests) {
    const fetched = await fetchManifest(layout!, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${manifest.sha256}`,
      size: manifest.size,
    });
    expect(fetched.bytes.toString('utf8')).toBe(manifest.json);
  }
  for (const config of reference.configs) {
    expect(
      await layout!.exists({
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${config.sha256}`,
        size: config.size,
      }),
    ).toBe(true);
  }
}

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

describe('what current github_packages.rb writes', () => {
  it('an all bottle: no platform in its entry, no arch or built_on in its tab (item 3)', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { all: { tab: TAB_MAC } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
    const entry = (JSON.parse(reference.index.json) as { manifests: Record<string, unknown>[] })
      .manifests[0]!;
    expect(entry).not.toHaveProperty('platform');
    const tab = JSON.parse((entry.annotations as Record<string, string>)['sh.brew.tab']!) as object;
    expect(Object.keys(tab)).toEqual([
      'homebrew_version',
      'changed_files',
      'source_modified_time',
      'compiler',
      'runtime_dependencies',
    ]);
  });

  it('a long licence through SPDX.truncate_license (item 4)', async () => {
    const terms = Array.from({ length: 30 }, (_, i) => `LicenseRef-Part-${i}`);
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      license: terms.join(' AND '),
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
    const licenses = (JSON.parse(reference.index.json) as { annotations: Record<string, string> })
      .annotations['org.opencontainers.image.licenses']!;
    expect(licenses.length).toBeLessThanOrEqual(255);
    expect(licenses.endsWith(' AND LicenseRef-Homebrew-truncated')).toBe(true);
  });

  it('sh.brew.sbom.supplement from the bottle JSON’s sbom (item 5)', async () => {
    const sbom = {
      documentDescribes: ['SPDXRef-Compiler'],
      packages: [{ SPDXID: 'SPDXRef-Compiler', name: 'clang' }],
      relationships: [],
    };
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC, sbom } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    expect(reference.index.json).toContain('sh.brew.sbom.supplement');
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
  });

  it('a macOS 27 bottle whose tab has no built_on gets os.version "macOS 27" (item 11)', async () => {
    const { built_on: _builtOn, ...tab } = TAB_MAC;
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_golden_gate: { tab } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    expect(reference.index.json).toContain('"os.version": "macOS 27"');
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
  });

  it('refuses a version that is not a valid OCI tag, before contacting anything (item 6)', async () => {
    const { jsonPath } = await writeBottleJson({
      fullName: 'foo',
      version: '1.0+git2',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await expect(push([jsonPath])).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_BOTTLE_VERSION',
        message: expect.stringContaining('"1.0+git2"'),
      }),
    );
    expect(opened).toEqual([]);
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
    const layout = layouts.get('ghcr.io/MyOrg/tools/foo')!;
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
