// @ferry/registry end to end against registry:2 with no authentication.
import { expect, it } from 'vitest';
import { describeClientSuite } from './support/client-suite.js';
import { seededBytes } from './support/client-fixture.js';

describeClientSuite('anonymous', (fx) => {
  it('never sends an Authorization header', async () => {
    await fx.registry.ping();
    expect(fx.trace.length).toBeGreaterThan(0);
    expect(fx.trace.filter((line) => /authorization:/i.test(line))).toEqual([]);
  });

  it('works the same with credentials the registry does not ask for', async () => {
    const { registry, lines } = fx.open({ auth: { user: { username: 'who', password: 'ever' } } });
    const repo = registry.repository(fx.repoName('unasked'));
    const bytes = await seededBytes('anonymous/unasked', 2048);
    const pushed = await repo.blobs.push(bytes);
    expect(pushed.outcome).toBe('uploaded');
    expect((await repo.blobs.fetchBytes(pushed)).equals(bytes)).toBe(true);
    expect(lines.filter((line) => /authorization:/i.test(line))).toEqual([]);
  });
});
