// `ferry login --identity-token-stdin` / `--identity-token` against registry:2 with a token server:
// the refresh token is checked, stored as Docker's `identitytoken`, and later commands exchange
// it by `POST grant_type=refresh_token` (the token server's log shows the POSTs).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry } from './support/cli.js';
import { ferryBytes, scratch } from './support/interop-tools.js';

let registry: TestRegistry;
let work: string;
const dirs = scratch('identity');

/** A refresh token from the token server, as an OAuth2 client would obtain one. */
async function refreshToken(): Promise<string> {
  const user = registry.users[0];
  const server = registry.tokenServer;
  if (!user || !server) throw new Error('token mode registry without users or token server');
  const url = new URL(server.url);
  url.searchParams.set('service', server.service);
  url.searchParams.set('offline_token', 'true');
  url.searchParams.set('client_id', 'ferry-e2e');
  const response = await fetch(url, {
    headers: {
      authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
    },
  });
  const body = (await response.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(body)}`);
  return body.refresh_token;
}

function ferryWithInput(args: string[], input: string) {
  return ferry(args, { input, cwd: work });
}

beforeAll(async () => {
  registry = await startRegistry({ mode: 'token' });
  work = await dirs.make();
  await writeFile(join(work, 'a.txt'), 'pushed with a refresh token\n');
});

afterAll(async () => {
  await registry?.stop();
  await dirs.cleanup();
});

describe('ferry login with an identity token', () => {
  it('stores identitytoken (no password) and later commands use it through POST', async () => {
    const token = await refreshToken();
    const config = join(work, 'docker', 'config.json');
    const login = await ferryWithInput(
      ['login', registry.host, '--identity-token-stdin', '--registry-config', config],
      `${token}\n`,
    );
    expect(login).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
    const stored = JSON.parse(await readFile(config, 'utf8')) as {
      auths: Record<string, { auth?: string; identitytoken?: string }>;
    };
    expect(stored.auths[registry.host]?.identitytoken).toBe(token);
    expect(JSON.stringify(stored)).not.toContain(registry.users[0]?.password ?? '?');

    const postsBefore = registry.tokenServer?.log.filter((t) => t.method === 'POST').length ?? 0;
    const push = await ferryBytes(
      ['push', `${registry.host}/idtoken:v1`, 'a.txt', '--registry-config', config],
      work,
    );
    expect(push.code).toBe(0);
    const posts = registry.tokenServer?.log.filter((t) => t.method === 'POST') ?? [];
    expect(posts.length).toBeGreaterThan(postsBefore);
    expect(posts.at(-1)?.subject).toBe('ferry');
  });

  it('--identity-token on any command works (with a warning); a wrong one exits 1', async () => {
    const token = await refreshToken();
    const resolved = await ferryBytes(
      ['resolve', `${registry.host}/idtoken:v1`, '--identity-token', token],
      work,
    );
    expect(resolved.code).toBe(0);
    expect(resolved.stdout.toString()).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(resolved.stderr).toMatch(/^Warning: .*--identity-token-stdin/);

    const config = join(work, 'wrong', 'config.json');
    const refused = await ferryWithInput(
      ['login', registry.host, '--identity-token-stdin', '--registry-config', config],
      'not-a-refresh-token\n',
    );
    expect(refused.code).toBe(1);
    await expect(readFile(config)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an identity token with a username or password (exit 2)', async () => {
    for (const extra of [
      ['-u', 'ferry'],
      ['--password', 'x'],
      ['--identity-token', 'y'],
    ]) {
      const result = await ferryWithInput(
        ['login', registry.host, '--identity-token-stdin', ...extra],
        'token\n',
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/identity.token/);
    }
  });
});
