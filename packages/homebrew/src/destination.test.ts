import { describe, expect, it } from 'vitest';
import type { BottleInput } from './build.js';
import { bottleDestination, bottleForDestination } from './destination.js';
import type { BottleFile } from './inputs.js';

function file(name: string, extra: Partial<BottleFile> = {}): BottleFile {
  const bottle: BottleInput = {
    name,
    pkgVersion: '1.0',
    tag: 'x86_64_linux',
    tarball: { digest: 'a'.repeat(64), size: 1 },
    tab: {},
    created: '2026-01-01T00:00:00Z',
    revision: 'r1',
  };
  return { bottle, tarballPath: `/tmp/${name.split('/').pop()}.tar.gz`, ...extra };
}

describe('bottleDestination (github_packages.rb preupload_check/upload_bottle)', () => {
  it('takes org/repo from root_url: lowercased path, vendor and source as written', () => {
    const destination = bottleDestination(
      file('me/tap/foo@2', {
        rootUrl: 'https://ghcr.io/v2/OtherOrg/homebrew-bottles',
        gitPath: 'Formula/f.rb',
      }),
    );
    expect(destination).toEqual({
      host: 'ghcr.io',
      namespace: 'otherorg/bottles',
      repository: 'otherorg/bottles/foo/2',
      vendor: 'OtherOrg',
      sourceRepository: 'OtherOrg/homebrew-bottles',
      rootUrl: 'https://ghcr.io/v2/OtherOrg/homebrew-bottles',
    });
    const bottle = bottleForDestination(
      file('me/tap/foo@2', {
        rootUrl: 'https://ghcr.io/v2/OtherOrg/homebrew-bottles',
        gitPath: 'Formula/f.rb',
      }),
      destination,
    );
    expect(bottle.vendor).toBe('OtherOrg');
    expect(bottle.sourceUrl).toBe(
      'https://github.com/OtherOrg/homebrew-bottles/blob/r1/Formula/f.rb',
    );
  });

  it('--registry names the host, --namespace the path, over root_url', () => {
    const withRoot = file('foo', { rootUrl: 'https://ghcr.io/v2/homebrew/core' });
    expect(bottleDestination(withRoot, { registry: 'localhost:5000' })).toMatchObject({
      host: 'localhost:5000',
      repository: 'homebrew/core/foo',
      vendor: 'homebrew',
    });
    expect(bottleDestination(withRoot, { namespace: 'MyOrg/Tap' })).toMatchObject({
      host: 'ghcr.io',
      repository: 'myorg/tap/foo',
      vendor: 'MyOrg',
      sourceRepository: 'MyOrg/homebrew-Tap',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
    });
    // A namespace of another shape has a vendor but no GitHub source to point at.
    expect(bottleDestination(withRoot, { namespace: 'a/b/c' })).toMatchObject({
      repository: 'a/b/c/foo',
      vendor: 'a',
      sourceRepository: undefined,
    });
  });

  it('without root_url: the tap on ghcr.io is fine, homebrew/core is never guessed there', () => {
    expect(bottleDestination(file('me/tap/foo'))).toMatchObject({
      host: 'ghcr.io',
      repository: 'me/tap/foo',
      vendor: 'me',
    });
    expect(() => bottleDestination(file('foo'))).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTIONS',
        message: expect.stringContaining('--namespace'),
      }),
    );
    expect(bottleDestination(file('foo'), { registry: 'localhost:5000' }).repository).toBe(
      'homebrew/core/foo',
    );
  });

  it('refuses a root_url it cannot read, naming it and the file', () => {
    expect(() =>
      bottleDestination(file('foo', { rootUrl: 'https://example.com/bottles' })),
    ).toThrow(/\/tmp\/foo\.tar\.gz: .*root_url "https:\/\/example\.com\/bottles"/);
  });
});
