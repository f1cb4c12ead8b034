import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError, InvalidDigestError, InvalidReferenceError } from './errors.js';
import { DOCKER_HUB_HOST, isValidTag } from './reference-parts.js';
import { Reference, isReference, parseReference, parseRepository } from './reference.js';

const HEX64 = 'a1b2c3d4e5f60718'.repeat(4);
const HEX128 = HEX64 + HEX64;
const SHA256 = `sha256:${HEX64}`;
const SHA512 = `sha512:${HEX128}`;

interface Valid {
  input: string;
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** Default: registry-1.docker.io for docker.io, else the registry. */
  host?: string;
  /** toString(); default: the input. */
  string?: string;
}

const valid: Valid[] = [
  { input: 'localhost:5000/hello:v1', registry: 'localhost:5000', repository: 'hello', tag: 'v1' },
  { input: 'localhost/hello', registry: 'localhost', repository: 'hello' },
  { input: '[::1]:5000/a/b:t', registry: '[::1]:5000', repository: 'a/b', tag: 't' },
  { input: '[2001:DB8::1]/x', registry: '[2001:DB8::1]', repository: 'x' },
  {
    input: `127.0.0.1:5000/x@${SHA256}`,
    registry: '127.0.0.1:5000',
    repository: 'x',
    digest: SHA256,
  },
  {
    input: `ghcr.io/org/app:1.0@${SHA512}`,
    registry: 'ghcr.io',
    repository: 'org/app',
    tag: '1.0',
    digest: SHA512,
  },
  {
    input: 'ghcr.io/homebrew/core/openssl/3:3.3.1',
    registry: 'ghcr.io',
    repository: 'homebrew/core/openssl/3',
    tag: '3.3.1',
  },
  {
    input: 'ubuntu',
    registry: 'docker.io',
    repository: 'library/ubuntu',
    host: DOCKER_HUB_HOST,
    string: 'docker.io/library/ubuntu',
  },
  {
    input: 'ubuntu:24.04',
    registry: 'docker.io',
    repository: 'library/ubuntu',
    tag: '24.04',
    string: 'docker.io/library/ubuntu:24.04',
  },
  {
    input: 'docker.io/ubuntu',
    registry: 'docker.io',
    repository: 'library/ubuntu',
    host: DOCKER_HUB_HOST,
    string: 'docker.io/library/ubuntu',
  },
  {
    input: 'index.docker.io/foo/bar',
    registry: 'docker.io',
    repository: 'foo/bar',
    host: DOCKER_HUB_HOST,
    string: 'docker.io/foo/bar',
  },
  { input: 'foo/bar', registry: 'docker.io', repository: 'foo/bar', string: 'docker.io/foo/bar' },
  // A first component with uppercase letters can only be a host (splitDockerDomain).
  { input: 'Example/bar', registry: 'Example', repository: 'bar' },
  { input: 'example.com:443/a__b', registry: 'example.com:443', repository: 'a__b' },
  { input: 'example.com/a--b', registry: 'example.com', repository: 'a--b' },
  { input: 'example.com/a.b', registry: 'example.com', repository: 'a.b' },
  { input: 'example.com/a_b/c-d.e__f', registry: 'example.com', repository: 'a_b/c-d.e__f' },
  {
    input: 'my-registry.local:5000/x:_',
    registry: 'my-registry.local:5000',
    repository: 'x',
    tag: '_',
  },
  // Without a "/" a colon is always a tag, even after "localhost" (as in Docker).
  {
    input: 'localhost:5000',
    registry: 'docker.io',
    repository: 'library/localhost',
    tag: '5000',
    string: 'docker.io/library/localhost:5000',
  },
  {
    input: `r.io/x:${'t'.repeat(128)}`,
    registry: 'r.io',
    repository: 'x',
    tag: 't'.repeat(128),
  },
];

describe('parseReference: valid', () => {
  it.each(valid)('$input', (row) => {
    const ref = parseReference(row.input);
    expect(ref.registry).toBe(row.registry);
    expect(ref.repository).toBe(row.repository);
    expect(ref.tag).toBe(row.tag);
    expect(ref.digest).toBe(row.digest);
    expect(ref.host).toBe(
      row.host ?? (row.registry === 'docker.io' ? DOCKER_HUB_HOST : row.registry),
    );
    expect(ref.name).toBe(`${row.registry}/${row.repository}`);
    expect(ref.reference).toBe(row.digest ?? row.tag);
    expect(ref.toString()).toBe(row.string ?? row.input);
    expect(parseReference(ref.toString()).equals(ref)).toBe(true);
    expect(isReference(row.input)).toBe(true);
  });
});

type Invalid = [input: string, reason: string];
const hex63 = HEX64.slice(1);

const invalid: Invalid[] = [
  ['', 'empty reference'],
  [' ', 'whitespace'],
  ['ubuntu ', 'whitespace'],
  ['ubu\nntu', 'whitespace'],
  ['localhost/Foo', 'repository name must be lowercase'],
  ['UBUNTU', 'repository name must be lowercase'],
  ['ghcr.io/Org/app:v1', 'repository name must be lowercase'],
  [`r.io/x:${'t'.repeat(129)}`, 'tag is 129 characters long; the limit is 128'],
  ['r.io/x:.tag', 'invalid tag'],
  ['r.io/x:-tag', 'invalid tag'],
  ['a//b', 'empty path component'],
  ['/a', 'empty path component'],
  ['a/', 'empty path component'],
  ['localhost/', 'missing repository after registry "localhost"'],
  [':tag', 'missing repository name'],
  ['a:', 'missing tag after ":"'],
  ['a@', 'missing digest after "@"'],
  [`a@${SHA256}@${SHA256}`, 'more than one "@"'],
  ['a@sha256:abc', 'sha256 digests have 64 hex digits, not 3'],
  [`a@sha256:${HEX64.toUpperCase()}`, 'lowercase hex'],
  [`a@md5:${HEX64.slice(0, 32)}`, 'unsupported algorithm "md5"'],
  [`a@sha256:${hex63}`, 'not 63'],
  [`a@sha512:${HEX64}`, 'sha512 digests have 128 hex digits, not 64'],
  [`a@${HEX64}`, 'invalid digest'],
  ['a-', 'must start and end with a lowercase letter or digit'],
  ['_a', 'must start and end with a lowercase letter or digit'],
  ['r.io/a.', 'must start and end with a lowercase letter or digit'],
  ['a___b', 'invalid separator "___"'],
  ['a..b', 'invalid separator ".."'],
  ['a._b', 'invalid separator "._"'],
  ['a:b:c', 'may contain only a-z, 0-9'],
  [`localhost/${'a'.repeat(246)}`, 'name is 256 characters long; the limit is 255'],
  // "ubuntu"-style names gain "docker.io/library/" before the length is checked, as upstream.
  ['a'.repeat(240), 'the limit is 255'],
  ['http://localhost/x', 'no URL scheme'],
  ['https://ghcr.io/a/b:v1', 'no URL scheme'],
  ['[fe80::1%eth0]/a', 'the character "%"'],
  ['[fe80::1]x/a', 'unexpected text after the IPv6 address'],
  ['[fe80::g]/a', 'only hex digits'],
  ['[::1/a', 'unterminated IPv6 address'],
  ['[::1]:/a', 'empty port'],
  ['localhost:abc/x', 'the port must be decimal digits'],
  ['-bad.io/x', 'host name component "-bad"'],
  ['bad..io/x', 'empty host name component'],
  [':5000/x', 'empty host name'],
  [HEX64, 'image ID'],
  ['a'.repeat(5000), 'longer than 4096 characters'],
  ['ghcr.io/a/b:v1#frag', 'the character "#"'],
  ['ünïcode', 'the character "ü"'],
];

describe('parseReference: invalid', () => {
  it.each(invalid)('%j', (input, reason) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidReferenceError);
    const { code, reason: actual, input: quoted } = error as InvalidReferenceError;
    expect(code).toBe(ErrorCode.InvalidReference);
    expect(actual).toContain(reason);
    expect(quoted).toBe(input);
    expect(isReference(input)).toBe(false);
  });

  it('keeps the digest error as the cause', () => {
    const error = (() => {
      try {
        parseReference('r.io/a@sha256:abc');
      } catch (caught) {
        return caught;
      }
    })() as InvalidReferenceError;
    expect(error.cause).toBeInstanceOf(InvalidDigestError);
  });

  it.each([null, undefined, 42, 1n, true, {}, [], Symbol('s'), () => 'x', Object.create(null)])(
    'rejects the non-string %s without a TypeError',
    (value) => {
      expect(() => parseReference(value as string)).toThrow(InvalidReferenceError);
      expect(isReference(value)).toBe(false);
    },
  );
});

describe('defaultTag', () => {
  it('applies only when there is neither tag nor digest', () => {
    expect(parseReference('ubuntu', { defaultTag: 'latest' }).tag).toBe('latest');
    expect(parseReference('ubuntu:22.04', { defaultTag: 'latest' }).tag).toBe('22.04');
    expect(parseReference(`ubuntu@${SHA256}`, { defaultTag: 'latest' }).tag).toBeUndefined();
  });
  it('must itself be a valid tag', () => {
    expect(() => parseReference('ubuntu', { defaultTag: '-x' })).toThrow(/invalid default tag/);
  });
});

describe('Reference', () => {
  const ref = parseReference('ghcr.io/org/app:v1');

  it('is immutable', () => {
    expect(Object.isFrozen(ref)).toBe(true);
    expect(() => {
      (ref as { tag: string | undefined }).tag = 'x';
    }).toThrow(TypeError);
  });

  it('withTag and withDigest return validated copies that keep the other field', () => {
    const both = ref.withDigest(SHA256);
    expect(both.toString()).toBe(`ghcr.io/org/app:v1@${SHA256}`);
    expect(both.reference).toBe(SHA256);
    expect(both.withTag('v2').toString()).toBe(`ghcr.io/org/app:v2@${SHA256}`);
    expect(ref.toString()).toBe('ghcr.io/org/app:v1');
    expect(() => ref.withTag('bad tag')).toThrow(InvalidReferenceError);
    expect(() => ref.withDigest('sha256:abc')).toThrow(/invalid digest/);
    expect(both.withoutReference().toString()).toBe('ghcr.io/org/app');
  });

  it('equals compares every field', () => {
    expect(ref.equals(parseReference('ghcr.io/org/app:v1'))).toBe(true);
    expect(ref.equals(parseReference('ghcr.io/org/app:v2'))).toBe(false);
    expect(ref.equals(parseReference('ghcr.io/org/app'))).toBe(false);
    expect(ref.equals('ghcr.io/org/app:v1')).toBe(false);
  });

  it('normalises Docker Hub when built from parts', () => {
    const hub = new Reference({ registry: 'index.docker.io', repository: 'redis', tag: '7' });
    expect(hub.toString()).toBe('docker.io/library/redis:7');
    expect(hub.host).toBe(DOCKER_HUB_HOST);
    expect(JSON.stringify({ hub })).toBe('{"hub":"docker.io/library/redis:7"}');
  });

  it('refuses parts that would not survive a round trip', () => {
    // "myhost/x" would parse as the Docker Hub repository myhost/x.
    expect(() => new Reference({ registry: 'myhost', repository: 'x' })).toThrow(
      /reads as a Docker Hub namespace/,
    );
    expect(() => new Reference({ registry: 'r.io', repository: 'A' })).toThrow(/lowercase/);
    expect(() => new Reference(null as never)).toThrow(FerryError);
  });
});

describe('helpers', () => {
  it('isValidTag', () => {
    expect(isValidTag('latest')).toBe(true);
    expect(isValidTag('_')).toBe(true);
    expect(isValidTag('A.b-C_1')).toBe(true);
    expect(isValidTag('t'.repeat(128))).toBe(true);
    expect(isValidTag('t'.repeat(129))).toBe(false);
    expect(isValidTag('')).toBe(false);
    expect(isValidTag('.x')).toBe(false);
    expect(isValidTag('a:b')).toBe(false);
    expect(isValidTag(7)).toBe(false);
  });

  it('parseRepository refuses tags and digests', () => {
    expect(parseRepository('ghcr.io/org/app').name).toBe('ghcr.io/org/app');
    expect(() => parseRepository('ghcr.io/org/app:v1')).toThrow(/without a tag or digest/);
  });
});
