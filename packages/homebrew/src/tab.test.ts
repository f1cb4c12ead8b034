import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dependencyImage, dependencyImages, dependencyPkgVersion, parseTab } from './tab.js';

const FIXTURES = new URL('../../../fixtures/homebrew/', import.meta.url);

// A tab as Homebrew writes it today (`Tab.formula_to_dep_hash` in tab.rb).
const CURRENT_TAB = {
  homebrew_version: '4.4.0',
  changed_files: ['lib/pkgconfig/x.pc', 42],
  source_modified_time: 1720000000,
  compiler: 'clang',
  runtime_dependencies: [
    {
      full_name: 'ca-certificates',
      version: '2024-07-02',
      revision: 0,
      bottle_rebuild: 0,
      pkg_version: '2024-07-02',
      declared_directly: true,
    },
    {
      full_name: 'openssl@3',
      version: '3.3.1',
      revision: 0,
      bottle_rebuild: 2,
      pkg_version: '3.3.1',
      declared_directly: true,
    },
    {
      full_name: 'libstdc++',
      version: '1.0',
      revision: 1,
      pkg_version: '1.0_1',
      declared_directly: false,
    },
    { full_name: 'homebrew/core/zlib', version: '1.3.1', revision: 0, pkg_version: '1.3.1' },
    { full_name: 'user/homebrew-tap/foo@2', version: '2.0', revision: 3, bottle_rebuild: 1 },
    { version: '1.0' },
    'junk',
  ],
  arch: 'arm64',
  built_on: { os: 'Macintosh', os_version: 'macOS 14', cpu_family: 'dunno' },
  extra_key: { kept: true },
};

describe('parseTab', () => {
  it('reads a current tab, tolerating junk', () => {
    const tab = parseTab(JSON.stringify(CURRENT_TAB))!;
    expect(tab).toMatchObject({
      homebrewVersion: '4.4.0',
      arch: 'arm64',
      compiler: 'clang',
      sourceModifiedTime: 1720000000,
      changedFiles: ['lib/pkgconfig/x.pc'],
      builtOn: { os: 'Macintosh' },
    });
    expect(tab.raw.extra_key).toEqual({ kept: true });
    expect(tab.runtimeDependencies).toHaveLength(5);
    expect(tab.runtimeDependencies?.[1]).toEqual({
      fullName: 'openssl@3',
      version: '3.3.1',
      revision: 0,
      pkgVersion: '3.3.1',
      bottleRebuild: 2,
      declaredDirectly: true,
    });
  });

  it('reads the old tab of the sqlite fixture (full_name and version only)', () => {
    const index = JSON.parse(readFileSync(new URL('sqlite-3.40.1.index.json', FIXTURES), 'utf8'));
    const tab = parseTab(index.manifests[6].annotations['sh.brew.tab'])!;
    expect(tab.builtOn).toMatchObject({ os: 'Linux', glibc_version: '2.35' });
    expect(dependencyImages(tab)).toEqual([
      { namespace: 'homebrew/core', imageName: 'ncurses', tag: '6.3', fullName: 'ncurses' },
      { namespace: 'homebrew/core', imageName: 'readline', tag: '8.2.1', fullName: 'readline' },
      { namespace: 'homebrew/core', imageName: 'zlib', tag: '1.2.13', fullName: 'zlib' },
    ]);
  });

  it.each(['not json', '[]', 'null', '"text"', '42'])('returns undefined for %j', (text) => {
    expect(parseTab(text)).toBeUndefined();
  });

  it('accepts an object and leaves bad fields out', () => {
    const tab = parseTab({ arch: 7, runtime_dependencies: 'x', source_modified_time: -1 })!;
    expect(tab.arch).toBeUndefined();
    expect(tab.runtimeDependencies).toBeUndefined();
    expect(tab.sourceModifiedTime).toBeUndefined();
    expect(dependencyImages(tab)).toEqual([]);
  });
});

describe('dependency images', () => {
  it('maps every runtime dependency', () => {
    expect(dependencyImages(parseTab(CURRENT_TAB)!)).toEqual([
      {
        namespace: 'homebrew/core',
        imageName: 'ca-certificates',
        tag: '2024-07-02',
        fullName: 'ca-certificates',
      },
      { namespace: 'homebrew/core', imageName: 'openssl/3', tag: '3.3.1-2', fullName: 'openssl@3' },
      { namespace: 'homebrew/core', imageName: 'libstdcxx', tag: '1.0_1', fullName: 'libstdc++' },
      {
        namespace: 'homebrew/core',
        imageName: 'zlib',
        tag: '1.3.1',
        fullName: 'homebrew/core/zlib',
      },
      {
        namespace: 'user/tap',
        imageName: 'foo/2',
        tag: '2.0_3-1',
        fullName: 'user/homebrew-tap/foo@2',
      },
    ]);
  });

  it.each([
    [{ fullName: 'a', version: '1.0' }, '1.0'],
    [{ fullName: 'a', version: '1.0', revision: 2 }, '1.0_2'],
    [{ fullName: 'a', version: '1.0', revision: 2, pkgVersion: '1.0_3' }, '1.0_3'],
  ])('pkg_version of %j is %s', (dep, pkgVersion) => {
    expect(dependencyPkgVersion(dep)).toBe(pkgVersion);
  });

  it('refuses a dependency that names no formula', () => {
    expect(() => dependencyImage({ fullName: 'a/b', version: '1' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FORMULA_NAME' }),
    );
  });
});
