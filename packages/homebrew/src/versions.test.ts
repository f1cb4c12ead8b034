import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bottleFileName,
  compareImageTags,
  comparePkgVersions,
  formatPkgVersion,
  imageTag,
  newestImageTag,
  parseBottleFileName,
  parseImageTag,
  parsePkgVersion,
  parseRefName,
  refName,
} from './versions.js';

describe('pkg_version', () => {
  it.each([
    ['1.7.1', '1.7.1', 0],
    ['1.7.1_1', '1.7.1', 1],
    ['3.40.1', '3.40.1', 0],
    ['2023-09-28_2', '2023-09-28', 2],
    ['1_2_3', '1_2', 3], // PkgVersion::REGEX is lazy: only the last `_<n>` is the revision
    ['1.0_0', '1.0', 0],
    ['r1234', 'r1234', 0],
  ])('%s → %s revision %i', (text, version, revision) => {
    expect(parsePkgVersion(text)).toEqual({ version, revision });
  });

  it.each([
    ['1.7.1', 0, '1.7.1'],
    ['1.7.1', 1, '1.7.1_1'],
    ['1.6', 12, '1.6_12'],
  ])('format %s revision %i', (version, revision, text) => {
    expect(formatPkgVersion({ version, revision })).toBe(text);
  });

  it('refuses empty or spaced versions and bad revisions', () => {
    expect(() => parsePkgVersion('')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE_VERSION' }),
    );
    expect(() => parsePkgVersion('1 0')).toThrow();
    expect(() => formatPkgVersion({ version: '1', revision: -1 })).toThrow();
    expect(() => formatPkgVersion({ version: '1', revision: 1.5 })).toThrow();
  });

  it.each([
    ['1.7.1_1', '>', '1.7.1'],
    ['1.7.1_2', '>', '1.7.1_1'],
    ['1.7.2', '>', '1.7.1_9'],
    ['1.10', '>', '1.9_3'],
    ['1.0', '=', '1.0.0'],
  ])('%s %s %s', (a, op, b) => {
    expect(comparePkgVersions(a, b)).toBe({ '<': -1, '=': 0, '>': 1 }[op]);
  });

  it('round-trips canonical pkg_versions', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9][0-9a-z.-]{0,10}[0-9a-z]$/),
        fc.integer({ min: 0, max: 99 }),
        (version, revision) => {
          fc.pre(!/_\d+$/.test(version));
          const text = formatPkgVersion({ version, revision });
          expect(parsePkgVersion(text)).toEqual({ version, revision });
        },
      ),
    );
  });
});

describe('image tags', () => {
  it.each([
    ['1.6', 0, '1.6'],
    ['1.6', 1, '1.6-1'],
    ['1.7.1_1', 0, '1.7.1_1'],
    ['1.7.1_1', 2, '1.7.1_1-2'],
    ['3.40.1', 0, '3.40.1'],
    ['1.2+3', 0, '1.2.3'], // image_version_rebuild: invalid OCI tag characters become `.`
    ['2.0~beta', 1, '2.0.beta-1'],
  ])('imageTag(%s, %i) = %s', (version, rebuild, tag) => {
    expect(imageTag(version, rebuild)).toBe(tag);
  });

  it('refuses a tag that cannot be made valid', () => {
    expect(() => imageTag('.1')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE_VERSION' }),
    );
    expect(() => imageTag('1'.repeat(129))).toThrow();
    expect(() => imageTag('1.0', -1)).toThrow();
  });

  it.each([
    ['1.6', { pkgVersion: '1.6', rebuild: 0 }],
    ['1.6-1', { pkgVersion: '1.6', rebuild: 1 }],
    ['1.7.1_1', { pkgVersion: '1.7.1_1', rebuild: 0 }],
    ['1.7.1_1-12', { pkgVersion: '1.7.1_1', rebuild: 12 }],
    ['1.6-0', { pkgVersion: '1.6-0', rebuild: 0 }],
    ['2023-09-28', { pkgVersion: '2023-09', rebuild: 28 }], // documented ambiguity
    ['latest', undefined],
    ['sha256-8d1baebd808a5cdb47c3fedbefd4de5cf7983700c41191432f3a9bed4885bb06.sig', undefined],
    ['main', undefined],
    ['', undefined],
  ])('parseImageTag(%j)', (tag, parsed) => {
    expect(parseImageTag(tag)).toEqual(parsed);
  });

  it('round-trips image tags', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9][0-9a-z._]{0,10}$/),
        fc.integer({ min: 0, max: 50 }),
        (version, rebuild) => {
          const tag = imageTag(version, rebuild);
          const parsed = parseImageTag(tag);
          expect(parsed).toBeDefined();
          expect(imageTag(parsed!.pkgVersion, parsed!.rebuild)).toBe(tag);
        },
      ),
    );
  });

  it('orders tags by pkg_version then rebuild', () => {
    expect(compareImageTags('1.6-1', '1.6')).toBe(1);
    expect(compareImageTags('1.6_1', '1.6-2')).toBe(1);
    expect(compareImageTags('1.10', '1.9-3')).toBe(1);
    expect(compareImageTags('2023-09-28', '2023-10-01')).toBe(-1);
    expect(compareImageTags('2023-09-28', '2023-09-28-1')).toBe(-1);
    expect(() => compareImageTags('latest', '1.0')).toThrow();
  });

  it.each([
    [['1.0', '1.1', 'latest', '1.10', '1.9'], '1.10'],
    [['3.40.1', '3.40.1-1', '3.40.0_1'], '3.40.1-1'],
    [['1.7.1', '1.7.1_1', '1.7.1-2'], '1.7.1_1'],
    [['2.0rc1', '2.0', 'sha256-abc.sig'], '2.0'],
    [['2.0', '2.0rc1'], '2.0'],
    [['latest', 'main'], undefined],
    [[], undefined],
  ])('newestImageTag(%j) = %s', (tags, newest) => {
    expect(newestImageTag(tags)).toBe(newest);
  });
});

describe('ref names', () => {
  it.each([
    ['3.40.1', 'x86_64_linux', 0, '3.40.1.x86_64_linux'],
    ['3.40.1', 'arm64_big_sur', 0, '3.40.1.arm64_big_sur'],
    ['1.6', 'arm64_sonoma', 1, '1.6.arm64_sonoma.1'],
    ['1.7.1_1', 'all', 0, '1.7.1_1.all'],
    ['2.0rc1', 'sequoia', 3, '2.0rc1.sequoia.3'],
    ['1.0.beta', 'arm64_linux', 0, '1.0.beta.arm64_linux'],
    ['2023-09-28', 'ventura', 0, '2023-09-28.ventura'],
  ])('%s + %s + %i ↔ %s', (pkgVersion, tag, rebuild, ref) => {
    expect(refName(pkgVersion, tag, rebuild)).toBe(ref);
    expect(parseRefName(ref)).toEqual({ pkgVersion, tag, rebuild });
  });

  it.each(['3.40.1', 'x86_64_linux', '.all', '1.0.1.2', ''])(
    'parseRefName(%j) is undefined',
    (ref) => {
      expect(parseRefName(ref)).toBeUndefined();
    },
  );

  it('refuses malformed tags', () => {
    expect(() => refName('1.0', 'Sonoma')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE_TAG' }),
    );
    expect(() => refName('1.0', '64_linux')).toThrow();
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9][0-9a-z._-]{0,10}$/),
        fc.constantFrom('all', 'sonoma', 'arm64_sequoia', 'x86_64_linux', 'arm64_linux', 'big_sur'),
        fc.integer({ min: 0, max: 20 }),
        (pkgVersion, tag, rebuild) => {
          expect(parseRefName(refName(pkgVersion, tag, rebuild))).toEqual({
            pkgVersion,
            tag,
            rebuild,
          });
        },
      ),
    );
  });
});

describe('bottle file names', () => {
  it.each([
    ['sqlite', '3.40.1', 'x86_64_linux', 0, 'sqlite--3.40.1.x86_64_linux.bottle.tar.gz'],
    ['jq', '1.6', 'arm64_sonoma', 1, 'jq--1.6.arm64_sonoma.bottle.1.tar.gz'],
    ['openssl@3', '3.3.1', 'x86_64_linux', 0, 'openssl@3--3.3.1.x86_64_linux.bottle.tar.gz'],
    ['libstdc++', '1.0_1', 'all', 0, 'libstdc++--1.0_1.all.bottle.tar.gz'],
    [
      'gcc-arm-embedded',
      '13.2-rel1',
      'ventura',
      2,
      'gcc-arm-embedded--13.2-rel1.ventura.bottle.2.tar.gz',
    ],
    [
      'python@3.12',
      '3.12.4',
      'arm64_sequoia',
      0,
      'python@3.12--3.12.4.arm64_sequoia.bottle.tar.gz',
    ],
  ])('%s %s %s %i ↔ %s', (name, pkgVersion, tag, rebuild, file) => {
    expect(bottleFileName(name, pkgVersion, tag, rebuild)).toBe(file);
    expect(parseBottleFileName(file)).toEqual({ name, pkgVersion, tag, rebuild });
  });

  it('uses the short name of a full name', () => {
    expect(bottleFileName('user/tap/foo', '1.0', 'sonoma')).toBe('foo--1.0.sonoma.bottle.tar.gz');
    expect(bottleFileName('homebrew/core/openssl@3', '3.3.1', 'sonoma')).toBe(
      'openssl@3--3.3.1.sonoma.bottle.tar.gz',
    );
  });

  it.each([
    'sqlite-3.40.1.x86_64_linux.bottle.tar.gz',
    'sqlite--3.40.1.x86_64_linux.tar.gz',
    'sqlite--3.40.1.X86_64_linux.bottle.tar.gz',
    'sqlite--3.40.1.x86_64_linux.bottle.tar',
  ])('parseBottleFileName(%j) is undefined', (file) => {
    expect(parseBottleFileName(file)).toBeUndefined();
  });

  it('refuses names that would not parse back', () => {
    expect(() => bottleFileName('foo--bar', '1.0', 'sonoma')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FORMULA_NAME' }),
    );
    expect(() => bottleFileName('user/tap/', '1.0', 'sonoma')).toThrow();
  });
});
