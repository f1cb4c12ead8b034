import { describe, expect, it } from 'vitest';
import {
  MACOS_VERSIONS,
  bottleTagToPlatform,
  defaultOsVersion,
  formatBottleTag,
  hostBottleTag,
  isMacosTag,
  isValidBottleTag,
  linuxBottleTag,
  macosCodename,
  macosVersionOfTag,
  parseBottleTag,
  sameBottleTag,
  standardizeBottleTag,
} from './tags.js';

describe('parseBottleTag / formatBottleTag (Utils::Bottles::Tag)', () => {
  it.each([
    ['sonoma', 'x86_64', 'sonoma', 'sonoma'],
    ['arm64_sonoma', 'arm64', 'sonoma', 'arm64_sonoma'],
    ['arm64_big_sur', 'arm64', 'big_sur', 'arm64_big_sur'],
    ['big_sur', 'x86_64', 'big_sur', 'big_sur'],
    ['high_sierra', 'x86_64', 'high_sierra', 'high_sierra'],
    ['x86_64_linux', 'x86_64', 'linux', 'x86_64_linux'],
    ['arm64_linux', 'arm64', 'linux', 'arm64_linux'],
    ['aarch64_linux', 'arm64', 'linux', 'arm64_linux'],
    ['x86_64_sonoma', 'x86_64', 'sonoma', 'sonoma'],
    ['all', 'all', 'all', 'all'],
    ['ppc64le_linux', 'ppc64le', 'linux', 'ppc64le_linux'],
    ['tahoe', 'x86_64', 'tahoe', 'tahoe'],
    ['arm64_tahoe', 'arm64', 'tahoe', 'arm64_tahoe'],
  ])('%s → %s/%s → %s', (tag, arch, system, standard) => {
    expect(parseBottleTag(tag)).toEqual({ arch, system });
    expect(formatBottleTag({ arch, system })).toBe(standard);
    expect(standardizeBottleTag(tag)).toBe(standard);
  });

  it.each(['', 'a b', 'sonoma!', 'x86_64-linux', 'arm64/sonoma'])('refuses %j', (tag) => {
    expect(() => parseBottleTag(tag)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE_TAG' }),
    );
  });

  it('compares tags as Homebrew does', () => {
    expect(sameBottleTag('aarch64_linux', 'arm64_linux')).toBe(true);
    expect(sameBottleTag('x86_64_ventura', 'ventura')).toBe(true);
    expect(sameBottleTag('arm64_ventura', 'ventura')).toBe(false);
  });
});

describe('macOS versions', () => {
  it.each([
    ['arm64_golden_gate', '27'],
    ['golden_gate', '27'],
    ['tahoe', '26'],
    ['arm64_sequoia', '15'],
    ['sonoma', '14'],
    ['arm64_ventura', '13'],
    ['monterey', '12'],
    ['arm64_big_sur', '11'],
    ['catalina', '10.15'],
    ['mojave', '10.14'],
    ['high_sierra', '10.13'],
    ['sierra', '10.12'],
    ['el_capitan', '10.11'],
    ['yosemite', '10.10'],
    ['mavericks', '10.9'],
    ['x86_64_linux', undefined],
    ['all', undefined],
  ])('%s → %s', (tag, version) => {
    expect(macosVersionOfTag(tag)).toBe(version);
    expect(isMacosTag(tag)).toBe(version !== undefined);
  });

  it.each([
    ['26.0', 'tahoe'],
    ['26.1', 'tahoe'],
    ['15.5', 'sequoia'],
    ['14.6.1', 'sonoma'],
    ['13.0', 'ventura'],
    ['12', 'monterey'],
    ['11.7.10', 'big_sur'],
    ['10.15.7', 'catalina'],
    ['10.14', 'mojave'],
    ['10.13.6', 'high_sierra'],
    ['10.16', undefined], // Big Sur under SYSTEM_VERSION_COMPAT=1
    ['27.0', 'golden_gate'], // macos_version.rb RELEASES: golden_gate: "27"
    ['27.1.2', 'golden_gate'],
    ['28.0', undefined],
    ['macOS 13.0', undefined],
    ['', undefined],
  ])('macosCodename(%j) = %s', (version, codename) => {
    expect(macosCodename(version)).toBe(codename);
  });

  it('maps every codename to its own version', () => {
    for (const [codename, version] of Object.entries(MACOS_VERSIONS)) {
      expect(macosCodename(version)).toBe(codename);
    }
  });

  it.each([
    ['arm64_big_sur', true],
    ['arm64_catalina', false],
    ['catalina', true],
    ['arm64_linux', true],
    ['all', true],
    ['bad tag', false],
  ])('isValidBottleTag(%s) = %s', (tag, valid) => {
    expect(isValidBottleTag(tag)).toBe(valid);
  });
});

describe('tags ↔ OCI platforms', () => {
  it.each([
    ['x86_64_linux', { architecture: 'amd64', os: 'linux' }],
    ['arm64_linux', { architecture: 'arm64', os: 'linux' }],
    ['aarch64_linux', { architecture: 'arm64', os: 'linux' }],
    ['sonoma', { architecture: 'amd64', os: 'darwin' }],
    ['arm64_sequoia', { architecture: 'arm64', os: 'darwin' }],
    ['all', undefined],
    ['ppc64le_linux', undefined],
  ])('%s → %j', (tag, platform) => {
    expect(bottleTagToPlatform(tag)).toEqual(platform);
  });

  it.each([
    [{ os: 'linux', architecture: 'amd64' }, 'x86_64_linux'],
    [{ os: 'linux', architecture: 'arm64' }, 'arm64_linux'],
    [{ os: 'linux', architecture: 's390x' }, undefined],
    [{ os: 'darwin', architecture: 'arm64' }, undefined],
  ])('linuxBottleTag(%j) = %s', (platform, tag) => {
    expect(linuxBottleTag(platform)).toBe(tag);
  });

  it('falls back to "macOS <version>" as github_packages.rb does', () => {
    expect(defaultOsVersion('arm64_ventura')).toBe('macOS 13');
    expect(defaultOsVersion('catalina')).toBe('macOS 10.15');
    expect(defaultOsVersion('x86_64_linux')).toBeUndefined();
    // github_packages.rb: "macOS #{bottle_tag.to_macos_version}" for a tab without built_on.
    expect(defaultOsVersion('arm64_golden_gate')).toBe('macOS 27');
  });
});

describe('hostBottleTag', () => {
  it.each([
    [{ platform: 'linux', arch: 'x64' }, 'x86_64_linux'],
    [{ platform: 'linux', arch: 'arm64' }, 'arm64_linux'],
    [{ platform: 'linux', arch: 'aarch64' }, 'arm64_linux'],
    [{ platform: 'darwin', arch: 'arm64', macosVersion: '15.5' }, 'arm64_sequoia'],
    [{ platform: 'darwin', arch: 'x64', macosVersion: '14.6.1' }, 'sonoma'],
    [{ platform: 'darwin', arch: 'arm64', macosVersion: '26.0.1' }, 'arm64_tahoe'],
    [{ platform: 'darwin', arch: 'arm64', macosVersion: '27.0' }, 'arm64_golden_gate'],
    [{ platform: 'darwin', arch: 'x64', macosVersion: '27.0' }, 'golden_gate'],
    [{ platform: 'darwin', arch: 'x64', macosVersion: '10.15.7' }, 'catalina'],
    [{ platform: 'darwin', arch: 'arm64', macosVersion: '11.0' }, 'arm64_big_sur'],
  ])('%j → %s', (host, tag) => {
    expect(hostBottleTag(host)).toBe(tag);
  });

  it.each([
    [{ platform: 'win32', arch: 'x64' }, /win32/],
    [{ platform: 'linux', arch: 'ia32' }, /ia32/],
    [{ platform: 'darwin', arch: 'arm64' }, /macOS version is needed/],
    [{ platform: 'darwin', arch: 'arm64', macosVersion: '28.0' }, /no Homebrew codename/],
    [{ platform: 'darwin', arch: 'x64', macosVersion: '10.16' }, /SYSTEM_VERSION_COMPAT/],
    [{ platform: 'darwin', arch: 'arm64', macosVersion: '10.15.7' }, /Apple silicon/],
  ])('%j is unsupported', (host, message) => {
    expect(() => hostBottleTag(host)).toThrow(
      expect.objectContaining({
        code: 'ERR_UNSUPPORTED_HOST',
        message: expect.stringMatching(message),
      }),
    );
  });

  it.runIf(process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64'))(
    'defaults to this process (Linux with bottles)',
    () => {
      expect(hostBottleTag()).toBe(process.arch === 'x64' ? 'x86_64_linux' : 'arm64_linux');
    },
  );
});
