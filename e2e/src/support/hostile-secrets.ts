// What the secrets-*.test.ts files share: one registry:2 (basic or token auth) per file and the
// checks that no secret ever reaches a terminal or a file it should not: --debug traces redact
// Authorization and never show the password, the base64 of user:password or any token the token
// server issued (in token mode every issued token is captured by a recording proxy in front of the
// registry); -p warns; login writes config.json atomically, 0600, in a 0700 directory; a failed
// login changes nothing.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../harness/index.js';
import { ferry, type CliResult } from './cli.js';
import { startTokenRecordingProxy, type TokenRecordingProxy } from './hostile-server.js';

export function secretsTests(mode: 'basic' | 'token'): void {
  let reg: TestRegistry;
  let proxy: TokenRecordingProxy | undefined;
  let base: string;
  let host: string;

  beforeAll(async () => {
    reg = await startRegistry({ mode });
    base = await mkdtemp(join(tmpdir(), `ferry-secrets-${mode}-`));
    if (mode === 'token' && reg.tokenServer) {
      proxy = await startTokenRecordingProxy(reg.url, reg.tokenServer.url);
    }
    host = proxy?.host ?? reg.host;
  });

  afterAll(async () => {
    await proxy?.close();
    await reg?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  const user = () => reg.users[0] ?? { username: '', password: '' };
  const env = () => ({ DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') });
  /** The built CLI, the password on stdin. */
  const withStdin = (args: string[], password = user().password): Promise<CliResult> =>
    ferry([...args, '-u', user().username, '--password-stdin'], {
      env: env(),
      input: `${password}\n`,
      cwd: base,
    });

  /** Everything that must never be printed: the password, user:password in base64, tokens. */
  function secrets(): string[] {
    const { username, password } = user();
    const found = [password, Buffer.from(`${username}:${password}`).toString('base64')];
    for (const token of proxy?.tokens ?? []) {
      // A JWT's header is shared by every token of the server; its claims and signature are not.
      const [, claims, signature] = token.split('.');
      found.push(token, ...[claims, signature].filter((s): s is string => Boolean(s)));
    }
    return found;
  }

  function expectNoSecrets(result: CliResult): void {
    for (const secret of secrets()) {
      expect(result.stderr).not.toContain(secret);
      expect(result.stdout).not.toContain(secret);
    }
  }

  function expectRedactedTrace(result: CliResult): void {
    expect(result.stderr).toContain('[debug] ');
    expect(result.stderr).toContain('authorization: Basic REDACTED');
    if (mode === 'token') expect(result.stderr).toContain('authorization: Bearer REDACTED');
    expect(result.stderr).not.toMatch(/authorization: (Basic|Bearer) (?!REDACTED)/i);
    expectNoSecrets(result);
  }

  it(`--debug push and pull (${mode}): Authorization redacted; no password, base64 of user:password or issued token`, async () => {
    const file = 'secret-payload.txt';
    await writeFile(join(base, file), `payload ${randomBytes(8).toString('hex')}\n`);
    const issuedBefore = proxy?.tokens.length ?? 0;
    const pushed = await withStdin(['push', `${host}/secrets/debug:v1`, file, '--debug']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const pulled = await withStdin([
      'pull',
      `${host}/secrets/debug:v1`,
      '-o',
      join(base, 'pulled'),
      '--debug',
    ]);
    expect(pulled.code, pulled.stderr).toBe(0);
    if (mode === 'token') {
      // Both processes had tokens issued, and every one of them was captured.
      expect(proxy?.tokens.length ?? 0).toBeGreaterThanOrEqual(issuedBefore + 2);
      expect(reg.tokenServer?.log.filter((t) => t.subject === user().username).length).toBe(
        proxy?.tokens.length,
      );
    }
    expectRedactedTrace(pushed);
    expectRedactedTrace(pulled);
  });

  it(`login --debug (${mode}) shows no secret, and stores exactly user:password`, async () => {
    const config = join(base, 'login-debug', 'config.json');
    const result = await withStdin(['login', host, '--registry-config', config, '--debug']);
    expect(result.code, result.stderr).toBe(0);
    expectRedactedTrace(result);
    const stored = JSON.parse(await readFile(config, 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    const { username, password } = user();
    expect(stored.auths[host]?.auth).toBe(
      Buffer.from(`${username}:${password}`).toString('base64'),
    );
  });

  it(`-p on the command line (${mode}) works but warns to use --password-stdin, without echoing it`, async () => {
    const { username, password } = user();
    const config = join(base, 'dash-p', 'config.json');
    const results = await Promise.all([
      ferry(['login', host, '-u', username, '-p', password, '--registry-config', config], {
        env: env(),
      }),
      ferry(['repo', 'ls', host, '-u', username, '-p', password], {
        env: env(),
      }),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(
        /^Warning: a password on the command line can leak .*; use --password-stdin$/m,
      );
      expect(result.stderr).not.toContain(password);
    }
  });

  it(`login (${mode}) writes config.json 0600 in new 0700 directories, and replaces a file atomically`, async () => {
    const fresh = join(base, 'fresh', 'a', 'b', 'config.json');
    expect((await withStdin(['login', host, '--registry-config', fresh])).code).toBe(0);
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);
    for (const dir of ['fresh', 'fresh/a', 'fresh/a/b']) {
      expect((await stat(join(base, dir))).mode & 0o777, dir).toBe(0o700);
    }

    // An existing, world-readable file with other content: replaced by a new file (a new inode,
    // so nothing ever sees it half-written), 0600, its other content kept, no temp file left.
    const dir = join(base, 'existing');
    await mkdir(dir);
    const config = join(dir, 'config.json');
    const other = { auth: Buffer.from('other:secret').toString('base64') };
    await writeFile(config, JSON.stringify({ auths: { 'other.example': other }, keep: [1, 2] }));
    await chmod(config, 0o644);
    const before = await stat(config);
    const result = await withStdin(['login', host, '--registry-config', config]);
    expect(result.code, result.stderr).toBe(0);
    const after = await stat(config);
    expect(after.mode & 0o777).toBe(0o600);
    expect(after.ino).not.toBe(before.ino);
    expect(await readdir(dir)).toEqual(['config.json']);
    const stored = JSON.parse(await readFile(config, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ auths: { 'other.example': other }, keep: [1, 2] });
    expect(stored).toHaveProperty(['auths', host]);
  });

  it(`a failed login (${mode}, wrong password) leaves an existing config.json byte-identical`, async () => {
    const dir = join(base, 'failed');
    await mkdir(dir);
    const config = join(dir, 'config.json');
    const text = `{\n  "auths": { "${host}": { "auth": "${Buffer.from('old:creds').toString('base64')}" } }\n}\n`;
    await writeFile(config, text, { mode: 0o600 });
    const before = await stat(config);
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const result = await withStdin(['login', host, '--registry-config', config], wrong);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^Error: \S+ refused the password for user ".*"; nothing was stored$/m,
    );
    expect(result.stderr).not.toContain(wrong);
    expect(await readFile(config, 'utf8')).toBe(text);
    const after = await stat(config);
    expect([after.ino, after.mode, after.mtimeMs]).toEqual([
      before.ino,
      before.mode,
      before.mtimeMs,
    ]);
    expect(await readdir(dir)).toEqual(['config.json']);
  });
}
