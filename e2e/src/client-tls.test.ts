// @ferry/registry end to end against registry:2 over HTTPS with a per-run CA.
import { expect, it } from 'vitest';
import { FerryError } from '@ferry/oci';
import { describeClientSuite } from './support/client-suite.js';
import { rejection, seededBytes } from './support/client-fixture.js';

describeClientSuite('tls', (fx) => {
  it('speaks https to a loopback host when given a CA', () => {
    expect(fx.registry.baseUrl.href).toBe(`https://${fx.reg.host}/`);
  });

  it('refuses the server certificate without the CA', async () => {
    const { registry } = fx.open({ ca: undefined });
    const error = await rejection(registry.ping());
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('ERR_NETWORK');
    expect((error as FerryError).message).toMatch(/certificate/i);
  });

  it('skips verification with insecure: true', async () => {
    const repo = fx.registry.repository(fx.repoName('insecure'));
    const bytes = await seededBytes('tls/insecure', 6000);
    const pushed = await repo.blobs.push(bytes);

    const { registry } = fx.open({ ca: undefined, insecure: true });
    await expect(registry.ping()).resolves.toBeUndefined();
    expect((await registry.repository(repo.name).blobs.fetchBytes(pushed)).equals(bytes)).toBe(
      true,
    );
  });
});
