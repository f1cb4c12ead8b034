import { describe, expect, it } from 'vitest';
import {
  bottleRegistryOptions,
  bottleSources,
  bottleUploadCredentials,
  GHCR_ANONYMOUS_TOKEN,
} from './env.js';

describe('bottleRegistryOptions (Homebrew’s environment)', () => {
  it('sends Bearer QQ== to ghcr.io by default, as brew does', () => {
    expect(bottleRegistryOptions('ghcr.io', {})).toEqual({
      host: 'ghcr.io',
      staticBearerToken: GHCR_ANONYMOUS_TOKEN,
    });
  });

  it('sends nothing special to other registries', () => {
    expect(bottleRegistryOptions('localhost:5000', {})).toEqual({ host: 'localhost:5000' });
  });

  it('HOMEBREW_DOCKER_REGISTRY_TOKEN wins, then the basic auth token', () => {
    expect(
      bottleRegistryOptions('ghcr.io', {
        HOMEBREW_DOCKER_REGISTRY_TOKEN: 'tok',
        HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN: 'b',
      }),
    ).toEqual({
      host: 'ghcr.io',
      staticBearerToken: 'tok',
    });
    expect(
      bottleRegistryOptions('ghcr.io', {
        HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN: 'dXNlcjpwdw==',
      }),
    ).toEqual({
      host: 'ghcr.io',
      staticAuthorization: 'Basic dXNlcjpwdw==',
    });
  });

  it('HOMEBREW_ARTIFACT_DOMAIN replaces ghcr.io, with its path and scheme, and no QQ==', () => {
    expect(
      bottleRegistryOptions('ghcr.io', {
        HOMEBREW_ARTIFACT_DOMAIN: 'http://mirror.local:8080/ghcr/',
      }),
    ).toEqual({
      host: 'mirror.local:8080',
      basePath: '/ghcr/',
      plainHttp: true,
    });
    expect(
      bottleRegistryOptions('ghcr.io', {
        HOMEBREW_ARTIFACT_DOMAIN: 'https://artifacts.example.com',
      }),
    ).toEqual({
      host: 'artifacts.example.com',
    });
    // Only ghcr.io URLs are rewritten: an explicit other registry stays itself.
    expect(
      bottleRegistryOptions('localhost:5000', { HOMEBREW_ARTIFACT_DOMAIN: 'https://m.example' }),
    ).toEqual({ host: 'localhost:5000' });
  });

  it('names a bad HOMEBREW_ARTIFACT_DOMAIN', () => {
    expect(() =>
      bottleRegistryOptions('ghcr.io', { HOMEBREW_ARTIFACT_DOMAIN: 'not a url' }),
    ).toThrow(/HOMEBREW_ARTIFACT_DOMAIN="not a url" is not a URL/);
  });
});

describe('bottleUploadCredentials (brew pr-upload’s environment)', () => {
  it('takes HOMEBREW_GITHUB_PACKAGES_USER and _TOKEN together', () => {
    expect(
      bottleUploadCredentials({
        HOMEBREW_GITHUB_PACKAGES_USER: 'me',
        HOMEBREW_GITHUB_PACKAGES_TOKEN: 'ghp_secret',
      }),
    ).toEqual({ username: 'me', password: 'ghp_secret' });
    expect(bottleUploadCredentials({})).toBeUndefined();
    expect(bottleUploadCredentials({ HOMEBREW_GITHUB_PACKAGES_USER: ' ' })).toBeUndefined();
  });

  it('names the one that is missing', () => {
    expect(() => bottleUploadCredentials({ HOMEBREW_GITHUB_PACKAGES_USER: 'me' })).toThrow(
      /HOMEBREW_GITHUB_PACKAGES_TOKEN is unset/,
    );
    expect(() => bottleUploadCredentials({ HOMEBREW_GITHUB_PACKAGES_TOKEN: 't' })).toThrow(
      /HOMEBREW_GITHUB_PACKAGES_USER is unset/,
    );
  });
});

describe('bottleSources: where brew would look, in order', () => {
  const core = 'homebrew/core/sqlite';

  it('ghcr.io with Bearer QQ== by default', () => {
    const sources = bottleSources({}, {});
    expect(sources.coreNamespace).toBe('homebrew/core');
    expect(sources.endpoints(core)).toEqual([
      { host: 'ghcr.io', repository: core, via: 'ghcr.io', staticBearerToken: 'QQ==' },
    ]);
  });

  it('HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN=none sends no Authorization at all (item 14)', () => {
    const [ghcr] = bottleSources(
      {},
      { HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN: 'none' },
    ).endpoints(core);
    expect(ghcr).toEqual({ host: 'ghcr.io', repository: core, via: 'ghcr.io' });
    expect(
      bottleRegistryOptions('ghcr.io', { HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN: 'none' }),
    ).toEqual({
      host: 'ghcr.io',
    });
    const env = {
      HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN: 'none',
      HOMEBREW_ARTIFACT_DOMAIN: 'https://m.example',
    };
    for (const endpoint of bottleSources({}, env).endpoints(core)) {
      expect(endpoint).not.toHaveProperty('staticAuthorization');
      expect(endpoint).not.toHaveProperty('staticBearerToken');
    }
  });

  it('an artifact domain holding /v2 does not get a second /v2 (item 13)', () => {
    const env = { HOMEBREW_ARTIFACT_DOMAIN: 'http://127.0.0.1:5000/v2/mir1/' };
    expect(bottleSources({}, env).endpoints(core)).toEqual([
      {
        host: '127.0.0.1:5000',
        repository: 'mir1/homebrew/core/sqlite',
        plainHttp: true,
        via: 'HOMEBREW_ARTIFACT_DOMAIN',
      },
      { host: 'ghcr.io', repository: core, via: 'ghcr.io', staticBearerToken: 'QQ==' },
    ]);
    expect(
      bottleSources({}, { HOMEBREW_ARTIFACT_DOMAIN: 'https://m.example/v2' }).endpoints(core)[0],
    ).toMatchObject({ host: 'm.example', repository: core });
    expect(
      bottleSources({}, { HOMEBREW_ARTIFACT_DOMAIN: 'https://m.example/v2' }).endpoints(core)[0],
    ).not.toHaveProperty('basePath');
  });

  it('falls back to ghcr.io unless HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK is set (item 13)', () => {
    const env = {
      HOMEBREW_ARTIFACT_DOMAIN: 'https://m.example/prefix',
      HOMEBREW_DOCKER_REGISTRY_TOKEN: 'mirror-token',
    };
    const endpoints = bottleSources({}, env).endpoints(core);
    expect(endpoints).toEqual([
      {
        host: 'm.example',
        basePath: '/prefix',
        repository: core,
        via: 'HOMEBREW_ARTIFACT_DOMAIN',
        staticBearerToken: 'mirror-token',
      },
      // The mirror's token never goes to ghcr.io.
      { host: 'ghcr.io', repository: core, via: 'ghcr.io', staticBearerToken: 'QQ==' },
    ]);
    expect(
      bottleSources({}, { ...env, HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK: '1' }).endpoints(core),
    ).toHaveLength(1);
    // A test stands in for ghcr.io with a loopback registry.
    expect(
      bottleSources({}, { ...env, FERRY_TEST_GHCR_HOST: '127.0.0.1:9' }).endpoints(core)[1],
    ).toMatchObject({ host: '127.0.0.1:9', repository: core });
  });

  it('HOMEBREW_BOTTLE_DOMAIN moves homebrew/core, with ghcr.io as the fallback (item 12)', () => {
    const env = { HOMEBREW_BOTTLE_DOMAIN: 'http://127.0.0.1:5000/v2/mirror/core' };
    const sources = bottleSources({}, env);
    expect(sources.coreNamespace).toBe('mirror/core');
    expect(sources.host).toBe('127.0.0.1:5000');
    expect(sources.endpoints('mirror/core/sqlite')).toEqual([
      {
        host: '127.0.0.1:5000',
        plainHttp: true,
        repository: 'mirror/core/sqlite',
        via: 'HOMEBREW_BOTTLE_DOMAIN',
      },
      { host: 'ghcr.io', repository: core, via: 'ghcr.io', staticBearerToken: 'QQ==' },
    ]);
    // brew's Authorization is for GitHub Packages only: the domain gets none, ghcr.io the token.
    expect(
      bottleSources({}, { ...env, HOMEBREW_DOCKER_REGISTRY_TOKEN: 'tok' }).endpoints(
        'mirror/core/sqlite',
      ),
    ).toEqual([
      {
        host: '127.0.0.1:5000',
        plainHttp: true,
        repository: 'mirror/core/sqlite',
        via: 'HOMEBREW_BOTTLE_DOMAIN',
      },
      { host: 'ghcr.io', repository: core, via: 'ghcr.io', staticBearerToken: 'tok' },
    ]);
    // Taps keep their own root_url on ghcr.io.
    expect(sources.endpoints('user/tap/foo')).toEqual([
      { host: 'ghcr.io', repository: 'user/tap/foo', via: 'ghcr.io', staticBearerToken: 'QQ==' },
    ]);
    // The default value changes nothing; explicit flags win over the environment.
    expect(
      bottleSources({}, { HOMEBREW_BOTTLE_DOMAIN: 'https://ghcr.io/v2/homebrew/core' }).host,
    ).toBe('ghcr.io');
    expect(
      bottleSources({ registry: 'localhost:5000' }, env).endpoints('homebrew/core/sqlite'),
    ).toEqual([{ host: 'localhost:5000', repository: 'homebrew/core/sqlite', via: '--registry' }]);
  });

  it('refuses a HOMEBREW_BOTTLE_DOMAIN that is not an OCI registry', () => {
    expect(() =>
      bottleSources({}, { HOMEBREW_BOTTLE_DOMAIN: 'https://mirrors.example.com/homebrew-bottles' }),
    ).toThrow(
      /HOMEBREW_BOTTLE_DOMAIN="https:\/\/mirrors.example.com\/homebrew-bottles" is not an OCI registry URL/,
    );
  });
});
