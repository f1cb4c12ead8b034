// @ferry/registry end to end against registry:2 with bearer tokens from the harness token server.
import { expect, it } from 'vitest';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { FerryError } from '@ferry/oci';
import { RegistryError } from '@ferry/registry';
import { describeClientSuite } from './support/client-suite.js';
import { rejection, seededBytes, sha256 } from './support/client-fixture.js';

describeClientSuite('token', (fx) => {
  const server = () => fx.reg.tokenServer!;

  it('caches tokens per scope: 20 HEADs cost one token', async () => {
    const repo = fx.registry.repository(fx.repoName('cache'));
    const pushed = await repo.blobs.push(await seededBytes('token/cache', 3000));

    const { registry } = fx.open();
    const before = server().issued;
    const blobs = registry.repository(repo.name).blobs;
    for (let i = 0; i < 20; i++) {
      expect(await blobs.stat(pushed.digest)).toEqual({ digest: pushed.digest, size: pushed.size });
    }
    expect(server().issued - before).toBe(1);
    expect(registry.authenticator.tokenRequests).toBe(1);
    const [issued] = server().log.slice(before);
    expect(issued).toMatchObject({ method: 'GET', subject: 'ferry' });
    expect(issued?.access).toEqual([{ type: 'repository', name: repo.name, actions: ['pull'] }]);

    // Concurrent requests for one scope share one token request.
    const concurrent = registry.repository(fx.repoName('cache-2', false)).blobs;
    const mid = server().issued;
    const found = await Promise.all(
      Array.from({ length: 20 }, () => concurrent.exists(pushed.digest)),
    );
    expect(found).toEqual(Array(20).fill(false));
    expect(server().issued - mid).toBe(1);
  });

  it('shares one token between concurrent first requests', async () => {
    const repo = fx.registry.repository(fx.repoName('cold'));
    const pushed = await repo.blobs.push(await seededBytes('token/cold', 3000));
    // Two HEADs from a client that has not met the registry: both go out without a token and are
    // challenged. The second challenge is held back until the first request got its token and
    // finished, as happens when many layers start at once; it should reuse that token.
    const agent = new Agent();
    let challenged = 0;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const dispatcher = {
      async request(options: Dispatcher.RequestOptions) {
        const response = await agent.request(options);
        if (options.method === 'HEAD' && response.statusCode === 401 && ++challenged === 2)
          await held;
        return response;
      },
      close: () => agent.close(),
    } as unknown as Dispatcher;
    try {
      const { registry } = fx.open({ dispatcher });
      const blobs = registry.repository(repo.name).blobs;
      const before = server().issued;
      const both = [blobs.exists(pushed.digest), blobs.exists(pushed.digest)];
      expect(await Promise.race(both)).toBe(true);
      expect(server().issued - before).toBe(1);
      release();
      expect(await Promise.all(both)).toEqual([true, true]);
      expect(challenged).toBe(2);
      expect(server().issued - before).toBe(1);
    } finally {
      release();
      await agent.close();
    }
  });

  it('needs few tokens for a whole push and pull', async () => {
    const { registry } = fx.open();
    const repo = registry.repository(fx.repoName('few'));
    const before = server().issued;
    const bytes = await seededBytes('token/few', 10_000);
    for (let i = 0; i < 3; i++) {
      const pushed = await repo.blobs.push(bytes);
      expect(pushed.outcome).toBe(i === 0 ? 'uploaded' : 'exists');
      expect((await repo.blobs.fetchBytes(pushed)).equals(bytes)).toBe(true);
      expect(await repo.manifests.exists('latest')).toBe(false);
    }
    // One token for pull (HEAD, GET), one for pull,push (POST, PUT).
    expect(server().issued - before).toBeLessThanOrEqual(2);
  });

  it('asks for the delete scope registry:2 wants when it cancels a declined mount', async () => {
    const source = fx.registry.repository(fx.repoName('cancel-a'));
    await source.blobs.push(await seededBytes('token/cancel-a', 100));
    const { registry, lines } = fx.open();
    const target = registry.repository(fx.repoName('cancel-b', false));
    await registry.ping(); // learns the Bearer challenge, so later requests need no 401 first
    lines.length = 0;
    const before = server().issued;
    expect(await target.blobs.mount(sha256(Buffer.from('absent')), source.name)).toBe(false);
    // registry:2 authorises every DELETE, upload cancels included, by the `delete` action.
    expect(lines.filter((l) => /^< 401 DELETE /.test(l))).toEqual([]);
    expect(lines.filter((l) => /^< \d+ DELETE /.test(l))).toEqual([
      expect.stringMatching(/^< 204 DELETE /),
    ]);
    expect(server().issued - before).toBeLessThanOrEqual(2);
  });

  it('lets the pull-only user fetch but not push', async () => {
    const repo = fx.registry.repository(fx.repoName('readonly'));
    const bytes = await seededBytes('token/readonly', 5000);
    const pushed = await repo.blobs.push(bytes);

    const { registry } = fx.open({ auth: { user: fx.reader! } });
    const readerRepo = registry.repository(repo.name);
    expect((await readerRepo.blobs.fetchBytes(pushed)).equals(bytes)).toBe(true);
    const other = await seededBytes('token/readonly-2', 5000);
    const error = await rejection(readerRepo.blobs.push(other));
    expect(error).toBeInstanceOf(FerryError);
    const status = error instanceof RegistryError ? error.status : undefined;
    expect((error as FerryError).code === 'ERR_UNAUTHORIZED' || [401, 403].includes(status!)).toBe(
      true,
    );
    expect(await repo.blobs.exists(sha256(other))).toBe(false);
    const denied = await rejection(registry.catalog());
    expect(denied).toBeInstanceOf(RegistryError);
    expect((denied as RegistryError).code).toBe('ERR_UNAUTHORIZED');
  });

  it('refuses a wrong password at the token server', async () => {
    const user = { username: fx.writer!.username, password: 'wrong-password' };
    const { registry } = fx.open({ auth: { user } });
    const error = await rejection(registry.ping());
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('ERR_UNAUTHORIZED');
    expect((error as RegistryError).status).toBe(401);
  });

  it('signs in with an identity token (OAuth2 refresh token) from config.json', async () => {
    const response = await fetch(server().url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        service: server().service,
        client_id: 'ferry-e2e',
        username: fx.writer!.username,
        password: fx.writer!.password,
      }).toString(),
    });
    expect(response.status).toBe(200);
    const { refresh_token: refreshToken } = (await response.json()) as { refresh_token: string };
    expect(refreshToken).toBeTruthy();

    const before = server().issued;
    const { registry, lines } = fx.open({ auth: { identityToken: refreshToken } });
    await registry.ping();
    const repo = registry.repository(fx.repoName('identity'));
    const bytes = await seededBytes('token/identity', 7777);
    const pushed = await repo.blobs.push(bytes);
    expect(pushed.outcome).toBe('uploaded');
    expect((await repo.blobs.fetchBytes(pushed)).equals(bytes)).toBe(true);

    const log = server().log.slice(before);
    expect(log.length).toBeGreaterThanOrEqual(2);
    for (const entry of log) expect(entry).toMatchObject({ method: 'POST', subject: 'ferry' });
    expect(lines.join('\n')).not.toContain(refreshToken);
  });
});
