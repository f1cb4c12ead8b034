import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { startRegistry } from './harness/index.js';
import type { TestRegistry, TestUser } from './harness/index.js';
import { expectBlobRoundTrip, randomBlob, randomRepo } from './support/blob-roundtrip.js';
import {
  RegistryClient,
  TokenRequestError,
  decodeJwt,
  parseChallenge,
} from './support/registry-client.js';

const basic = (u: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;

describe('registry harness: bearer token mode', () => {
  let registry: TestRegistry;
  let rw: TestUser;
  let reader: TestUser;
  let repo: string;
  let digest: string;
  const clients: RegistryClient[] = [];
  const client = (creds?: { username: string; password: string }) => {
    const c = new RegistryClient(registry, creds);
    clients.push(c);
    return c;
  };
  const tokenUrl = (params: Record<string, string | string[]>) => {
    const url = new URL(registry.tokenServer!.url);
    for (const [k, v] of Object.entries(params)) {
      for (const value of [v].flat()) url.searchParams.append(k, value);
    }
    return url;
  };

  beforeAll(async () => {
    registry = await startRegistry({ mode: 'token' });
    [rw, reader] = registry.users as [TestUser, TestUser];
    repo = randomRepo('token');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry?.stop();
  });

  it('challenges with Bearer pointing at the harness token server', async () => {
    const res = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(401);
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    expect(challenge.scheme).toBe('bearer');
    expect(challenge.params.realm).toBe(registry.tokenServer!.url);
    expect(challenge.params.service).toBe(registry.tokenServer!.service);
    // registry 2.8 builds the action list from a Go map, so the order varies between requests.
    const [type, name, actions] = (challenge.params.scope ?? '').split(':');
    expect([type, name]).toEqual(['repository', repo]);
    expect(actions?.split(',').sort()).toEqual(['pull', 'push']);
    await res.body?.cancel();
  });

  it('round-trips a blob as the read-write user and counts issued tokens', async () => {
    const before = registry.tokenServer!.issued;
    const c = client(rw);
    digest = await expectBlobRoundTrip(c, repo);
    expect(registry.tokenServer!.issued).toBeGreaterThan(before);
    const { header, claims } = decodeJwt(c.lastToken!);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(header.x5c).toHaveLength(1);
    expect(claims).toMatchObject({
      iss: registry.tokenServer!.issuer,
      sub: 'ferry',
      aud: registry.tokenServer!.service,
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
    expect(claims.access).toHaveLength(1);
    expect(claims.access?.[0]).toMatchObject({ type: 'repository', name: repo });
    expect(claims.access?.[0]?.actions.slice().sort()).toEqual(['pull', 'push']);
  });

  it('refuses bad credentials at the token server', async () => {
    const res = await fetch(tokenUrl({ service: registry.tokenServer!.service }), {
      headers: { authorization: basic({ username: rw.username, password: 'nope' }) },
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { errors: { code: string }[] };
    expect(body.errors[0]?.code).toBe('UNAUTHORIZED');

    const err = await client({ username: 'nobody', password: 'x' })
      .pushBlob(randomRepo('token-bad'), randomBlob())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRequestError);
    expect((err as TokenRequestError).status).toBe(401);
  });

  it('lets the pull-only user pull but not push', async () => {
    const c = client(reader);
    const get = await c.getBlob(repo, digest);
    expect(get.status).toBe(200);
    await get.body?.cancel();

    const push = await c.pushBlob(repo, randomBlob());
    expect([401, 403]).toContain(push.start.status);
    expect(push.finish).toBeUndefined();
    const { claims } = decodeJwt(c.lastToken!);
    expect(claims.access).toEqual([{ type: 'repository', name: repo, actions: ['pull'] }]);
  });

  it('refuses anonymous pulls, with or without an (empty) anonymous token', async () => {
    const res = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
    expect(res.status).toBe(401);
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    expect(challenge.params.scope).toBe(`repository:${repo}:pull`);
    await res.body?.cancel();

    const anon = client();
    const get = await anon.getBlob(repo, digest);
    expect(get.status).toBe(401);
    await get.body?.cancel();
    expect(decodeJwt(anon.lastToken!).claims).toMatchObject({ sub: '', access: [] });
  });

  it('grants only the requested scope', async () => {
    const res = await fetch(
      tokenUrl({
        service: registry.tokenServer!.service,
        scope: [`repository:${repo}:pull`, 'repository:other/thing:delete,frobnicate'],
      }),
      { headers: { authorization: basic(rw) } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ expires_in: 300 });
    expect(body.access_token).toBe(body.token);
    expect(typeof body.issued_at).toBe('string');
    expect(decodeJwt(String(body.token)).claims.access).toEqual([
      { type: 'repository', name: repo, actions: ['pull'] },
      { type: 'repository', name: 'other/thing', actions: ['delete'] },
    ]);
  });

  it('grants the catalog to the read-write user only', async () => {
    const res = await client(rw).request('/v2/_catalog');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { repositories: string[] }).repositories).toContain(repo);
    const denied = await client(reader).request('/v2/_catalog');
    expect(denied.status).toBe(401);
    await denied.body?.cancel();
  });

  it('supports the OAuth2 password and refresh_token grants', async () => {
    const post = (form: Record<string, string>) =>
      fetch(registry.tokenServer!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    const common = {
      service: registry.tokenServer!.service,
      scope: `repository:${repo}:pull`,
      client_id: 'ferry-e2e',
    };
    const first = await post({ ...common, grant_type: 'password', ...rw });
    expect(first.status).toBe(200);
    const granted = (await first.json()) as Record<string, string>;
    expect(Object.keys(granted)).toEqual(
      expect.arrayContaining(['access_token', 'token', 'expires_in', 'refresh_token', 'issued_at']),
    );

    const refreshed = await post({
      ...common,
      grant_type: 'refresh_token',
      refresh_token: granted.refresh_token!,
    });
    expect(refreshed.status).toBe(200);
    const token = ((await refreshed.json()) as Record<string, string>).access_token!;
    const get = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(get.status).toBe(200);
    await get.body?.cancel();

    expect((await post({ ...common, grant_type: 'password', ...rw, password: 'x' })).status).toBe(
      401,
    );
    expect(
      (await post({ ...common, grant_type: 'refresh_token', refresh_token: 'x' })).status,
    ).toBe(401);
    expect((await post({ ...common, grant_type: 'client_credentials' })).status).toBe(400);
  });
});
