// @ferry/registry end to end against registry:2 behind htpasswd (HTTP Basic).
import { expect, it } from 'vitest';
import { RegistryError } from '@ferry/registry';
import { describeClientSuite } from './support/client-suite.js';
import { rejection, seededBytes } from './support/client-fixture.js';

function expectUnauthorized(error: unknown, method = 'GET'): void {
  expect(error).toBeInstanceOf(RegistryError);
  const e = error as RegistryError;
  expect(e.code).toBe('ERR_UNAUTHORIZED');
  expect(e.status).toBe(401);
  expect(e.method).toBe(method);
  // A HEAD answer has no body to carry the registry's code.
  expect(e.registryCode).toBe(method === 'HEAD' ? undefined : 'UNAUTHORIZED');
}

describeClientSuite('basic', (fx) => {
  it('refuses a wrong password', async () => {
    const user = { username: fx.writer!.username, password: 'wrong-password' };
    const { registry, lines } = fx.open({ auth: { user } });
    expectUnauthorized(await rejection(registry.ping()));
    // One try without credentials, one with the (wrong) ones, and no pointless third.
    expect(lines.filter((line) => line.startsWith('> GET '))).toHaveLength(2);
  });

  it('refuses a client without credentials', async () => {
    const { registry } = fx.open({ auth: null });
    expectUnauthorized(await rejection(registry.ping()));
    const repo = registry.repository(fx.repoName('nocreds', false));
    // The existence check is the first request a push makes, and the one refused.
    expectUnauthorized(await rejection(repo.blobs.push(await seededBytes('basic/x', 10))), 'HEAD');
    expectUnauthorized(await rejection(repo.tags()));
  });

  it('lets the second htpasswd user read what the first pushed', async () => {
    const repo = fx.registry.repository(fx.repoName('shared'));
    const bytes = await seededBytes('basic/shared', 4321);
    const pushed = await repo.blobs.push(bytes);
    const { registry } = fx.open({ auth: { user: fx.reader! } });
    expect((await registry.repository(repo.name).blobs.fetchBytes(pushed)).equals(bytes)).toBe(
      true,
    );
  });

  it('keeps the credentials out of the debug trace', () => {
    const { username, password } = fx.writer!;
    const encoded = Buffer.from(`${username}:${password}`).toString('base64');
    const text = fx.trace.join('\n');
    expect(text).toContain('authorization: Basic REDACTED');
    expect(text).not.toContain(password);
    expect(text).not.toContain(encoded);
  });
});
