import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeDigest, parseManifest, type ImageIndex } from '@ferry/oci';
import { buildBottleIndex } from './bottle-index.js';
import { bottleConfigBytes, bottlePlatform } from './bottle-platform.js';
import {
  buildBottleImage,
  buildBottleManifest,
  formulaAnnotations,
  homebrewSourceUrl,
  type BottleInput,
} from './build.js';
import { selectBottle } from './select.js';

const FIXTURES = new URL('../../../fixtures/homebrew/', import.meta.url);
const INDEX_BYTES = readFileSync(new URL('sqlite-3.40.1.index.json', FIXTURES));
const MANIFEST_BYTES = readFileSync(new URL('sqlite-3.40.1.x86_64_linux.manifest.json', FIXTURES));
const MANIFEST_DIGEST = 'sha256:ff58c21da5e58b82bae6e19207a8ec01e398a31512081e9b6560b2dec88c22da';
const CONFIG_DIGEST = 'sha256:36d708da8f4d7e2450550b5179e41b4320628b97a2056cf56b8bb15a2759bb3d';
const REVISION = '24944d797567cd81c25a0627b3f373e0d6472d94';

function fixtureIndex(): ImageIndex {
  const parsed = parseManifest(INDEX_BYTES);
  if (parsed.kind !== 'index') throw new Error('fixture is not an index');
  return parsed.index;
}

/** The x86_64_linux sqlite bottle, with only what Homebrew knew when it pushed it. */
function sqliteLinux(): BottleInput {
  const entry = fixtureIndex().manifests[6]!;
  return {
    name: 'sqlite',
    pkgVersion: '3.40.1',
    tag: 'x86_64_linux',
    tarball: {
      digest: '8d1baebd808a5cdb47c3fedbefd4de5cf7983700c41191432f3a9bed4885bb06',
      size: 2682611,
    },
    tab: JSON.parse(entry.annotations!['sh.brew.tab']!),
    license: 'blessing',
    description: 'Command-line interface for SQLite',
    homepage: 'https://sqlite.org/index.html',
    revision: REVISION,
    sourceUrl: homebrewSourceUrl('homebrew/core', 'Formula/sqlite.rb', REVISION),
    created: '2022-12-30',
    // The uncompressed tar's digest is not in the fixture, so the config is given, not built.
    config: { digest: CONFIG_DIGEST, size: 228 },
  };
}

describe('reproducing the sqlite 3.40.1 fixture byte for byte', () => {
  it('has the fixture digests to begin with', () => {
    expect(computeDigest(MANIFEST_BYTES)).toBe(MANIFEST_DIGEST);
    expect(MANIFEST_BYTES.byteLength).toBe(2213);
  });

  it('builds the x86_64_linux manifest exactly (sha256 ff58c21d…22da)', () => {
    const bottle = sqliteLinux();
    const annotations = formulaAnnotations(bottle, 'homebrew-3.6');
    expect(annotations).toEqual(fixtureIndex().annotations);
    const built = buildBottleManifest(bottle, annotations, { style: 'homebrew-3.6' });
    expect(Buffer.from(built.manifestBytes).toString('utf8')).toBe(MANIFEST_BYTES.toString('utf8'));
    expect(built.entry.digest).toBe(MANIFEST_DIGEST);
    expect(built.entry.size).toBe(2213);
    expect(built.fileName).toBe('sqlite--3.40.1.x86_64_linux.bottle.tar.gz');
    // The index entry too: digest, platform (from the tab), annotations in Homebrew's order.
    expect(JSON.stringify(built.entry)).toBe(JSON.stringify(fixtureIndex().manifests[6]));
  });

  it('writes a config of the fixture size (228 bytes) for that platform', () => {
    const { platform } = bottlePlatform(sqliteLinux(), { style: 'homebrew-3.6' });
    expect(platform).toEqual({
      architecture: 'amd64',
      os: 'linux',
      'os.version': '5.15.0-1024-azure',
    });
    const config = bottleConfigBytes(platform, 'ab'.repeat(32));
    expect(config.byteLength).toBe(228);
    expect(Buffer.from(config).toString()).toBe(
      `{\n  "architecture": "amd64",\n  "os": "linux",\n  "os.version": "5.15.0-1024-azure",\n  "rootfs": {\n    "type": "layers",\n    "diff_ids": [\n      "sha256:${'ab'.repeat(32)}"\n    ]\n  }\n}`,
    );
  });

  it('re-serializes the fixture index exactly', () => {
    const index = fixtureIndex();
    const built = buildBottleIndex(index.manifests, index.annotations!);
    expect(Buffer.from(built.bytes).equals(INDEX_BYTES)).toBe(true);
    expect(built.descriptor).toEqual({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: computeDigest(INDEX_BYTES),
      size: INDEX_BYTES.byteLength,
    });
  });

  it('appends the Linux bottle with keepOld and gets the fixture index back', () => {
    const index = fixtureIndex();
    const existing = { ...index, manifests: index.manifests.slice(0, 6) };
    const image = buildBottleImage([sqliteLinux()], {
      style: 'homebrew-3.6',
      existingIndex: existing,
      keepOld: true,
    });
    expect(image.imageTag).toBe('3.40.1');
    expect(Buffer.from(image.index.bytes).equals(INDEX_BYTES)).toBe(true);
    expect(image.bottles[0]?.entry.digest).toBe(MANIFEST_DIGEST);
    expect(selectBottle(image.index.index, 'x86_64_linux').descriptor.digest).toBe(MANIFEST_DIGEST);
  });

  it('refuses to push the fixture again', () => {
    expect(() =>
      buildBottleImage([sqliteLinux()], {
        style: 'homebrew-3.6',
        existingIndex: fixtureIndex(),
        keepOld: true,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_BOTTLE_EXISTS' }));
    expect(() =>
      buildBottleImage([sqliteLinux()], { style: 'homebrew-3.6', existingIndex: fixtureIndex() }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_BOTTLE_EXISTS',
        message: expect.stringContaining('3.40.1'),
      }),
    );
  });
});

const TAB_DARWIN = {
  homebrew_version: '4.4.0',
  runtime_dependencies: [],
  arch: 'arm64',
  built_on: { os: 'Macintosh', os_version: 'macOS 14', cpu_family: 'dunno' },
};

function jq(
  tag: string,
  tab: Record<string, unknown>,
  extra: Partial<BottleInput> = {},
): BottleInput {
  return {
    name: 'user/homebrew-tools/jq',
    pkgVersion: '1.7.1_1',
    rebuild: 1,
    tag,
    tarball: { digest: 'cd'.repeat(32), size: 1234, diffId: 'ef'.repeat(32) },
    tab,
    installedSize: 4567,
    pathExecFiles: ['bin/jq', 'bin/jq-extra'],
    license: 'MIT',
    description: 'Lightweight and flexible command-line JSON processor — café',
    homepage: 'https://jqlang.github.io/jq/',
    revision: 'abc123',
    sourceUrl: homebrewSourceUrl('user/tools', 'Formula/jq.rb', 'abc123'),
    documentation: 'https://github.com/user/homebrew-tools',
    created: '2024-07-01',
    ...extra,
  };
}

describe('building a current-style image', () => {
  const image = buildBottleImage([
    jq('arm64_sonoma', TAB_DARWIN),
    jq('aarch64_linux', {
      arch: 'arm64',
      built_on: { os: 'Linux', os_version: 'Ubuntu 22.04 LTS' },
    }),
  ]);

  it('names everything as Homebrew does', () => {
    expect(image.imageTag).toBe('1.7.1_1-1');
    expect(image.bottles.map((bottle) => [bottle.tag, bottle.refName, bottle.fileName])).toEqual([
      ['arm64_sonoma', '1.7.1_1.arm64_sonoma.1', 'jq--1.7.1_1.arm64_sonoma.bottle.1.tar.gz'],
      ['arm64_linux', '1.7.1_1.arm64_linux.1', 'jq--1.7.1_1.arm64_linux.bottle.1.tar.gz'],
    ]);
  });

  it('writes the index annotations in Homebrew’s order', () => {
    expect(image.index.index.annotations).toEqual({
      'com.github.package.type': 'homebrew_bottle',
      'org.opencontainers.image.created': '2024-07-01',
      'org.opencontainers.image.description':
        'Lightweight and flexible command-line JSON processor — café',
      'org.opencontainers.image.documentation': 'https://github.com/user/homebrew-tools',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.ref.name': '1.7.1_1-1',
      'org.opencontainers.image.revision': 'abc123',
      'org.opencontainers.image.source':
        'https://github.com/user/homebrew-tools/blob/abc123/Formula/jq.rb',
      'org.opencontainers.image.title': 'user/tools/jq',
      'org.opencontainers.image.url': 'https://jqlang.github.io/jq/',
      'org.opencontainers.image.vendor': 'user',
      'org.opencontainers.image.version': '1.7.1_1',
    });
    expect(Object.keys(image.index.index.annotations!)).toEqual(
      Object.keys(image.index.index.annotations!).sort(),
    );
  });

  it('writes entry annotations in Homebrew’s (unsorted) order', () => {
    const [darwin, linux] = image.bottles;
    expect(Object.keys(darwin!.entry.annotations!)).toEqual([
      'org.opencontainers.image.ref.name',
      'sh.brew.bottle.digest',
      'sh.brew.bottle.size',
      'sh.brew.bottle.installed_size',
      'sh.brew.license',
      'sh.brew.tab',
      'sh.brew.path_exec_files',
    ]);
    expect(linux!.entry.annotations).toMatchObject({
      'sh.brew.bottle.cpu.variant': 'core2',
      'sh.brew.bottle.glibc.version': '2.39',
      'sh.brew.bottle.size': '1234',
      'sh.brew.bottle.installed_size': '4567',
      'sh.brew.path_exec_files': 'bin/jq,bin/jq-extra',
    });
    expect(linux!.platform).toEqual({
      architecture: 'arm64',
      os: 'linux',
      'os.version': 'Ubuntu 22.04',
    });
    expect(darwin!.platform).toEqual({
      architecture: 'arm64',
      os: 'darwin',
      'os.version': 'macOS 14',
    });
  });

  it('writes manifests with sorted, merged annotations and a real config', () => {
    const bottle = image.bottles[0]!;
    const manifest = JSON.parse(Buffer.from(bottle.manifestBytes).toString('utf8'));
    expect(Object.keys(manifest)).toEqual(['schemaVersion', 'config', 'layers', 'annotations']);
    const keys = Object.keys(manifest.annotations);
    expect(keys).toEqual([...keys].sort());
    expect(manifest.annotations['org.opencontainers.image.title']).toBe(
      'user/tools/jq 1.7.1_1.arm64_sonoma.1',
    );
    expect(manifest.annotations['org.opencontainers.image.ref.name']).toBe(
      '1.7.1_1.arm64_sonoma.1',
    );
    expect(manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: `sha256:${'cd'.repeat(32)}`,
        size: 1234,
        annotations: {
          'org.opencontainers.image.title': 'jq--1.7.1_1.arm64_sonoma.bottle.1.tar.gz',
        },
      },
    ]);
    expect(bottle.configBytes).toBeDefined();
    expect(bottle.config.digest).toBe(computeDigest(bottle.configBytes!));
    expect(JSON.parse(Buffer.from(bottle.configBytes!).toString()).rootfs).toEqual({
      type: 'layers',
      diff_ids: [`sha256:${'ef'.repeat(32)}`],
    });
    // Sizes are bytes, not characters, even with non-ASCII text.
    expect(bottle.entry.size).toBe(bottle.manifestBytes.byteLength);
    expect(image.index.descriptor.size).toBe(image.index.bytes.byteLength);
    expect(parseManifest(bottle.manifestBytes).kind).toBe('manifest');
    expect(parseManifest(image.index.bytes).kind).toBe('index');
  });
});

describe('formula annotations', () => {
  it('defaults documentation and vendor for homebrew/core, and drops blanks', () => {
    const annotations = formulaAnnotations({
      ...jq('sonoma', TAB_DARWIN),
      name: 'homebrew/core/openssl@3',
      documentation: undefined,
      description: '  ',
      license: undefined,
    });
    expect(annotations['org.opencontainers.image.documentation']).toBe(
      'https://formulae.brew.sh/formula/openssl@3',
    );
    expect(annotations['org.opencontainers.image.title']).toBe('openssl@3');
    expect(annotations['org.opencontainers.image.vendor']).toBe('homebrew');
    expect(annotations).not.toHaveProperty('org.opencontainers.image.description');
    expect(annotations).not.toHaveProperty('org.opencontainers.image.licenses');
  });

  it('writes LicenseRef-Homebrew-cannot-represent for an over-long OR (SPDX.truncate_license)', () => {
    const long = Array.from({ length: 40 }, (_, i) => `LIC-${i}`).join(' or ');
    expect(
      formulaAnnotations({ ...jq('sonoma', TAB_DARWIN), license: long })[
        'org.opencontainers.image.licenses'
      ],
    ).toBe('LicenseRef-Homebrew-cannot-represent');
  });
});

describe('buildBottleImage checks', () => {
  it('refuses bottles that disagree on the formula', () => {
    expect(() =>
      buildBottleImage([
        jq('sonoma', TAB_DARWIN),
        jq('ventura', TAB_DARWIN, { pkgVersion: '1.7.2' }),
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_BOTTLE',
        message: expect.stringContaining('pkgVersion'),
      }),
    );
    expect(() => buildBottleImage([])).toThrow(/no bottles/);
  });

  it('refuses the same tag twice, even spelled differently', () => {
    expect(() =>
      buildBottleImage([
        jq('arm64_linux', { arch: 'arm64' }),
        jq('aarch64_linux', { arch: 'arm64' }),
      ]),
    ).toThrow(expect.objectContaining({ code: 'ERR_BOTTLE_EXISTS' }));
  });

  it('needs a diff_id or a config', () => {
    const bottle = jq('sonoma', TAB_DARWIN);
    expect(() =>
      buildBottleImage([{ ...bottle, tarball: { digest: bottle.tarball.digest, size: 1 } }]),
    ).toThrow(/diffId/);
    expect(() =>
      buildBottleImage([{ ...bottle, tarball: { ...bottle.tarball, digest: 'nothex' } }]),
    ).toThrow(/sha256/);
    expect(() =>
      buildBottleImage([{ ...bottle, tarball: { ...bottle.tarball, diffId: 'x' } }]),
    ).toThrow(/diff_id/);
  });
});
