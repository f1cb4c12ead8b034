// login and logout against the token-auth registry, and what a missing login looks like.
import { copyFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { linesOf, type CliFixture } from './cli-fixture.js';
import { writeInputs } from './cli-fixture-push.js';

interface DockerConfig {
  auths?: Record<string, { auth?: string }>;
}

export function authTests(fx: CliFixture): void {
  const login = (config: string, password: string, extra: string[] = []) =>
    fx.run(
      ['login', fx.host, '-u', 'ferry', '--password-stdin', '--registry-config', config, ...extra],
      { config: false, input: `${password}\n` },
    );
  const logout = (config: string) =>
    fx.run(['logout', fx.host, '--registry-config', config], { config: false });
  const password = () => fx.password ?? '';

  it('a wrong password exits 1 and neither creates nor changes config.json', async () => {
    const fresh = join(fx.dir, 'fresh', 'config.json');
    const refused = await login(fresh, 'not-the-password');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(linesOf(refused.stderr)[0]).toMatch(
      /^Error: \S+ refused the password for user ".*"; nothing was stored$/,
    );
    await expect(stat(fresh)).rejects.toMatchObject({ code: 'ENOENT' });

    const existing = join(fx.dir, 'config.json');
    await copyFile(fx.configPath, existing);
    const before = await readFile(existing);
    expect((await login(existing, 'still-wrong')).code).toBe(1);
    expect((await readFile(existing)).equals(before)).toBe(true);
  });

  it('the hint after a refused login names the registry, not its token server', async () => {
    const refused = await login(join(fx.dir, 'config.json'), 'not-the-password');
    expect(refused.code).toBe(1);
    // Logging in is what failed: the error names the registry, and the hint is not "log in".
    const [error, hint] = linesOf(refused.stderr);
    expect(error).toBe(
      `Error: ${fx.host} refused the password for user "ferry"; nothing was stored`,
    );
    expect(hint).toMatch(/^Hint: check the username and password/);
    expect(refused.stderr).not.toContain('ferry login');
  });

  it('login stores credentials (mode 0600); logout removes them; a second logout is a no-op', async () => {
    const config = join(fx.dir, 'docker', 'config.json');
    const loggedIn = await login(config, password());
    expect(loggedIn).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(config, 'utf8')) as DockerConfig;
    const auth = stored.auths?.[fx.host]?.auth ?? '';
    expect(Buffer.from(auth, 'base64').toString()).toBe(`ferry:${password()}`);

    // The stored credentials work for later commands.
    await writeInputs(fx);
    const repo = fx.repo('login');
    await fx.ok(['push', `${repo}:v1`, 'a.txt', '--registry-config', config], { config: false });

    const out = await logout(config);
    expect(out).toMatchObject({ code: 0, stdout: `Removed login credentials for ${fx.host}\n` });
    const after = JSON.parse(await readFile(config, 'utf8')) as DockerConfig;
    expect(after.auths ?? {}).not.toHaveProperty(fx.host);

    const again = await logout(config);
    // As docker logout: nothing to remove is reported, not an error.
    expect(again).toMatchObject({ code: 0, stdout: `Not logged in to ${fx.host}\n` });
  });

  it('-p on the command line works but warns to use --password-stdin', async () => {
    const config = join(fx.dir, 'config.json');
    const result = await fx.run(
      ['login', fx.host, '-u', 'ferry', '-p', password(), '--registry-config', config],
      { config: false },
    );
    expect(result).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
    expect(result.stderr).toMatch(/^Warning: .*--password-stdin/);
  });

  it('without credentials, push and pull exit 1 with a Hint to run ferry login', async () => {
    await writeInputs(fx);
    const repo = fx.repo('anonymous');
    await fx.ok(['push', `${repo}:v1`, 'a.txt']);
    const nowhere = join(fx.dir, 'no-such', 'config.json');
    const env = { DOCKER_CONFIG: join(fx.dir, 'no-such') };
    const options = { config: false, env };
    const [pull, push] = await Promise.all([
      fx.run(['pull', `${repo}:v1`, '-o', 'out', '--registry-config', nowhere], options),
      fx.run(['push', `${repo}:v2`, 'a.txt', '--registry-config', nowhere], options),
    ]);
    for (const result of [pull, push]) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = linesOf(result.stderr);
      expect(lines[0]).toMatch(/^Error: /);
      expect(lines).toContain(`Hint: check your credentials, or log in: ferry login ${fx.host}`);
    }
  });

  it('login --debug shows neither the password nor a token', async () => {
    const result = await login(join(fx.dir, 'config.json'), password(), ['--debug']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('[debug] ');
    expect(result.stderr).toContain('authorization: Basic REDACTED');
    expect(result.stderr).not.toContain(password());
    expect(result.stderr).not.toMatch(/eyJ[\w-]{8,}\.eyJ/);
  });
}
