// Issue 18 item 3 against registry:2 behind the fault proxy: -H headers reach every request to
// the registry (as the proxy's log shows) and none to the storage origin a blob is redirected
// to; --resolve takes a name that does not exist to the registry, keeping it in Host.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BLOB, MiB, pushFile, randomBlob, sha256, useFaultFixture } from './faults/fixture.js';

const fx = useFaultFixture('basic');
const content = randomBlob(1 * MiB);
let repo = '';

beforeAll(async () => {
  repo = fx.repo('headers');
  await pushFile(fx, `${repo}:v1`, 'model.bin', content);
});

describe('-H/--header', () => {
  it('goes on every request to the registry, and not to a storage origin it redirects to', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { redirectTo: 'storage' } }]);
    await fx.ok([
      'pull',
      `${repo}:v1`,
      '-o',
      'out',
      '-H',
      'X-Team: ml',
      '--header',
      'X-Trace-Id: 42',
    ]);
    expect(sha256(await readFile(join(fx.dir, 'out', 'model.bin')))).toBe(sha256(content));
    const requests = fx.proxy.requests;
    expect(requests.map((r) => r.method)).toContain('GET');
    expect(requests.map((r) => [r.headers['x-team'], r.headers['x-trace-id']])).toEqual(
      requests.map(() => ['ml', '42']),
    );
    // Credentials were still sent, alongside the user's headers.
    expect(requests.some((r) => r.auth === 'Basic')).toBe(true);
    const storage = fx.proxy.storage.requests;
    expect(storage.length).toBeGreaterThanOrEqual(1);
    expect(storage.map((r) => [r.headers['x-team'], r.headers['x-trace-id']])).toEqual(
      storage.map(() => [undefined, undefined]),
    );
  });

  it('goes on pushes too, uploads included', async () => {
    await fx.write('other.bin', randomBlob(64 * 1024));
    await fx.ok(['push', `${fx.repo('headers-push')}:v1`, 'other.bin', '-H', 'X-Team: ml']);
    const requests = fx.proxy.requests;
    expect(requests.filter((r) => r.method === 'PUT').length).toBeGreaterThanOrEqual(2);
    expect(requests.map((r) => r.headers['x-team'])).toEqual(requests.map(() => 'ml'));
  });

  it('refuses a header without a colon, exit 2, naming it, before any request', async () => {
    const result = await fx.run(['pull', `${repo}:v1`, '-o', 'out', '-H', 'X-Team ml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--header "X-Team ml": give a header as 'Name: value'`);
    expect(fx.proxy.requests).toEqual([]);
  });
});

describe('--resolve', () => {
  it('reaches the registry under a name that does not resolve, Host keeping the name', async () => {
    const port = fx.proxy.host.split(':')[1] ?? '';
    const named = repo.replace(fx.proxy.host, `registry.test:${port}`);
    // Credentials are stored for the proxy's address, not the name: give them on the command line.
    const user = fx.reg.users.find((u) => u.access === 'read-write');
    await fx.ok([
      'pull',
      `${named}:v1`,
      '-o',
      'out',
      '--plain-http',
      '--resolve',
      `registry.test:${port}:127.0.0.1`,
      '-u',
      user?.username ?? '',
      '-p',
      user?.password ?? '',
    ]);
    expect(sha256(await readFile(join(fx.dir, 'out', 'model.bin')))).toBe(sha256(content));
    const requests = fx.proxy.requests;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.map((r) => r.headers.host)).toEqual(
      requests.map(() => `registry.test:${port}`),
    );
  });

  it('refuses a rule without an IP address, exit 2, naming it', async () => {
    const result = await fx.run(['pull', `${repo}:v1`, '--resolve', 'registry.test:443:somewhere']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--resolve "registry.test:443:somewhere"');
  });
});
