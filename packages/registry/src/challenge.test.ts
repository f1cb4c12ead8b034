import { describe, expect, it } from 'vitest';
import type { Challenge } from './challenge.js';
import {
  bearerChallenge,
  MAX_CHALLENGE_HEADER_LENGTH,
  parseScope,
  parseWwwAuthenticate,
} from './challenge.js';

const bearer = (params: Record<string, string>): Challenge => ({ scheme: 'bearer', params });
const basic = (params: Record<string, string>): Challenge => ({ scheme: 'basic', params });

describe('parseWwwAuthenticate on real registry headers', () => {
  it.each<[string, string, Challenge[]]>([
    [
      'Docker Hub',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
      [
        bearer({
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/ubuntu:pull',
        }),
      ],
    ],
    [
      'ghcr.io',
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"',
      [
        bearer({
          realm: 'https://ghcr.io/token',
          service: 'ghcr.io',
          scope: 'repository:user/image:pull',
        }),
      ],
    ],
    [
      'registry:2 with a comma inside the quoted scope',
      'Bearer realm="http://127.0.0.1:1234/token",service="ferry-e2e",scope="repository:a/b:pull,push"',
      [
        bearer({
          realm: 'http://127.0.0.1:1234/token',
          service: 'ferry-e2e',
          scope: 'repository:a/b:pull,push',
        }),
      ],
    ],
    [
      'registry:2 with htpasswd',
      'Basic realm="Registry Realm"',
      [basic({ realm: 'Registry Realm' })],
    ],
    [
      'Harbor',
      'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:library/nginx:pull,push"',
      [
        bearer({
          realm: 'https://harbor.example.com/service/token',
          service: 'harbor-registry',
          scope: 'repository:library/nginx:pull,push',
        }),
      ],
    ],
    [
      'ECR',
      'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      [
        basic({
          realm: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/',
          service: 'ecr.amazonaws.com',
        }),
      ],
    ],
    [
      'Quay',
      'Bearer realm="https://quay.io/v2/auth",service="quay.io",scope="repository:coreos/etcd:pull"',
      [
        bearer({
          realm: 'https://quay.io/v2/auth',
          service: 'quay.io',
          scope: 'repository:coreos/etcd:pull',
        }),
      ],
    ],
    [
      'several challenges in one value',
      'Basic realm="x", Bearer realm="y",service="z"',
      [basic({ realm: 'x' }), bearer({ realm: 'y', service: 'z' })],
    ],
    [
      'uppercase scheme and parameter names',
      'BEARER REALM="https://a/token", Service="s"',
      [bearer({ realm: 'https://a/token', service: 's' })],
    ],
    ['lowercase scheme', 'basic realm="r"', [basic({ realm: 'r' })]],
    [
      'whitespace around = and commas',
      'Bearer   realm = "r" ,\tservice\t=\ts  ,  scope =  "a b"',
      [bearer({ realm: 'r', service: 's', scope: 'a b' })],
    ],
    [
      'escapes, commas and = inside a quoted string',
      'Bearer realm="a,b\\"c", service="x=y\\\\z"',
      [bearer({ realm: 'a,b"c', service: 'x=y\\z' })],
    ],
    [
      'unquoted token values and an unquoted URL',
      'Bearer realm=https://auth.example/token,service=example',
      [bearer({ realm: 'https://auth.example/token', service: 'example' })],
    ],
    ['empty quoted value', 'Bearer realm="", service="s"', [bearer({ realm: '', service: 's' })]],
    [
      'empty list elements',
      ',, Basic realm="a" ,,, , Bearer realm="b",,',
      [basic({ realm: 'a' }), bearer({ realm: 'b' })],
    ],
    [
      'duplicate parameters: the first wins',
      'Bearer realm="first", REALM="second", realm=third',
      [bearer({ realm: 'first' })],
    ],
    [
      'a scheme without parameters followed by another challenge',
      'Negotiate, Basic realm="r"',
      [{ scheme: 'negotiate', params: {} }, basic({ realm: 'r' })],
    ],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe('token68', () => {
  it.each<[string, Challenge[]]>([
    ['Negotiate abc==', [{ scheme: 'negotiate', params: {}, token68: 'abc==' }]],
    ['Negotiate a+b/c-d._~', [{ scheme: 'negotiate', params: {}, token68: 'a+b/c-d._~' }]],
    [
      'Negotiate abc=, Basic realm="r"',
      [{ scheme: 'negotiate', params: {}, token68: 'abc=' }, basic({ realm: 'r' })],
    ],
    ['Custom  tok  ', [{ scheme: 'custom', params: {}, token68: 'tok' }]],
  ])('%s', (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  it('does not mistake the first parameter for a token68', () => {
    expect(parseWwwAuthenticate('Bearer realm=x')).toEqual([bearer({ realm: 'x' })]);
    expect(parseWwwAuthenticate('Bearer realm = x')).toEqual([bearer({ realm: 'x' })]);
  });
});

describe('several header values', () => {
  it('concatenates the challenges of every value in order', () => {
    expect(
      parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm="b", Negotiate', 'Digest abc']),
    ).toEqual([
      basic({ realm: 'a' }),
      bearer({ realm: 'b' }),
      { scheme: 'negotiate', params: {} },
      { scheme: 'digest', params: {}, token68: 'abc' },
    ]);
  });

  it('does not carry parameters over into the next value', () => {
    expect(parseWwwAuthenticate(['Basic realm="a"', 'service="s"'])).toEqual([
      basic({ realm: 'a' }),
    ]);
  });

  it('returns [] for undefined, empty and blank input', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate([])).toEqual([]);
    expect(parseWwwAuthenticate(' \t , ')).toEqual([]);
  });
});

describe('malformed headers', () => {
  it.each<[string, Challenge[]]>([
    ['Bearer realm="unterminated', [bearer({})]],
    ['Basic realm="ok", Bearer realm="escaped at the end\\"', [basic({ realm: 'ok' }), bearer({})]],
    ['realm="no scheme", service="s"', []],
    ['=', []],
    ['==', []],
    ['= Bearer', []],
    ['Bearer ,,,', [bearer({})]],
    ['Bearer realm="a", @@@, service="s"', [bearer({ realm: 'a', service: 's' })]],
    ['"quoted", Basic realm="r"', [basic({ realm: 'r' })]],
    ['\u0000\u00ff Basic realm="r"', []],
    ['Bearer realm="r" service="s"', [bearer({ realm: 'r', service: 's' })]],
  ])('%j', (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  it('keeps a __proto__ parameter as plain data', () => {
    const [challenge] = parseWwwAuthenticate('Bearer __proto__="x", realm="r"');
    expect(Object.getPrototypeOf(challenge?.params)).toBe(Object.prototype);
    expect(challenge?.params).toEqual({ ['__proto__']: 'x', realm: 'r' });
    expect(Object.hasOwn(challenge?.params ?? {}, '__proto__')).toBe(true);
  });

  it('stays fast on hostile megabyte inputs', () => {
    const inputs = [
      'Bearer ' + 'realm="'.repeat(150_000),
      'a'.repeat(1 << 20),
      ','.repeat(1 << 20),
      'Bearer ' + 'a=b,'.repeat(250_000),
      'x '.repeat(500_000),
      '"'.repeat(1 << 20),
      'Basic ' + '\\'.repeat(1 << 20),
    ];
    // A quadratic scan of these takes minutes; linear ones take milliseconds. The bound is loose
    // so that a loaded CI machine cannot fail it.
    const started = performance.now();
    for (const input of inputs) expect(Array.isArray(parseWwwAuthenticate(input))).toBe(true);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('only reads the first 64 KiB', () => {
    const filler = 'x'.repeat(MAX_CHALLENGE_HEADER_LENGTH);
    expect(parseWwwAuthenticate([`Basic realm="${filler}"`])).toEqual([basic({})]);
    expect(parseWwwAuthenticate([filler, 'Basic realm="r"'])).toEqual([
      { scheme: 'x'.repeat(MAX_CHALLENGE_HEADER_LENGTH), params: {} },
    ]);
  });
});

describe('bearerChallenge', () => {
  it('picks the first Bearer challenge with a realm and splits the scope on spaces', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="b", Bearer service="no-realm", Bearer realm="https://a/token",service="reg",scope="repository:a:pull  repository:b:pull,push"',
    );
    expect(bearerChallenge(challenges)).toEqual({
      realm: 'https://a/token',
      service: 'reg',
      scope: ['repository:a:pull', 'repository:b:pull,push'],
    });
  });

  it('leaves out service and scope when absent', () => {
    const result = bearerChallenge(parseWwwAuthenticate('Bearer realm="r"'));
    expect(result).toEqual({ realm: 'r' });
    expect(result && 'scope' in result).toBe(false);
  });

  it('returns undefined without a usable Bearer challenge', () => {
    expect(bearerChallenge(parseWwwAuthenticate('Basic realm="r"'))).toBeUndefined();
    expect(bearerChallenge(parseWwwAuthenticate('Bearer ,,,'))).toBeUndefined();
    expect(bearerChallenge([])).toBeUndefined();
  });
});

describe('parseScope', () => {
  it('splits type, name and actions, with colons in the name', () => {
    expect(
      parseScope('repository:library/ubuntu:pull,push  repository:localhost:5000/a/b:pull'),
    ).toEqual([
      { type: 'repository', name: 'library/ubuntu', actions: ['pull', 'push'] },
      { type: 'repository', name: 'localhost:5000/a/b', actions: ['pull'] },
    ]);
    expect(parseScope('registry:catalog:*')).toEqual([
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('drops malformed entries', () => {
    expect(parseScope('')).toEqual([]);
    expect(parseScope('repository :a:pull nocolon one:colon ::')).toEqual([]);
    expect(parseScope('repository:a:')).toEqual([{ type: 'repository', name: 'a', actions: [] }]);
  });
});
