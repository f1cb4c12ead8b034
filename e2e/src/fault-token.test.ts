// Bearer tokens that a proxy refuses after one use (401 with the registry's challenge): ferry
// must fetch a new token from the token server each time and finish push and pull.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MiB, randomBlob, sha256, useFaultFixture } from './faults/fixture.js';

const fx = useFaultFixture('token');

describe('fault injection: single-use bearer tokens', () => {
  it('re-authenticates whenever a token is refused after one use, for a push and a pull', async () => {
    const tokens = fx.reg.tokenServer;
    if (!tokens) throw new Error('token mode without a token server');
    fx.proxy.script([
      {
        match: {},
        fault: { singleUseToken: { realm: tokens.url, service: tokens.service } },
      },
    ]);
    const data = randomBlob(MiB);
    await fx.write('model.bin', data);
    const ref = `${fx.repo('tokens')}:v1`;
    const issuedBefore = tokens.issued;
    // One blob at a time: concurrent requests would share a token that only one of them may use.
    await fx.ok(['push', ref, 'model.bin', '--concurrency', '1']);
    await fx.ok(['pull', ref, '-o', 'out']);
    expect(sha256(await readFile(join(fx.dir, 'out', 'model.bin')))).toBe(sha256(data));

    const refused = fx.proxy.requests.filter((r) => r.status === 401 && r.auth === 'Bearer');
    expect(refused.length).toBeGreaterThan(0);
    // Each refusal cost a fresh token from the token server.
    expect(tokens.issued - issuedBefore).toBeGreaterThanOrEqual(refused.length);
  });
});
