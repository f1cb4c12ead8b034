import { describe, expect, it } from 'vitest';
import { bottleConfigBytes, bottlePlatform, tabObject } from './bottle-platform.js';

describe('platforms and defaults (github_packages.rb)', () => {
  it.each([
    [
      { tag: 'sonoma', tab: {} },
      { architecture: 'amd64', os: 'darwin', 'os.version': 'macOS 14' },
    ],
    [
      { tag: 'arm64_ventura', tab: { arch: 'arm64' } },
      { architecture: 'arm64', os: 'darwin', 'os.version': 'macOS 13' },
    ],
    [
      { tag: 'x86_64_linux', tab: {} },
      { architecture: 'amd64', os: 'linux', 'os.version': 'Ubuntu 24.04' },
    ],
    [
      { tag: 'x86_64_linux', tab: {}, osVersion: 'Ubuntu 20.04' },
      { architecture: 'amd64', os: 'linux', 'os.version': 'Ubuntu 20.04' },
    ],
    [
      { tag: 'all', tab: { arch: 'x86_64', built_on: { os: 'Linux' } } },
      { architecture: 'amd64', os: 'linux', 'os.version': 'Ubuntu 24.04' },
    ],
    [
      { tag: 'all', tab: { arch: 'arm64', built_on: { os: 'Macintosh' } } },
      { architecture: 'arm64', os: 'darwin' },
    ],
  ])('%j → %j', (bottle, platform) => {
    expect(bottlePlatform(bottle).platform).toEqual(platform);
  });

  it('takes Linux extras from the tab, else the CI defaults', () => {
    const fromTab = bottlePlatform({
      tag: 'x86_64_linux',
      tab: { built_on: { os: 'Linux', glibc_version: '2.35', oldest_cpu_family: 'nehalem' } },
    });
    expect(fromTab).toMatchObject({ glibcVersion: '2.35', cpuVariant: 'nehalem' });
    const defaults = bottlePlatform(
      { tag: 'x86_64_linux', tab: {} },
      { linuxGlibcVersion: '2.35', linuxOsVersion: 'Ubuntu 22.04' },
    );
    expect(defaults).toMatchObject({ glibcVersion: '2.35', cpuVariant: 'core2' });
    expect(defaults.platform['os.version']).toBe('Ubuntu 22.04');
    // Homebrew 3.6 looked for a top-level oldest_cpu_family, so it always wrote core2.
    const legacy = bottlePlatform(
      { tag: 'x86_64_linux', tab: { built_on: { oldest_cpu_family: 'nehalem' } } },
      { style: 'homebrew-3.6' },
    );
    expect(legacy.cpuVariant).toBe('core2');
  });

  it('refuses unknown arches and systems', () => {
    expect(() => bottlePlatform({ tag: 'ppc64le_linux', tab: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE' }),
    );
    expect(() => bottlePlatform({ tag: 'sonoma', tab: { built_on: { os: 'Windows' } } })).toThrow(
      /built_on.os/,
    );
    expect(() => bottlePlatform({ tag: 'sonoma', tab: '[]' })).toThrow(/JSON object/);
  });
});

describe('config blobs and tabs', () => {
  it('writes the platform, then rootfs', () => {
    const bytes = bottleConfigBytes({ architecture: 'arm64', os: 'darwin' }, '0'.repeat(64));
    expect(Object.keys(JSON.parse(Buffer.from(bytes).toString()))).toEqual([
      'architecture',
      'os',
      'rootfs',
    ]);
    expect(() => bottleConfigBytes({ architecture: 'arm64', os: 'darwin' }, 'sha256:00')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE' }),
    );
  });

  it('parses tabs given as text', () => {
    expect(tabObject('{"arch":"arm64"}')).toEqual({ arch: 'arm64' });
    expect(() => tabObject('{')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_BOTTLE' }));
  });
});
