import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MediaType, parseManifest, type Descriptor, type ImageIndex } from '@ferry/oci';
import { bottleEntries, findMatchingTag, selectBottle, skipOrLaterBottles } from './select.js';

const FIXTURES = new URL('../../../fixtures/homebrew/', import.meta.url);

function sqliteIndex(): ImageIndex {
  const parsed = parseManifest(readFileSync(new URL('sqlite-3.40.1.index.json', FIXTURES)));
  if (parsed.kind !== 'index') throw new Error('fixture is not an index');
  return parsed.index;
}

let counter = 0;
function entry(ref: string | undefined, platform?: Descriptor['platform'], extra = {}): Descriptor {
  counter++;
  return {
    mediaType: MediaType.OciManifest,
    digest: `sha256:${counter.toString(16).padStart(64, '0')}`,
    size: 100,
    ...(platform && { platform }),
    annotations: {
      ...(ref !== undefined && { 'org.opencontainers.image.ref.name': ref }),
      'sh.brew.bottle.digest': counter.toString(16).padStart(64, 'a'),
      ...extra,
    },
  };
}

function index(...manifests: Descriptor[]): ImageIndex {
  return { schemaVersion: 2, manifests };
}

const darwin = (architecture: string) => ({ architecture, os: 'darwin', 'os.version': 'macOS 13' });
const linux = (architecture: string) => ({ architecture, os: 'linux' });

describe('the sqlite 3.40.1 fixture', () => {
  const fixture = sqliteIndex();
  const TAGS = [
    'ventura',
    'arm64_big_sur',
    'monterey',
    'big_sur',
    'arm64_monterey',
    'arm64_ventura',
    'x86_64_linux',
  ];

  it('lists its seven bottles in index order', () => {
    const entries = bottleEntries(fixture);
    expect(entries.map((bottle) => bottle.tag)).toEqual(TAGS);
    const linuxBottle = entries[6]!;
    expect(linuxBottle).toMatchObject({
      refName: '3.40.1.x86_64_linux',
      pkgVersion: '3.40.1',
      rebuild: 0,
      digestHex: '8d1baebd808a5cdb47c3fedbefd4de5cf7983700c41191432f3a9bed4885bb06',
    });
    expect(linuxBottle.descriptor.digest).toBe(
      'sha256:ff58c21da5e58b82bae6e19207a8ec01e398a31512081e9b6560b2dec88c22da',
    );
    expect(linuxBottle.tab?.arch).toBe('x86_64');
    expect(linuxBottle.tab?.runtimeDependencies?.map((dep) => dep.fullName)).toEqual([
      'ncurses',
      'readline',
      'zlib',
    ]);
  });

  it.each(TAGS)('host %s gets its own bottle', (tag) => {
    const chosen = selectBottle(fixture, tag);
    expect(chosen.tag).toBe(tag);
    expect(chosen.refName).toBe(`3.40.1.${tag}`);
  });

  it.each([
    ['arm64_sequoia', 'arm64_ventura'],
    ['arm64_sonoma', 'arm64_ventura'],
    ['arm64_tahoe', 'arm64_ventura'],
    // macOS 27 (macos_version.rb golden_gate) falls back like any other newer macOS.
    ['arm64_golden_gate', 'arm64_ventura'],
    ['golden_gate', 'ventura'],
    ['tahoe', 'ventura'],
    ['sequoia', 'ventura'],
    ['sonoma', 'ventura'],
    ['x86_64_sonoma', 'ventura'],
  ])('host %s falls back to %s', (host, tag) => {
    expect(selectBottle(fixture, host).tag).toBe(tag);
  });

  it.each(['catalina', 'mojave', 'arm64_linux', 'aarch64_linux'])('host %s finds none', (host) => {
    expect(() => selectBottle(fixture, host)).toThrow(
      expect.objectContaining({
        code: 'ERR_BOTTLE_NOT_FOUND',
        message: expect.stringContaining(TAGS.join(', ')),
      }),
    );
  });

  it('does not fall back with noOlderVersions', () => {
    expect(() => selectBottle(fixture, 'arm64_sequoia', { noOlderVersions: true })).toThrow(
      expect.objectContaining({ code: 'ERR_BOTTLE_NOT_FOUND' }),
    );
    expect(selectBottle(fixture, 'arm64_ventura', { noOlderVersions: true }).tag).toBe(
      'arm64_ventura',
    );
  });

  it('chooses the same bottle whatever the index order', () => {
    const reversed = { ...fixture, manifests: [...fixture.manifests].reverse() };
    for (const host of ['arm64_sequoia', 'sonoma', 'monterey', 'arm64_big_sur']) {
      expect(selectBottle(reversed, host).tag).toBe(selectBottle(fixture, host).tag);
    }
  });
});

describe('findMatchingTag', () => {
  it.each([
    [['arm64_ventura', 'ventura'], 'arm64_sequoia', 'arm64_ventura'],
    [['arm64_sonoma', 'arm64_ventura', 'arm64_sequoia'], 'sonoma', undefined],
    [['arm64_sonoma', 'arm64_ventura', 'sonoma', 'all'], 'arm64_sequoia', 'all'],
    [['arm64_sonoma', 'all'], 'arm64_sonoma', 'arm64_sonoma'],
    [['all'], 'x86_64_linux', 'all'],
    [['sonoma', 'ventura'], 'x86_64_linux', undefined],
    [['aarch64_linux'], 'arm64_linux', 'aarch64_linux'],
    [['arm64_linux'], 'aarch64_linux', 'arm64_linux'],
    [['x86_64_linux'], 'arm64_linux', undefined],
    [['arm64_big_sur', 'arm64_monterey', 'arm64_ventura'], 'arm64_monterey', 'arm64_monterey'],
    [['big_sur', 'catalina', 'mojave'], 'monterey', 'big_sur'],
    [['catalina', 'mojave', 'high_sierra'], 'big_sur', 'catalina'],
    [['ventura'], 'monterey', undefined],
    [['arm64_ventura', 'x86_64_linux'], 'arm64_ventura', 'arm64_ventura'],
    [['not a tag', 'sonoma'], 'sequoia', 'sonoma'],
    [[], 'sonoma', undefined],
  ])('%j for host %s → %s', (available, host, chosen) => {
    expect(findMatchingTag(available, host)).toBe(chosen);
  });
});

describe('bottleEntries and selectBottle on other indexes', () => {
  it('reads `all` from an entry without platform (newer indexes)', () => {
    const all = index(entry(undefined));
    expect(bottleEntries(all).map((bottle) => bottle.tag)).toEqual(['all']);
    expect(selectBottle(all, 'arm64_sequoia').tag).toBe('all');
    expect(selectBottle(all, 'x86_64_linux').tag).toBe('all');
  });

  it('reads `all` from its ref name even with a platform', () => {
    const all = index(entry('1.0.all', darwin('arm64')));
    expect(selectBottle(all, 'x86_64_linux')).toMatchObject({ tag: 'all', pkgVersion: '1.0' });
  });

  it('prefers the exact tag to `all`', () => {
    const both = index(entry('1.0.all'), entry('1.0.arm64_sonoma', darwin('arm64')));
    expect(selectBottle(both, 'arm64_sonoma').tag).toBe('arm64_sonoma');
    expect(selectBottle(both, 'arm64_sequoia').tag).toBe('all');
  });

  it('reads rebuilds and standardizes aarch64_linux', () => {
    const idx = index(
      entry('1.6.arm64_sonoma.1', darwin('arm64')),
      entry('1.6.aarch64_linux.1', linux('arm64')),
    );
    expect(
      bottleEntries(idx).map(({ tag, rebuild, pkgVersion }) => ({ tag, rebuild, pkgVersion })),
    ).toEqual([
      { tag: 'arm64_sonoma', rebuild: 1, pkgVersion: '1.6' },
      { tag: 'arm64_linux', rebuild: 1, pkgVersion: '1.6' },
    ]);
    expect(selectBottle(idx, 'arm64_linux').refName).toBe('1.6.aarch64_linux.1');
  });

  it('falls back to the platform without a ref name, but only on Linux', () => {
    const idx = index(
      entry(undefined, linux('amd64')),
      entry(undefined, darwin('arm64')),
      entry(undefined, linux('s390x')),
    );
    expect(bottleEntries(idx).map((bottle) => bottle.tag)).toEqual(['x86_64_linux']);
    expect(selectBottle(idx, 'x86_64_linux').refName).toBeUndefined();
    expect(() => selectBottle(idx, 'arm64_sonoma')).toThrow(/available x86_64_linux/);
  });

  it('uses the platform when the ref name is not a bottle ref', () => {
    const idx = index(entry('latest', linux('arm64')));
    expect(bottleEntries(idx)[0]).toMatchObject({ tag: 'arm64_linux', refName: 'latest' });
  });

  it('never reads os.version', () => {
    const idx = index(
      entry(undefined, { architecture: 'arm64', os: 'darwin', 'os.version': 'macOS 15' }),
    );
    expect(() => selectBottle(idx, 'arm64_sequoia')).toThrow(/available \(none\)/);
  });

  it('skips entries that are not image manifests and keeps odd tabs tolerant', () => {
    const nested: Descriptor = { ...entry('1.0.sonoma'), mediaType: MediaType.OciIndex };
    const idx = index(nested, entry('1.0.ventura', darwin('amd64'), { 'sh.brew.tab': 'not json' }));
    const entries = bottleEntries(idx);
    expect(entries.map((bottle) => bottle.tag)).toEqual(['ventura']);
    expect(entries[0]?.tab).toBeUndefined();
  });

  it('says Linux has no fallback', () => {
    expect(() => selectBottle(index(entry('1.0.sonoma', darwin('amd64'))), 'x86_64_linux')).toThrow(
      /no bottle for x86_64_linux: available sonoma \(Linux bottles have no fallback\)/,
    );
  });

  it('refuses an invalid host tag', () => {
    expect(() => selectBottle(index(), 'not a tag')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE_TAG' }),
    );
  });
});

describe('HOMEBREW_SKIP_OR_LATER_BOTTLES', () => {
  const on = { HOMEBREW_DEVELOPER: '1', HOMEBREW_SKIP_OR_LATER_BOTTLES: '1' };
  const tags = ['arm64_tahoe', 'arm64_sequoia', 'x86_64_linux'];

  it('keeps older macOS bottles out on a prerelease macOS, with HOMEBREW_DEVELOPER', () => {
    // While macOS 27 is still a prerelease to Homebrew (HOMEBREW_MACOS_NEWEST_UNSUPPORTED=27).
    expect(skipOrLaterBottles('arm64_golden_gate', on, '27')).toBe(true);
    const noOlderVersions = skipOrLaterBottles('arm64_golden_gate', on, '27');
    expect(findMatchingTag(tags, 'arm64_golden_gate', { noOlderVersions })).toBeUndefined();
    expect(findMatchingTag([...tags, 'all'], 'arm64_golden_gate', { noOlderVersions })).toBe('all');
  });

  it('changes nothing on released macOS, on Linux, without HOMEBREW_DEVELOPER, or when falsy', () => {
    expect(skipOrLaterBottles('arm64_golden_gate', on)).toBe(false); // 27 < 28: released
    expect(findMatchingTag(tags, 'arm64_golden_gate', { noOlderVersions: false })).toBe(
      'arm64_tahoe',
    );
    expect(skipOrLaterBottles('x86_64_linux', on, '27')).toBe(false);
    expect(
      skipOrLaterBottles('arm64_golden_gate', { HOMEBREW_SKIP_OR_LATER_BOTTLES: '1' }, '27'),
    ).toBe(false);
    for (const value of ['0', 'false', 'No', 'off', 'nil', ' ']) {
      expect(
        skipOrLaterBottles(
          'arm64_golden_gate',
          { ...on, HOMEBREW_SKIP_OR_LATER_BOTTLES: value },
          '27',
        ),
      ).toBe(false);
    }
    // HOMEBREW_DEVELOPER is `boolean: :set`: even "0" turns it on.
    expect(skipOrLaterBottles('arm64_golden_gate', { ...on, HOMEBREW_DEVELOPER: '0' }, '27')).toBe(
      true,
    );
  });
});
