import { join, resolve } from 'node:path';
import { FerryError } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import {
  canonicalKey,
  decodeEntry,
  DOCKER_HUB_KEY,
  encodeEntry,
  matchingKeys,
  normaliseHost,
  parseConfig,
  resolveConfigPath,
} from './docker-config.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const FILE = '/home/me/.docker/config.json';

function thrown(fn: () => unknown): FerryError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FerryError);
    return error as FerryError;
  }
  throw new Error('expected a FerryError');
}

describe('resolveConfigPath', () => {
  it('prefers the explicit path, then DOCKER_CONFIG, then HOME', () => {
    const env = { DOCKER_CONFIG: '/etc/dc', HOME: '/home/me' };
    expect(resolveConfigPath('/x/c.json', env)).toBe(resolve('/x/c.json'));
    expect(resolveConfigPath(undefined, env)).toBe(join(resolve('/etc/dc'), 'config.json'));
    expect(resolveConfigPath(undefined, { HOME: '/home/me' })).toBe(
      join('/home/me', '.docker', 'config.json'),
    );
  });
});

describe('host keys', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['http://localhost:5000', 'localhost:5000'],
    ['localhost:5000/v1/', 'localhost:5000'],
    ['https://Registry.Example.com/v2/', 'registry.example.com'],
    ['docker.io', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['https://index.docker.io/v1/', 'docker.io'],
  ])('normalises %s to %s', (key, host) => {
    expect(normaliseHost(key)).toBe(host);
  });

  it('writes Docker Hub under its legacy URL and other hosts bare', () => {
    expect(canonicalKey('docker.io')).toBe(DOCKER_HUB_KEY);
    expect(canonicalKey('registry-1.docker.io')).toBe(DOCKER_HUB_KEY);
    expect(canonicalKey('https://ghcr.io/')).toBe('ghcr.io');
    expect(canonicalKey('[::1]:5000')).toBe('[::1]:5000');
  });

  it('refuses hosts that cannot be registries', () => {
    expect(thrown(() => canonicalKey('')).code).toBe('ERR_INVALID_CREDENTIAL');
    expect(thrown(() => canonicalKey('a b')).code).toBe('ERR_INVALID_CREDENTIAL');
  });

  it('lists the canonical key first, then variants in file order', () => {
    const auths = {
      'https://ghcr.io/v2/': {},
      'other.io': {},
      'ghcr.io': {},
      'http://ghcr.io': {},
    };
    expect(matchingKeys(auths, 'ghcr.io')).toEqual([
      'ghcr.io',
      'https://ghcr.io/v2/',
      'http://ghcr.io',
    ]);
    expect(matchingKeys({ constructor: {} }, 'ghcr.io')).toEqual([]);
  });
});

describe('decodeEntry', () => {
  it('splits auth at the first colon only', () => {
    expect(decodeEntry({ auth: b64('user:pa:ss:word') }, FILE, 'k')).toEqual({
      username: 'user',
      password: 'pa:ss:word',
    });
  });

  it('reads identitytoken and registrytoken, dropping the <token> placeholder username', () => {
    expect(decodeEntry({ auth: b64('<token>:'), identitytoken: 'refresh' }, FILE, 'k')).toEqual({
      identityToken: 'refresh',
    });
    expect(decodeEntry({ registrytoken: 'bearer' }, FILE, 'k')).toEqual({
      registryToken: 'bearer',
    });
  });

  it('honours username/password fields, overridden by auth', () => {
    expect(decodeEntry({ username: 'u', password: 'p' }, FILE, 'k')).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(decodeEntry({ username: 'u', auth: b64('a:b') }, FILE, 'k')).toEqual({
      username: 'a',
      password: 'b',
    });
  });

  it('treats empty entries as no credential', () => {
    expect(decodeEntry({}, FILE, 'k')).toBeUndefined();
    expect(decodeEntry({ auth: '', email: 'x@y' }, FILE, 'k')).toBeUndefined();
    expect(decodeEntry(null, FILE, 'k')).toBeUndefined();
  });

  it('accepts a wrapped or unpadded auth and trims NUL padding', () => {
    expect(decodeEntry({ auth: `${b64('user:secret\0\0')}\n` }, FILE, 'k')).toEqual({
      username: 'user',
      password: 'secret',
    });
    expect(decodeEntry({ auth: b64('u:pw').replace(/=+$/, '') }, FILE, 'k')).toEqual({
      username: 'u',
      password: 'pw',
    });
  });

  it.each([b64('nocolon'), b64(':password-only'), 'not base64!', 'abcde'])(
    'refuses auth %s without echoing it',
    (auth) => {
      const error = thrown(() => decodeEntry({ auth }, FILE, 'ghcr.io'));
      expect(error.code).toBe('ERR_CREDENTIALS_CONFIG');
      expect(error.message).toContain(FILE);
      expect(error.message).toContain('ghcr.io');
      expect(error.message).not.toContain(auth);
    },
  );

  it('refuses entries of the wrong shape', () => {
    expect(thrown(() => decodeEntry('x', FILE, 'k')).code).toBe('ERR_CREDENTIALS_CONFIG');
    expect(thrown(() => decodeEntry({ auth: 1 }, FILE, 'k')).message).toContain('auth');
  });
});

describe('encodeEntry', () => {
  it('writes docker’s form and keeps non-secret fields of the previous entry', () => {
    const previous = { auth: b64('old:old'), identitytoken: 'old', email: 'me@x' };
    expect(encodeEntry(previous, { username: 'u', password: 'p:q' })).toEqual({
      email: 'me@x',
      auth: b64('u:p:q'),
    });
    expect(encodeEntry(undefined, { username: 'u', identityToken: 'r' })).toEqual({
      auth: b64('u:'),
      identitytoken: 'r',
    });
    expect(encodeEntry({}, { registryToken: 't' })).toEqual({ registrytoken: 't' });
  });
});

describe('parseConfig', () => {
  it('accepts an empty file and a BOM', () => {
    expect(parseConfig('', FILE)).toEqual({});
    expect(parseConfig(' \n', FILE)).toEqual({});
    expect(parseConfig('\ufeff{"auths":{}}', FILE)).toEqual({ auths: {} });
  });

  it.each([
    ['{"auths": {"x": {"auth": "c2VjcmV0OnB3"}} trailing', 'line 1'],
    ['{\n  "auths": {\n    "x": {"auth": "c2VjcmV0OnB3",}\n  }\n}', 'line 3'],
    ['{"auths": {"x": {"auth": c2VjcmV0OnB3}}}', 'unexpected token'],
    ['{"auths": ', 'Unexpected end'],
  ])('names the file and the JSON problem, never the text: %j', (text, problem) => {
    const error = thrown(() => parseConfig(text, FILE));
    expect(error.code).toBe('ERR_CREDENTIALS_CONFIG');
    expect(error.message).toContain(FILE);
    expect(error.message).toContain('invalid JSON');
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain('c2VjcmV0');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['[]', 'top level'],
    ['null', 'top level'],
    ['{"auths": []}', '"auths"'],
    ['{"credHelpers": "x"}', '"credHelpers"'],
    ['{"credsStore": 1}', '"credsStore"'],
  ])('refuses the wrong shapes: %s', (text, problem) => {
    expect(thrown(() => parseConfig(text, FILE)).message).toContain(problem);
  });
});
