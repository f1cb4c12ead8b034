import { describe, expect, it } from 'vitest';
import { isFerryError } from '@ferry/oci';
import {
  formatFormulaFullName,
  formulaNameCandidates,
  formulaNameFromImage,
  formulaRepository,
  imageName,
  imageNameMatches,
  parseFormulaFullName,
  splitRepository,
  tapNamespace,
  tapRepository,
} from './names.js';

describe('imageName', () => {
  it.each([
    ['sqlite', 'sqlite'],
    ['openssl@3', 'openssl/3'],
    ['python@3.12', 'python/3.12'],
    ['libstdc++', 'libstdcxx'],
    ['gtk+3', 'gtkx3'],
    ['c++utilities', 'cxxutilities'],
    ['open-mpi', 'open-mpi'],
    ['icu4c@76', 'icu4c/76'],
    ['Foo@1.2', 'foo/1.2'],
    ['ca-certificates', 'ca-certificates'],
  ])('%s → %s', (formula, image) => {
    expect(imageName(formula)).toBe(image);
    expect(imageNameMatches(formula, image)).toBe(true);
  });

  it.each(['', 'a/b', 'foo bar', '@3', 'foo@', '+', 'foo--bar', 'foo@@3'])('refuses %j', (name) => {
    expect(() => imageName(name)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FORMULA_NAME' }),
    );
    expect(imageNameMatches(name, 'x')).toBe(false);
  });
});

describe('image name → formula name (lossy)', () => {
  it.each([
    ['openssl/3', ['openssl@3']],
    ['python/3.12', ['python@3.12']],
    ['sqlite', ['sqlite']],
    ['libstdcxx', ['libstdcxx', 'libstdc+x', 'libstdcx+', 'libstdc++']],
    ['xz', ['xz']], // a leading `+` is no formula name, so `xz` is unambiguous
    ['gtkx3', ['gtkx3', 'gtk+3']],
  ])('%s → %j', (image, names) => {
    expect(formulaNameCandidates(image).sort()).toEqual([...names].sort());
  });

  it.each([
    ['openssl/3', 'openssl@3'],
    ['sqlite', 'sqlite'],
    ['xz', 'xz'],
    ['libstdcxx', undefined],
    ['nginx', undefined],
  ])('formulaNameFromImage(%s) = %s', (image, name) => {
    expect(formulaNameFromImage(image)).toBe(name);
  });

  it('every candidate maps back to the image', () => {
    for (const name of formulaNameCandidates('libxmlxx/2')) {
      expect(imageName(name)).toBe('libxmlxx/2');
    }
  });
});

describe('taps', () => {
  it.each([
    ['Homebrew/homebrew-core', 'homebrew/core'],
    ['homebrew/core', 'homebrew/core'],
    ['Org/homebrew-name', 'org/name'],
    ['user/tap', 'user/tap'],
    ['MyOrg/Homebrew-Tools', 'myorg/tools'],
  ])('%s → %s', (tap, namespace) => {
    expect(tapNamespace(tap)).toBe(namespace);
  });

  it.each(['homebrew', 'a/b/c', '/core', 'org/homebrew-', 'org/-x'])('refuses %j', (tap) => {
    expect(() => tapNamespace(tap)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TAP_NAME' }),
    );
  });

  it('namespace → repository', () => {
    expect(tapRepository('homebrew/core')).toBe('homebrew/homebrew-core');
    expect(tapRepository('org/name')).toBe('org/homebrew-name');
  });
});

describe('full formula names', () => {
  it.each([
    ['openssl@3', 'homebrew/core', 'openssl@3', 'openssl@3', 'homebrew/core/openssl/3'],
    [
      'homebrew/core/openssl@3',
      'homebrew/core',
      'openssl@3',
      'openssl@3',
      'homebrew/core/openssl/3',
    ],
    ['user/tap/foo', 'user/tap', 'foo', 'user/tap/foo', 'user/tap/foo'],
    [
      'User/homebrew-tap/libfoo++',
      'user/tap',
      'libfoo++',
      'user/tap/libfoo++',
      'user/tap/libfooxx',
    ],
  ])('%s', (full, namespace, name, formatted, repository) => {
    expect(parseFormulaFullName(full)).toEqual({ namespace, name });
    expect(formatFormulaFullName({ namespace, name })).toBe(formatted);
    expect(formulaRepository(full)).toBe(repository);
  });

  it.each(['', 'a/b', 'a/b/c/d', 'user/tap/', 'homebrew/core/a b'])('refuses %j', (full) => {
    let error: unknown;
    try {
      parseFormulaFullName(full);
    } catch (caught) {
      error = caught;
    }
    expect(isFerryError(error)).toBe(true);
  });

  it('splits repositories at the two-segment namespace', () => {
    expect(splitRepository('homebrew/core/openssl/3')).toEqual({
      namespace: 'homebrew/core',
      image: 'openssl/3',
    });
    expect(splitRepository('user/tap/foo')).toEqual({ namespace: 'user/tap', image: 'foo' });
    expect(() => splitRepository('homebrew/core')).toThrow(/org\/repo\/image/);
    expect(() => splitRepository('Homebrew/core/x')).toThrow();
  });
});
