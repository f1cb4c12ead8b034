import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidPlatformError } from './errors.js';
import {
  comparePlatformMatch,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatform,
} from './platform.js';
import type { Platform } from './types.js';

describe('parsePlatform / formatPlatform', () => {
  // Already-normalised inputs: format(parse(s)) === s.
  it.each<[string, Platform]>([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/amd64/v3', { os: 'linux', architecture: 'amd64', variant: 'v3' }],
    ['linux/riscv64', { os: 'linux', architecture: 'riscv64' }],
    ['darwin/arm64:macOS 14', { os: 'darwin', architecture: 'arm64', 'os.version': 'macOS 14' }],
    [
      'windows/amd64:10.0.17763.1234',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' },
    ],
  ])('%s', (input, expected) => {
    const platform = parsePlatform(input);
    expect(platform).toEqual(expected);
    expect(formatPlatform(platform)).toBe(input);
  });

  it.each<[string, string]>([
    ['Linux/AMD64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm64/8', 'linux/arm64'],
    ['linux/aarch64/v8.0', 'linux/arm64'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/5', 'linux/arm/v5'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/i386', 'linux/386'],
    ['linux/i686', 'linux/386'],
    ['macos/arm64', 'darwin/arm64'],
    ['windows/amd64:10.0.20348.2113', 'windows/amd64:10.0.20348.2113'],
  ])('normalises %s to %s', (input, expected) => {
    expect(formatPlatform(parsePlatform(input))).toBe(expected);
  });

  it.each<[string, string]>([
    ['', 'empty platform'],
    ['linux', 'missing architecture'],
    ['linux/', 'empty architecture'],
    ['/amd64', 'empty os'],
    ['linux/arm/', 'empty variant'],
    ['a/b/c/d', 'too many'],
    ['linux/amd64:', 'empty os.version'],
    ['linux/amd 64', 'architecture may contain only'],
    ['lin ux/amd64', 'os may contain only'],
    ['linux/arm/v7!', 'variant may contain only'],
    [`linux/${'a'.repeat(2000)}`, 'longer than 1024'],
  ])('rejects %j', (input, reason) => {
    let error: unknown;
    try {
      parsePlatform(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidPlatformError);
    expect((error as InvalidPlatformError).code).toBe(ErrorCode.InvalidPlatform);
    expect((error as InvalidPlatformError).reason).toContain(reason);
  });

  it('rejects non-strings with InvalidPlatformError', () => {
    expect(() => parsePlatform(undefined as never)).toThrow(InvalidPlatformError);
  });

  it('normalizePlatform copies features and never mutates its input', () => {
    const input: Platform = { os: 'Windows', architecture: 'X86_64', 'os.features': ['win32k'] };
    const out = normalizePlatform(input);
    expect(out).toEqual({ os: 'windows', architecture: 'amd64', 'os.features': ['win32k'] });
    expect(out['os.features']).not.toBe(input['os.features']);
    expect(input.os).toBe('Windows');
  });
});

describe('platformMatches', () => {
  const p = parsePlatform;
  it.each<[string, string, boolean]>([
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/x86_64', true],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    // The ARM ladder: a v7 CPU runs v7, v6 and v5 images, never v8.
    ['linux/arm/v7', 'linux/arm/v6', true],
    ['linux/arm/v7', 'linux/arm/v5', true],
    ['linux/arm/v7', 'linux/arm/v8', false],
    ['linux/arm/v6', 'linux/arm/v7', false],
    ['linux/arm/v8', 'linux/arm', true],
    // amd64 microarchitecture levels: no variant is v1.
    ['linux/amd64/v3', 'linux/amd64/v2', true],
    ['linux/amd64/v3', 'linux/amd64', true],
    ['linux/amd64', 'linux/amd64/v3', false],
    // Other architectures: a wanted variant must be equal or absent; no wanted variant takes any.
    ['linux/riscv64/rva23', 'linux/riscv64', true],
    ['linux/riscv64/rva23', 'linux/riscv64/rva22', false],
    ['linux/riscv64', 'linux/riscv64/rva22', true],
    ['linux/arm64/v9', 'linux/arm64', true],
    ['linux/arm64', 'linux/arm64/v9', true],
    // os.version: a wanted one must be equal or absent; none wanted takes any.
    ['windows/amd64:10.0.17763.1', 'windows/amd64:10.0.17763.1', true],
    ['windows/amd64:10.0.17763.1', 'windows/amd64:10.0.20348.1', false],
    ['windows/amd64:10.0.17763.1', 'windows/amd64', true],
    ['windows/amd64', 'windows/amd64:10.0.20348.1', true],
  ])('want %s, have %s → %s', (want, have, expected) => {
    expect(platformMatches(p(want), p(have))).toBe(expected);
  });

  it('matches unnormalised platforms from manifests', () => {
    const want = parsePlatform('linux/arm/v7');
    expect(platformMatches(want, { os: 'linux', architecture: 'arm' })).toBe(true);
    expect(platformMatches(want, { os: 'Linux', architecture: 'armhf' })).toBe(true);
  });

  it('treats malformed candidates as non-matching', () => {
    const want = parsePlatform('linux/amd64');
    expect(platformMatches(want, { os: 'linux' } as Platform)).toBe(false);
    expect(platformMatches(want, null as unknown as Platform)).toBe(false);
  });
});

describe('comparePlatformMatch', () => {
  it('sorts exact before fallback before non-matching, stably', () => {
    const want = parsePlatform('linux/arm/v7');
    const candidates = [
      'linux/arm64',
      'linux/arm/v5',
      'linux/arm/v6',
      'linux/arm/v7',
      'linux/arm/v8',
    ];
    const sorted = candidates
      .map((c) => parsePlatform(c))
      .sort((a, b) => comparePlatformMatch(want, a, b))
      .map(formatPlatform);
    expect(sorted).toEqual([
      'linux/arm/v7',
      'linux/arm/v6',
      'linux/arm/v5',
      'linux/arm64',
      'linux/arm/v8',
    ]);
  });
});

describe('selectPlatform', () => {
  // The shape of a real multi-platform index (e.g. a Docker official image).
  const index: (Platform | undefined)[] = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.6414' },
    { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2762' },
    undefined, // e.g. an attestation manifest without a platform
  ];
  it.each<[string, number]>([
    ['linux/amd64', 0],
    ['linux/x86_64', 0],
    ['linux/arm64', 1],
    ['linux/arm64/v8', 1],
    ['linux/arm/v7', 2],
    ['linux/arm', 2],
    ['linux/arm/v6', 3],
    ['linux/arm/v8', 2],
    ['linux/arm/v5', -1],
    ['linux/amd64/v2', 0],
    ['windows/amd64', 4],
    ['windows/amd64:10.0.20348.2762', 5],
    ['windows/amd64:10.0.17763.6414', 4],
    ['windows/amd64:10.0.26100.1', -1],
    ['windows/arm64', -1],
    ['darwin/arm64', -1],
    ['linux/s390x', -1],
  ])('%s → %i', (want, expected) => {
    expect(selectPlatform(parsePlatform(want), index)).toBe(expected);
  });

  it('prefers exact variant and os.version over missing ones, then the earlier index', () => {
    const riscv = parsePlatform('linux/riscv64/rva23');
    const candidates = [parsePlatform('linux/riscv64'), parsePlatform('linux/riscv64/rva23')];
    expect(selectPlatform(riscv, candidates)).toBe(1);
    const win = parsePlatform('windows/amd64:10.0.1');
    expect(
      selectPlatform(win, [parsePlatform('windows/amd64'), parsePlatform('windows/amd64:10.0.1')]),
    ).toBe(1);
    const amd64 = parsePlatform('linux/amd64');
    expect(selectPlatform(amd64, [amd64, amd64])).toBe(0);
    expect(selectPlatform(amd64, [])).toBe(-1);
  });
});

describe('hostPlatform', () => {
  it.each<[{ platform: string; arch: string; armVersion?: string }, string]>([
    [{ platform: 'linux', arch: 'x64' }, 'linux/amd64'],
    [{ platform: 'darwin', arch: 'arm64' }, 'darwin/arm64'],
    [{ platform: 'win32', arch: 'x64' }, 'windows/amd64'],
    [{ platform: 'win32', arch: 'ia32' }, 'windows/386'],
    [{ platform: 'linux', arch: 'arm', armVersion: '6' }, 'linux/arm/v6'],
    [{ platform: 'linux', arch: 'arm' }, 'linux/arm/v7'],
    [{ platform: 'linux', arch: 'ppc64' }, 'linux/ppc64le'],
    [{ platform: 'linux', arch: 's390x' }, 'linux/s390x'],
    [{ platform: 'freebsd', arch: 'riscv64' }, 'freebsd/riscv64'],
  ])('%j → %s', (host, expected) => {
    expect(formatPlatform(hostPlatform(host))).toBe(expected);
  });

  it('describes this process', () => {
    const platform = hostPlatform();
    expect(platform.os).toMatch(/^[a-z0-9]+$/);
    expect(['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64', 'loong64']).toContain(
      platform.architecture,
    );
    expect(selectPlatform(platform, [platform])).toBe(0);
  });
});
