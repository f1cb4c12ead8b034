/**
 * Issue 13, items 1-3: credentials belong to the origin they were given for. Each test runs a
 * loopback "attacker" origin that a registry's answer points at (a token realm's redirect, an
 * upload Location, a Link) and checks what it received.
 */
import { execFileSync } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from './credentials/index.js';
import { RegistryError } from './errors.js';
import { Registry } from './registry.js';
import {
  json,
  recordingSleep,
  startLoopback,
  type LoopbackOptions,
  type LoopbackServer,
} from './testing/loopback.js';
import { makeTestCertificates, type TestCertificates } from './testing/tls.js';
import { crossOriginHeaders, Transport } from './transport.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const ALICE: Credential = { username: 'alice', password: 's3cret-password' };
const ALICE_BASIC = `Basic ${Buffer.from('alice:s3cret-password').toString('base64')}`;

let servers: LoopbackServer[] = [];
async function server(options: LoopbackOptions = {}): Promise<LoopbackServer> {
  const started = await startLoopback(undefined, options);
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Everything a server was sent that could carry a secret. */
function secretsReceived(s: LoopbackServer): string[] {
  return s.requests.flatMap((r) =>
    ['authorization', 'cookie', 'proxy-authorization', 'x-registry-auth']
      .map((name) => r.headers[name])
      .filter((v): v is string => typeof v === 'string'),
  );
}

/** A registry that wants `Bearer good-token`, issued by the realm it names. */
function bearerRegistry(realm: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization === 'Bearer good-token') {
      return json(res, 200, { name: 'a/b', tags: ['v1'] });
    }
    json(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      { 'www-authenticate': `Bearer realm="${realm}",service="registry"` },
    );
  };
}

function redirectTo(location: string, status = 302) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const query = new URL(req.url ?? '/', 'http://x').search;
    res.writeHead(status, { location: `${location}${query}`, 'content-length': 0 });
    res.end();
  };
}

function issueToken(_req: IncomingMessage, res: ServerResponse) {
  json(res, 200, { token: 'good-token', expires_in: 300 });
}

describe('token realm redirects (issue 13 item 1)', () => {
  for (const status of [302, 307]) {
    it(`a realm answering ${status} to another origin: the Basic credentials stay behind`, async () => {
      const attacker = await server();
      attacker.handle = issueToken;
      const realm = await server();
      realm.handle = redirectTo(`${attacker.origin}/token`, status);
      const registryServer = await server();
      registryServer.handle = bearerRegistry(`${realm.origin}/token`);

      const client = new Registry(registryServer.host, { credentials: async () => ALICE });
      expect(await client.repository('a/b').tags()).toEqual(['v1']);
      await client.close();

      // The realm the registry named gets the password (that is what it is for)…
      expect(realm.requests[0]?.headers.authorization).toBe(ALICE_BASIC);
      // …the origin it redirected to gets nothing, though it was asked for the token.
      expect(attacker.requests).toHaveLength(1);
      expect(secretsReceived(attacker)).toEqual([]);
    });
  }

  it('a realm redirecting within its own origin keeps the Basic credentials', async () => {
    const realm = await server();
    realm.handle = (req, res) => {
      if (req.url?.startsWith('/token')) return redirectTo(`${realm.origin}/v2/token`)(req, res);
      if (req.headers.authorization !== ALICE_BASIC) return json(res, 401, {});
      issueToken(req, res);
    };
    const registryServer = await server();
    registryServer.handle = bearerRegistry(`${realm.origin}/token`);
    const client = new Registry(registryServer.host, { credentials: async () => ALICE });
    expect(await client.repository('a/b').tags()).toEqual(['v1']);
    await client.close();
    expect(realm.requests.map((r) => r.headers.authorization)).toEqual([ALICE_BASIC, ALICE_BASIC]);
  });

  it('no header that could carry a credential crosses an origin, whatever its name', async () => {
    const attacker = await server();
    attacker.handle = (_req, res) => json(res, 200, {});
    const origin = await server();
    origin.handle = redirectTo(`${attacker.origin}/elsewhere`);
    const transport = new Transport({ dispatcher: new Agent(), userAgent: 'ferry-test' });
    const response = await transport.send({
      method: 'GET',
      url: new URL(`${origin.origin}/start`),
      headers: {
        Authorization: 'Basic c2VjcmV0',
        cookie: 'session=secret',
        'Proxy-Authorization': 'Basic c2VjcmV0',
        'x-registry-auth': 'secret',
        accept: 'application/json',
        range: 'bytes=0-9',
      },
    });
    await response.body.text();
    await transport.dispatcher.close();
    // The first origin got them all; the second only what cannot be a secret.
    expect(secretsReceived(origin)).toHaveLength(4);
    expect(secretsReceived(attacker)).toEqual([]);
    expect(attacker.requests[0]?.headers.accept).toBe('application/json');
    expect(attacker.requests[0]?.headers.range).toBe('bytes=0-9');
    expect(crossOriginHeaders({ Cookie: 'a', 'X-Auth-Token': 'b', Accept: 'c' })).toEqual({
      Accept: 'c',
    });
  });

  describe.skipIf(!hasOpenssl())('over https', () => {
    let certificates: TestCertificates;
    beforeAll(() => {
      certificates = makeTestCertificates();
    });

    it('an https realm redirecting to another https origin: the Basic credentials stay behind', async () => {
      const tls = { tls: { key: certificates.key, cert: certificates.cert } };
      const attacker = await server(tls);
      attacker.handle = issueToken;
      const realm = await server(tls);
      realm.handle = redirectTo(`${attacker.origin}/token`);
      const registryServer = await server(tls);
      registryServer.handle = bearerRegistry(`${realm.origin}/token`);
      expect(attacker.origin).toMatch(/^https:/);

      const client = new Registry(registryServer.host, {
        credentials: async () => ALICE,
        ca: certificates.caPem,
      });
      expect(await client.repository('a/b').tags()).toEqual(['v1']);
      await client.close();
      expect(realm.requests[0]?.headers.authorization).toBe(ALICE_BASIC);
      expect(attacker.requests).toHaveLength(1);
      expect(secretsReceived(attacker)).toEqual([]);
    });
  });
});

describe('hosts named by a registry get credentials only when same origin (issue 13 item 2)', () => {
  /** A registry on Basic auth that accepts only alice's password. */
  function basicRegistry(
    s: LoopbackServer,
    onAuthorized: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    s.handle = (req, res) => {
      if (req.headers.authorization !== ALICE_BASIC) {
        return json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED' }] },
          {
            'www-authenticate': 'Basic realm="registry"',
          },
        );
      }
      onAuthorized(req, res);
    };
  }

  it('an upload Location on another origin that answers 401 never receives the password', async () => {
    const attacker = await server();
    attacker.handle = (_req, res) =>
      json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED' }] },
        {
          'www-authenticate': 'Basic realm="give me your password"',
        },
      );
    const registryServer = await server();
    basicRegistry(registryServer, (req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(404, { 'content-length': 0 });
        return res.end();
      }
      res.writeHead(202, { location: `${attacker.origin}/upload/1`, 'content-length': 0 });
      res.end();
    });
    const asked: string[] = [];
    const { sleep } = recordingSleep();
    const client = new Registry(registryServer.host, {
      sleep,
      retry: { retries: 0 },
      credentials: async (host) => {
        asked.push(host);
        return ALICE;
      },
    });
    const error = await client
      .repository('a/b')
      .blobs.push(Buffer.from('hello'))
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(401);
    expect(attacker.requests.length).toBeGreaterThan(0);
    expect(secretsReceived(attacker)).toEqual([]);
    // The credential source was never even asked about the other host.
    expect(asked.every((host) => host === registryServer.host)).toBe(true);
  });

  it('a Link rel="next" on another origin gets no credentials, and no token exchange either', async () => {
    const attacker = await server();
    attacker.handle = (_req, res) =>
      json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED' }] },
        {
          'www-authenticate': `Bearer realm="${attacker.origin}/token"`,
        },
      );
    const registryServer = await server();
    basicRegistry(registryServer, (_req, res) =>
      json(
        res,
        200,
        { name: 'a/b', tags: ['v1'] },
        {
          link: `<${attacker.origin}/v2/a/b/tags/list?last=v1>; rel="next"`,
        },
      ),
    );
    const client = new Registry(registryServer.host, { credentials: async () => ALICE });
    const error = await client
      .repository('a/b')
      .tags()
      .catch((e: unknown) => e);
    await client.close();
    expect((error as RegistryError).status).toBe(401);
    expect(registryServer.requests.at(-1)?.headers.authorization).toBe(ALICE_BASIC);
    // One request, no credentials, and no token request to its realm.
    expect(attacker.requests.map((r) => r.url)).toEqual(['/v2/a/b/tags/list?last=v1']);
    expect(secretsReceived(attacker)).toEqual([]);
  });

  it('a loopback registry found to speak plain http is still its own origin: credentials kept', async () => {
    const registryServer = await server();
    basicRegistry(registryServer, (_req, res) => json(res, 200, { name: 'a/b', tags: ['v1'] }));
    // No plainHttp: ferry tries https first and falls back to http for a loopback host.
    const client = new Registry(registryServer.host, { credentials: async () => ALICE });
    expect(client.baseUrl.protocol).toBe('https:');
    expect(await client.repository('a/b').tags()).toEqual(['v1']);
    await client.close();
    expect(registryServer.requests.at(-1)?.headers.authorization).toBe(ALICE_BASIC);
  });

  it('a Link on the same origin keeps the credentials', async () => {
    const registryServer = await server();
    basicRegistry(registryServer, (req, res) =>
      req.url?.includes('last=v1')
        ? json(res, 200, { name: 'a/b', tags: ['v2'] })
        : json(
            res,
            200,
            { name: 'a/b', tags: ['v1'] },
            {
              link: '</v2/a/b/tags/list?last=v1>; rel="next"',
            },
          ),
    );
    const client = new Registry(registryServer.host, { credentials: async () => ALICE });
    expect(await client.repository('a/b').tags()).toEqual(['v1', 'v2']);
    await client.close();
  });
});

describe("static tokens go to the registry's own origin only (issue 13 item 3)", () => {
  for (const [name, options, header] of [
    ['staticBearerToken', { staticBearerToken: 'ghp_secret' }, 'Bearer ghp_secret'],
    ['staticAuthorization', { staticAuthorization: 'Basic dXNlcjpwYXNz' }, 'Basic dXNlcjpwYXNz'],
  ] as const) {
    it(`${name}: a Link host gets no token on its first request`, async () => {
      const attacker = await server();
      attacker.handle = (_req, res) => json(res, 200, { name: 'a/b', tags: ['v2'] });
      const registryServer = await server();
      registryServer.handle = (_req, res) =>
        json(
          res,
          200,
          { name: 'a/b', tags: ['v1'] },
          {
            link: `<${attacker.origin}/v2/a/b/tags/list?last=v1>; rel="next"`,
          },
        );
      const client = new Registry(registryServer.host, options);
      expect(await client.repository('a/b').tags()).toEqual(['v1', 'v2']);
      await client.close();
      expect(registryServer.requests[0]?.headers.authorization).toBe(header);
      expect(secretsReceived(attacker)).toEqual([]);
    });
  }

  it('a redirect of a blob to another origin gets no static token', async () => {
    const attacker = await server();
    attacker.handle = (_req, res) => {
      res.writeHead(200, { 'content-length': 5 });
      res.end('hello');
    };
    const registryServer = await server();
    registryServer.handle = redirectTo(`${attacker.origin}/blob`, 307);
    const client = new Registry(registryServer.host, { staticBearerToken: 'QQ==' });
    const digest =
      'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' as const;
    const bytes = await client.repository('a/b').blobs.fetchBytes({
      digest,
      size: 5,
    });
    await client.close();
    expect(Buffer.from(bytes).toString()).toBe('hello');
    expect(registryServer.requests[0]?.headers.authorization).toBe('Bearer QQ==');
    expect(secretsReceived(attacker)).toEqual([]);
  });
});
