import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, MockAgent } from 'undici';
import { isNotFound } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, mergeScopes } from './auth.js';
import { RegistryError } from './errors.js';
import { Registry } from './registry.js';
import { json, recordingSleep, startLoopback, type LoopbackServer } from './testing/loopback.js';
import { Transport } from './transport.js';

let registryServer: LoopbackServer;
let tokenServer: LoopbackServer;
let issued: { scope: string[]; token: string }[];
let valid: Set<string>;

beforeEach(async () => {
  registryServer = await startLoopback();
  tokenServer = await startLoopback();
  issued = [];
  valid = new Set();
  // A registry that wants a bearer token valid for the repository it is asked about.
  registryServer.handle = (req, res) => {
    const name = /^\/v2\/(.+?)\/(?:tags|manifests|blobs)\//.exec(req.url ?? '')?.[1];
    const scope = name ? `repository:${name}:pull` : '';
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    if (token && valid.has(`${token} ${scope}`)) return json(res, 200, { name, tags: ['v1'] });
    json(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      {
        'www-authenticate': `Bearer realm="${tokenServer.origin}/token",service="test-registry"${scope ? `,scope="${scope}"` : ''}`,
      },
    );
  };
  tokenServer.handle = tokenHandler({ expiresIn: 300 });
});
afterEach(async () => {
  await registryServer.close();
  await tokenServer.close();
});

function tokenHandler(options: { expiresIn?: number; password?: string }) {
  return (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', tokenServer.origin);
    let scopes = url.searchParams.getAll('scope');
    if (req.method === 'POST') {
      const form = new URLSearchParams(body.toString());
      if (
        form.get('grant_type') !== 'refresh_token' ||
        form.get('refresh_token') !== 'identity-1'
      ) {
        return json(res, 401, { error: 'invalid_grant' });
      }
      scopes = (form.get('scope') ?? '').split(' ');
    } else if (options.password !== undefined) {
      const expected = `Basic ${Buffer.from(`alice:${options.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected)
        return json(res, 401, { details: 'bad credentials' });
    }
    const token = `token-${issued.length + 1}`;
    issued.push({ scope: scopes, token });
    for (const scope of scopes) valid.add(`${token} ${scope}`);
    json(res, 200, {
      [req.method === 'POST' ? 'access_token' : 'token']: token,
      ...(options.expiresIn ? { expires_in: options.expiresIn } : {}),
    });
  };
}

function client(options: ConstructorParameters<typeof Registry>[1] = {}) {
  return new Registry(registryServer.host, { sleep: recordingSleep().sleep, ...options });
}

describe('bearer token flow', () => {
  it('a token server’s 404 is a refusal, not "no such tag" (a caller would write the tag)', async () => {
    tokenServer.handle = (_req, res) => json(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
    const registry = client();
    const manifests = registry.repository('team/model').manifests;
    const refused = await manifests.resolve('v1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RegistryError);
    expect((refused as RegistryError).code).toBe('ERR_TOKEN_EXCHANGE');
    expect(isNotFound(refused)).toBe(false);
    await expect(manifests.exists('v1')).rejects.toMatchObject({ code: 'ERR_TOKEN_EXCHANGE' });
    await registry.close();
  });

  it('exchanges a challenge for a token with the asked scope, then reuses it', async () => {
    const registry = client();
    const repository = registry.repository('team/model');
    expect(await repository.tags()).toEqual(['v1']);
    expect(await repository.tags()).toEqual(['v1']);
    expect(issued).toEqual([{ scope: ['repository:team/model:pull'], token: 'token-1' }]);
    const [first, second, third] = registryServer.requests;
    expect(first?.headers.authorization).toBeUndefined();
    expect(second?.headers.authorization).toBe('Bearer token-1');
    // The second call sends the cached token at once: no 401 round trip.
    expect(third?.headers.authorization).toBe('Bearer token-1');
    expect(registryServer.requests).toHaveLength(3);
    expect(tokenServer.requests[0]?.url).toContain('service=test-registry');
    await registry.close();
  });

  it('asks for a new token for another repository without another 401', async () => {
    const registry = client();
    await registry.repository('a/one').tags();
    await registry.repository('a/two').tags();
    expect(issued.map((i) => i.scope)).toEqual([
      ['repository:a/one:pull'],
      ['repository:a/two:pull'],
    ]);
    // 401 + retry for the first, then straight to a token for the second.
    expect(registryServer.requests).toHaveLength(3);
    await registry.close();
  });

  it('shares one token request among concurrent requests for the same scopes', async () => {
    const registry = client();
    await registry.repository('a/b').tags(); // learns that the host wants bearer tokens
    const results = await Promise.all(
      Array.from({ length: 8 }, () => registry.repository('x/y').tags()),
    );
    expect(results).toEqual(Array.from({ length: 8 }, () => ['v1']));
    expect(issued.map((i) => i.scope)).toEqual([['repository:a/b:pull'], ['repository:x/y:pull']]);
    // 401 + retry for the first repository, then eight requests that carried the token at once.
    expect(registryServer.requests).toHaveLength(10);
    await registry.close();
  });

  it('sends Basic credentials to the token server, and account', async () => {
    tokenServer.handle = tokenHandler({ password: 's3cret' });
    const registry = client({
      credentials: async () => ({ username: 'alice', password: 's3cret' }),
    });
    expect(await registry.repository('a/b').tags()).toEqual(['v1']);
    expect(tokenServer.requests[0]?.url).toContain('account=alice');
    await registry.close();
  });

  it('reports refused credentials as ERR_UNAUTHORIZED naming the token server', async () => {
    tokenServer.handle = tokenHandler({ password: 'right' });
    const registry = client({
      credentials: async () => ({ username: 'alice', password: 'wrong' }),
    });
    const error = await registry
      .repository('a/b')
      .tags()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'ERR_UNAUTHORIZED', status: 401 });
    expect((error as Error).message).toContain(`${tokenServer.origin}/token`);
    expect((error as Error).message).toContain('bad credentials');
    expect((error as Error).message).not.toContain('wrong');
    await registry.close();
  });

  it('renews a token before it expires, and not before', async () => {
    tokenServer.handle = tokenHandler({ expiresIn: 60 });
    let now = 1_000_000;
    const dispatcher = new Agent();
    const authenticator = new Authenticator({
      transport: new Transport({ dispatcher, userAgent: 'test' }),
      now: () => now,
    });
    const transport = new Transport({ dispatcher, userAgent: 'test', authenticator });
    const url = new URL(`${registryServer.origin}/v2/a/b/tags/list`);
    const send = async () => {
      const response = await transport.send({
        method: 'GET',
        url,
        scopes: ['repository:a/b:pull'],
      });
      await response.body.dump();
      return response.status;
    };
    expect(await send()).toBe(200);
    now += 45_000; // within the 60 s lifetime less the 10 s renewal margin
    expect(await send()).toBe(200);
    expect(issued).toHaveLength(1);
    now += 10_000;
    expect(await send()).toBe(200);
    expect(issued.map((i) => i.token)).toEqual(['token-1', 'token-2']);
    expect(registryServer.requests.at(-1)?.headers.authorization).toBe('Bearer token-2');
    expect(authenticator.tokenRequests).toBe(2);
    await dispatcher.close();
  });

  it('asks again when the registry rejects a cached token', async () => {
    const registry = client();
    const repository = registry.repository('a/b');
    await repository.tags();
    valid.clear(); // the registry revokes every token
    expect(await repository.tags()).toEqual(['v1']);
    expect(issued.map((i) => i.token)).toEqual(['token-1', 'token-2']);
    await registry.close();
  });

  it('uses an identity token with the OAuth2 refresh-token grant', async () => {
    const registry = client({ credentials: async () => ({ identityToken: 'identity-1' }) });
    expect(await registry.repository('a/b').tags()).toEqual(['v1']);
    const request = tokenServer.requests[0];
    expect(request?.method).toBe('POST');
    const form = new URLSearchParams(request?.body.toString());
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'identity-1',
      client_id: 'ferry',
      service: 'test-registry',
      scope: 'repository:a/b:pull',
    });
    await registry.close();
  });

  it('uses a registry token directly', async () => {
    valid.add('direct repository:a/b:pull');
    const registry = client({ credentials: async () => ({ registryToken: 'direct' }) });
    expect(await registry.repository('a/b').tags()).toEqual(['v1']);
    expect(tokenServer.requests).toHaveLength(0);
    await registry.close();
  });
});

describe('static bearer and basic', () => {
  it('sends a static bearer first and falls back to the exchange on 401', async () => {
    const registry = client({ staticBearerToken: 'QQ==' });
    expect(await registry.repository('homebrew/core/jq').tags()).toEqual(['v1']);
    expect(registryServer.requests[0]?.headers.authorization).toBe('Bearer QQ==');
    expect(registryServer.requests[1]?.headers.authorization).toBe('Bearer token-1');
    await registry.close();
  });

  it('answers a Basic challenge and does not loop on refused credentials', async () => {
    registryServer.handle = (req, res) => {
      if (req.headers.authorization === `Basic ${Buffer.from('u:good').toString('base64')}`)
        return json(res, 200, {});
      json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'bad' }] },
        { 'www-authenticate': 'Basic realm="r"' },
      );
    };
    const good = client({ credentials: async () => ({ username: 'u', password: 'good' }) });
    await good.ping();
    await good.ping();
    expect(registryServer.requests.map((r) => r.headers.authorization !== undefined)).toEqual([
      false,
      true,
      true,
    ]);
    registryServer.requests.length = 0;
    const bad = client({ credentials: async () => ({ username: 'u', password: 'bad' }) });
    const error = await bad.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_UNAUTHORIZED', status: 401 });
    expect(registryServer.requests).toHaveLength(2);
    const none = client();
    await expect(none.ping()).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
    await Promise.all([good.close(), bad.close(), none.close()]);
  });
});

describe('realm safety', () => {
  it('refuses an http token realm for an https registry', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://registry.example')
      .intercept({ path: '/v2/', method: 'GET' })
      .reply(401, '', {
        headers: { 'www-authenticate': 'Bearer realm="http://auth.example/token",service="x"' },
      });
    const registry = new Registry('registry.example', {
      dispatcher: agent,
      credentials: async () => ({ username: 'u', password: 'p' }),
    });
    const error = await registry.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INSECURE_REDIRECT' });
    expect((error as Error).message).toContain('token realm http://auth.example/token');
    await agent.close();
  });
});

describe('mergeScopes', () => {
  it('unions actions per resource in a stable order', () => {
    expect(
      mergeScopes(
        ['repository:a/b:pull', 'repository:c:push'],
        ['repository:a/b:push,pull', '', 'bogus'],
      ),
    ).toEqual(['repository:a/b:pull,push', 'repository:c:push']);
    expect(mergeScopes(['registry:catalog:*'], [])).toEqual(['registry:catalog:*']);
  });
});

describe('static Authorization and base paths', () => {
  it('sends a static Authorization header first (Homebrew’s basic token) and falls back on 401', async () => {
    const registry = client({ staticAuthorization: 'Basic dXNlcjp0b2tlbg==' });
    expect(await registry.repository('a/b').tags()).toEqual(['v1']);
    expect(registryServer.requests[0]?.headers.authorization).toBe('Basic dXNlcjp0b2tlbg==');
    expect(registryServer.requests[1]?.headers.authorization).toBe('Bearer token-1');
    await registry.close();
  });

  it('serves the API under a base path (mirrors behind a prefix)', async () => {
    registryServer.handle = (_req, res) => json(res, 200, { name: 'a/b', tags: ['x'] });
    const registry = client({ basePath: '/ghcr-mirror/' });
    expect(await registry.repository('a/b').tags()).toEqual(['x']);
    await registry.ping();
    expect(registryServer.requests.map((r) => r.url)).toEqual([
      '/ghcr-mirror/v2/a/b/tags/list',
      '/ghcr-mirror/v2/',
    ]);
    await registry.close();
  });
});
