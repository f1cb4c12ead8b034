import { describe, expect, it } from 'vitest';
import { bottleRegistryOptions, GHCR_ANONYMOUS_TOKEN } from './env.js';

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
