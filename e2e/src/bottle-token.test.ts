// Bottles on a registry that wants a token: credentials from `ferry login` in a --registry-config
// file, used by `bottle push`, `bottle info` and `bottle pull` through the token exchange.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBottleRegistry } from './support/bottle-fixture.js';
import { makeTab, writeBottle, type Bottle } from './support/bottle-tarball.js';

const fx = useBottleRegistry('token');
let config: string;
let bottle: Bottle;

beforeAll(async () => {
  const dir = await fx.dir('token');
  config = join(dir, 'config.json');
  const user = fx.reg.users.find((u) => u.access === 'read-write')!;
  const login = await fx.run(
    ['login', fx.host, '-u', user.username, '--password-stdin', '--registry-config', config],
    { input: `${user.password}\n` },
  );
  expect(login.code, login.stderr).toBe(0);
  bottle = await writeBottle(dir, {
    name: 'private',
    version: '0.1.0',
    tag: 'arm64_linux',
    receipt: makeTab({ arch: 'arm64' }),
  });
});

describe('bottles on a token-auth registry', () => {
  it('push, info and pull with the credentials of ferry login', async () => {
    const auth = ['--registry', fx.host, '--registry-config', config];
    const issuedBefore = fx.reg.tokenServer!.issued;
    const pushed = await fx.ok(['bottle', 'push', bottle.path, ...auth]);
    expect(pushed.stdout).toContain(`Pushed [registry] ${fx.host}/homebrew/core/private:0.1.0`);
    const info = JSON.parse(
      (await fx.ok(['bottle', 'info', 'private', ...auth, '--format', 'json'])).stdout,
    ) as { bottles: { tag: string; digest: string }[] };
    expect(info.bottles).toEqual([
      expect.objectContaining({ tag: 'arm64_linux', digest: `sha256:${bottle.sha256}` }),
    ]);
    const out = await fx.dir('pulled');
    await fx.ok(['bottle', 'pull', 'private', '--tag', 'arm64_linux', '-o', out, ...auth]);
    expect(await readdir(out)).toEqual([bottle.fileName]);
    expect((await readFile(join(out, bottle.fileName))).equals(bottle.bytes)).toBe(true);
    expect(fx.reg.tokenServer!.issued).toBeGreaterThan(issuedBefore);
  });

  it('without credentials the pull exits 1 with a hint to log in', async () => {
    const out = await fx.dir('anonymous');
    const nowhere = join(out, 'no-config.json');
    const result = await fx.run([
      'bottle',
      'pull',
      'private',
      '--tag',
      'arm64_linux',
      '-o',
      out,
      '--registry',
      fx.host,
      '--registry-config',
      nowhere,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ferry login ${fx.host}`);
  });
});

describe('brew pr-upload’s credentials', () => {
  it('HOMEBREW_GITHUB_PACKAGES_USER/TOKEN push without any stored login', async () => {
    const user = fx.reg.users.find((u) => u.access === 'read-write')!;
    const dir = await fx.dir('env-credentials');
    const nowhere = join(dir, 'no-config.json');
    const envBottle = await writeBottle(dir, {
      name: 'envpushed',
      version: '1.2',
      tag: 'x86_64_linux',
      receipt: makeTab(),
    });
    const where = ['--registry', fx.host, '--registry-config', nowhere];
    const refused = await fx.run(['bottle', 'push', envBottle.path, ...where]);
    expect(refused.code).toBe(1);
    const issuedBefore = fx.reg.tokenServer!.issued;
    const pushed = await fx.run(['bottle', 'push', envBottle.path, ...where], {
      env: {
        HOMEBREW_GITHUB_PACKAGES_USER: user.username,
        HOMEBREW_GITHUB_PACKAGES_TOKEN: user.password,
      },
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain(`Pushed [registry] ${fx.host}/homebrew/core/envpushed:1.2`);
    expect(fx.reg.tokenServer!.issued).toBeGreaterThan(issuedBefore);
    // One without the other is refused before anything is read or sent, naming the missing one.
    const half = await fx.run(['bottle', 'push', envBottle.path, ...where], {
      env: { HOMEBREW_GITHUB_PACKAGES_USER: user.username },
    });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('HOMEBREW_GITHUB_PACKAGES_TOKEN is unset');
  });
});
