import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from './harness/index.js';
import type { TestRegistry } from './harness/index.js';
import { expectBlobRoundTrip, randomBlob, randomRepo } from './support/blob-roundtrip.js';
import { RegistryClient, parseChallenge } from './support/registry-client.js';

describe('registry harness: basic (htpasswd) mode', () => {
  let registry: TestRegistry;
  const clients: RegistryClient[] = [];
  const client = (creds?: { username: string; password: string }) => {
    const c = new RegistryClient(registry, creds);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    registry = await startRegistry({ mode: 'basic' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry?.stop();
  });

  it('provides a read-write and a pull-only user', () => {
    expect(registry.users.map((u) => [u.username, u.access])).toEqual([
      ['ferry', 'read-write'],
      ['reader', 'pull-only'],
    ]);
  });

  it('challenges with Basic', async () => {
    const res = await client().request('/v2/');
    expect(res.status).toBe(401);
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    expect(challenge.scheme).toBe('basic');
    expect(challenge.params.realm).toBe('ferry-e2e');
    await res.body?.cancel();
  });

  it('round-trips a blob with the right password', async () => {
    const [rw] = registry.users;
    await expectBlobRoundTrip(client(rw), randomRepo('basic'));
  });

  it('refuses a wrong password', async () => {
    const rw = registry.users[0]!;
    const push = await client({ username: rw.username, password: 'wrong' }).pushBlob(
      randomRepo('basic-bad'),
      randomBlob(),
    );
    expect(push.start.status).toBe(401);
    expect(push.finish).toBeUndefined();
  });

  it('refuses anonymous pushes and pulls', async () => {
    const anon = client();
    const repo = randomRepo('basic-anon');
    expect((await anon.pushBlob(repo, randomBlob())).start.status).toBe(401);
    const digest = await expectBlobRoundTrip(client(registry.users[0]), repo);
    const get = await anon.getBlob(repo, digest);
    expect(get.status).toBe(401);
    await get.body?.cancel();
  });
});
