import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HelperRunner } from './helper.js';
import { CredentialStore, credentialProvider, DOCKER_HUB_KEY } from './index.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const isPosix = process.platform !== 'win32';
const procfs = process.platform === 'linux' && existsSync('/proc/self');

let home: string;
let configFile: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'ferry-creds-'));
  configFile = join(home, '.docker', 'config.json');
});
afterEach(() => rm(home, { recursive: true, force: true }));

async function writeConfig(config: unknown, file = configFile): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config));
}
const readConfig = async (file = configFile) => JSON.parse(await readFile(file, 'utf8'));
const storeFor = (helperRunner?: HelperRunner) =>
  new CredentialStore({ env: { HOME: home }, ...(helperRunner ? { helperRunner } : {}) });

/** A fake helper keeping one map in memory, recording calls. */
function memoryHelper() {
  const kept = new Map<string, { Username: string; Secret: string }>();
  const calls: string[] = [];
  const runner: HelperRunner = async (helper, action, input) => {
    calls.push(`${helper} ${action}`);
    if (action === 'store') {
      const { ServerURL, Username, Secret } = JSON.parse(input);
      kept.set(ServerURL, { Username, Secret });
      return { stdout: '', stderr: '', code: 0 };
    }
    const found = kept.get(input);
    if (!found)
      return { stdout: 'credentials not found in native keychain\n', stderr: '', code: 1 };
    if (action === 'erase') kept.delete(input);
    return { stdout: action === 'get' ? JSON.stringify(found) : '', stderr: '', code: 0 };
  };
  return { runner, kept, calls };
}

describe('reading auths', () => {
  it('resolves the path from configPath, DOCKER_CONFIG, then HOME', async () => {
    const elsewhere = join(home, 'dc');
    await writeConfig(
      { auths: { 'a.io': { auth: b64('from:docker-config') } } },
      join(elsewhere, 'config.json'),
    );
    await writeConfig({ auths: { 'a.io': { auth: b64('from:home') } } });
    const explicit = join(home, 'explicit.json');
    await writeConfig({ auths: { 'a.io': { auth: b64('from:explicit') } } }, explicit);
    const env = { HOME: home, DOCKER_CONFIG: elsewhere };
    expect(new CredentialStore({ env }).path).toBe(join(elsewhere, 'config.json'));
    expect(await new CredentialStore({ env }).get('a.io')).toMatchObject({
      password: 'docker-config',
    });
    expect(await new CredentialStore({ env, configPath: explicit }).get('a.io')).toMatchObject({
      password: 'explicit',
    });
    expect(storeFor().path).toBe(configFile);
    expect(await storeFor().get('a.io')).toMatchObject({ password: 'home' });
  });

  it('reads auth with colons in the password, and identity tokens', async () => {
    await writeConfig({
      auths: {
        'ghcr.io': { auth: b64('me:pa:ss') },
        'quay.io': { auth: b64('<token>:'), identitytoken: 'refresh' },
        'tok.io': { registrytoken: 'bearer' },
      },
    });
    const store = storeFor();
    expect(await store.get('ghcr.io')).toEqual({ username: 'me', password: 'pa:ss' });
    expect(await store.get('quay.io')).toEqual({ identityToken: 'refresh' });
    expect(await store.get('tok.io')).toEqual({ registryToken: 'bearer' });
    expect(await store.get('other.io')).toBeUndefined();
  });

  it.each([
    DOCKER_HUB_KEY,
    'index.docker.io',
    'docker.io',
    'registry-1.docker.io',
    'https://index.docker.io/v2/',
  ])('finds Docker Hub credentials written under %s by any of its names', async (key) => {
    await writeConfig({ auths: { [key]: { auth: b64('hub:pw') } } });
    for (const host of ['docker.io', 'registry-1.docker.io', 'index.docker.io']) {
      expect(await storeFor().get(host)).toEqual({ username: 'hub', password: 'pw' });
    }
  });

  it.each([
    'https://localhost:5000',
    'http://localhost:5000',
    'localhost:5000/v1/',
    'https://localhost:5000/v2/',
  ])('matches the key %s for localhost:5000', async (key) => {
    await writeConfig({
      auths: { [key]: { auth: b64('u:p') }, 'localhost:5001': { auth: b64('x:y') } },
    });
    expect(await storeFor().get('localhost:5000')).toEqual({ username: 'u', password: 'p' });
  });

  it('prefers the canonical key, then falls back to a variant when it is empty', async () => {
    await writeConfig({
      auths: { 'https://ghcr.io': { auth: b64('old:1') }, 'ghcr.io': { auth: b64('new:2') } },
    });
    expect(await storeFor().get('ghcr.io')).toEqual({ username: 'new', password: '2' });
    await writeConfig({ auths: { 'ghcr.io': {}, 'https://ghcr.io': { auth: b64('old:1') } } });
    expect(await storeFor().get('ghcr.io')).toEqual({ username: 'old', password: '1' });
  });

  it('treats a missing file as no credentials, and malformed JSON as an error', async () => {
    expect(await storeFor().get('ghcr.io')).toBeUndefined();
    await writeConfig('{"auths": {"ghcr.io": {"auth": "c2VjcmV0OnB3"}},}');
    const error = await storeFor()
      .get('ghcr.io')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CREDENTIALS_CONFIG' });
    expect((error as Error).message).toContain(configFile);
    expect((error as Error).message).not.toContain('c2VjcmV0');
  });
});

describe('helpers', () => {
  const config = {
    auths: { 'ghcr.io': { auth: b64('plain:text') } },
    credsStore: 'store',
    credHelpers: { 'https://ghcr.io': 'special', 'none.io': '' },
  };

  it('uses credHelpers over credsStore over auths', async () => {
    await writeConfig(config);
    const { runner, kept, calls } = memoryHelper();
    kept.set('ghcr.io', { Username: 'from', Secret: 'helper' });
    kept.set('quay.io', { Username: '<token>', Secret: 'refresh' });
    const store = storeFor(runner);
    expect(await store.get('ghcr.io')).toEqual({ username: 'from', password: 'helper' });
    expect(await store.get('quay.io')).toEqual({ identityToken: 'refresh' });
    expect(await store.get('none.io')).toBeUndefined();
    expect(calls).toEqual(['special get', 'store get', 'store get']);
  });

  it('stores and erases through the helper, leaving docker’s empty auths entry', async () => {
    await writeConfig({ ...config, credHelpers: {} });
    const { runner, kept } = memoryHelper();
    const store = storeFor(runner);
    await store.store('docker.io', { username: 'hub', password: 'pw' });
    expect(kept.get(DOCKER_HUB_KEY)).toEqual({ Username: 'hub', Secret: 'pw' });
    expect((await readConfig()).auths[DOCKER_HUB_KEY]).toEqual({});
    await store.store('ghcr.io', { username: 'u', password: 'p' });
    expect((await readConfig()).auths['ghcr.io']).toEqual({}); // the plaintext secret is gone
    await store.erase('docker.io');
    expect(kept.has(DOCKER_HUB_KEY)).toBe(false);
    expect((await readConfig()).auths).toEqual({ 'ghcr.io': {} });
    await expect(store.erase('docker.io')).rejects.toMatchObject({ code: 'ERR_NOT_LOGGED_IN' });
  });

  it('leaves the file alone when the helper fails', async () => {
    await writeConfig(config);
    const before = await readFile(configFile, 'utf8');
    const runner: HelperRunner = async () => ({ stdout: '', stderr: 'locked', code: 1 });
    await expect(
      storeFor(runner).store('quay.io', { username: 'u', password: 'p' }),
    ).rejects.toMatchObject({
      code: 'ERR_CREDENTIAL_HELPER',
    });
    expect(await readFile(configFile, 'utf8')).toBe(before);
  });

  describe.skipIf(!isPosix)('with a real docker-credential-fake on PATH', () => {
    const script = `#!/bin/sh
# One slot, kept in a file next to the script; good enough for one host.
slot="$(dirname "$0")/slot.json"
case "$1" in
  store) cat > "$slot" ;;
  get) url=$(cat)
       if [ -f "$slot" ] && grep -qF "\\"ServerURL\\":\\"$url\\"" "$slot"; then cat "$slot"
       else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) url=$(cat)
       if [ -f "$slot" ]; then rm "$slot"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) exit 2 ;;
esac
`;
    let env: NodeJS.ProcessEnv;
    beforeEach(async () => {
      const bin = join(home, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'docker-credential-fake'), script, { mode: 0o755 });
      env = { HOME: home, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` };
    });

    it('round-trips a login through the helper', async () => {
      await writeConfig({ credsStore: 'fake', auths: { 'ghcr.io': { auth: b64('plain:x') } } });
      const store = new CredentialStore({ env });
      expect(await store.get('ghcr.io')).toBeUndefined(); // the helper wins even when empty
      await store.store('ghcr.io', { username: 'me', password: 'pw:1' });
      expect(JSON.parse(await readFile(join(home, 'bin', 'slot.json'), 'utf8'))).toEqual({
        ServerURL: 'ghcr.io',
        Username: 'me',
        Secret: 'pw:1',
      });
      expect(await store.get('ghcr.io')).toEqual({ username: 'me', password: 'pw:1' });
      expect(await readConfig()).toEqual({ credsStore: 'fake', auths: { 'ghcr.io': {} } });
      await store.erase('ghcr.io');
      expect(await store.get('ghcr.io')).toBeUndefined();
      expect(await readConfig()).toEqual({ credsStore: 'fake', auths: {} });
      await expect(store.erase('ghcr.io')).rejects.toMatchObject({ code: 'ERR_NOT_LOGGED_IN' });
    });

    it('reports a helper that is not installed', async () => {
      await writeConfig({ credHelpers: { 'ghcr.io': 'absent' } });
      const error = await new CredentialStore({ env }).get('ghcr.io').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_CREDENTIAL_HELPER' });
      expect((error as Error).message).toContain('docker-credential-absent is not on PATH');
    });
  });
});

describe('writing auths', () => {
  const others = {
    auths: {
      'other.io': { auth: b64('o:p'), email: 'o@x' },
      'ghcr.io': { auth: b64('a:b'), email: 'me@x' },
    },
    credHelpers: { 'gcr.io': 'gcloud' },
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
    psFormat: 'table {{.ID}}',
    experimental: 'enabled',
    plugins: { x: { y: 'z' } },
  };

  it('round-trips store and erase, preserving everything else', async () => {
    await writeConfig(others);
    const store = storeFor();
    await store.store('ghcr.io', { username: 'new', password: 'p:w' });
    const stored = await readConfig();
    expect(stored).toEqual({
      ...others,
      auths: { ...others.auths, 'ghcr.io': { email: 'me@x', auth: b64('new:p:w') } },
    });
    expect(await store.get('ghcr.io')).toEqual({ username: 'new', password: 'p:w' });
    await store.store('docker.io', { username: 'hub', identityToken: 'refresh' });
    expect((await readConfig()).auths[DOCKER_HUB_KEY]).toEqual({
      auth: b64('hub:'),
      identitytoken: 'refresh',
    });
    expect(await store.get('registry-1.docker.io')).toEqual({
      username: 'hub',
      identityToken: 'refresh',
    });
    await store.erase('ghcr.io');
    await store.erase('index.docker.io');
    expect(await readConfig()).toEqual({
      ...others,
      auths: { 'other.io': others.auths['other.io'] },
    });
  });

  it('erases every variant of the host', async () => {
    await writeConfig({
      auths: { 'ghcr.io': {}, 'https://ghcr.io/v2/': { auth: b64('a:b') }, 'x.io': {} },
    });
    await storeFor().erase('https://ghcr.io');
    expect(await readConfig()).toEqual({ auths: { 'x.io': {} } });
  });

  it('throws ERR_NOT_LOGGED_IN for a host that was never stored', async () => {
    await expect(storeFor().erase('ghcr.io')).rejects.toMatchObject({ code: 'ERR_NOT_LOGGED_IN' });
    await writeConfig(others);
    await expect(storeFor().erase('quay.io')).rejects.toMatchObject({ code: 'ERR_NOT_LOGGED_IN' });
  });

  it('refuses to store nothing', async () => {
    await expect(storeFor().store('ghcr.io', {})).rejects.toMatchObject({
      code: 'ERR_INVALID_CREDENTIAL',
    });
  });

  it.skipIf(!isPosix)('creates the directory 0700 and keeps the file 0600', async () => {
    const store = storeFor();
    await store.store('ghcr.io', { username: 'u', password: 'p' });
    expect(statSync(join(home, '.docker')).mode & 0o777).toBe(0o700);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    await chmod(configFile, 0o644);
    await store.store('quay.io', { username: 'u', password: 'p' });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(await readdir(join(home, '.docker'))).toEqual(['config.json']);
  });

  it.skipIf(!isPosix)('updates a symlinked config through the link', async () => {
    const real = join(home, 'dotfiles', 'docker.json');
    await writeConfig({ auths: {} }, real);
    await mkdir(join(home, '.docker'));
    await symlink(real, configFile);
    await storeFor().store('ghcr.io', { username: 'u', password: 'p' });
    expect((await readConfig(real)).auths['ghcr.io']).toEqual({ auth: b64('u:p') });
    expect(await readConfig()).toEqual(await readConfig(real));
  });

  // Node 20's recursive mkdir never settles under /proc: a login there hung for ever.
  it.skipIf(!procfs)(
    'fails at once, naming the config, when its directory cannot be made (/proc)',
    async () => {
      const store = new CredentialStore({ configPath: '/proc/ferry-test/config.json' });
      const error = await store.store('ghcr.io', { username: 'u', password: 'hunter2' }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe('ERR_CREDENTIALS_CONFIG');
      expect(error?.message).toMatch(
        /^\/proc\/ferry-test\/config\.json: cannot write the file: cannot create the directory \/proc\/ferry-test: /,
      );
      expect(error?.message).not.toContain('hunter2');
    },
    1000,
  );

  it('does not lose concurrent logins from one store', async () => {
    const store = storeFor();
    await Promise.all(
      ['a.io', 'b.io', 'c.io'].map((h) => store.store(h, { username: h, password: 'p' })),
    );
    expect(Object.keys((await readConfig()).auths).sort()).toEqual(['a.io', 'b.io', 'c.io']);
    const provide = credentialProvider(store);
    expect(await provide('b.io')).toEqual({ username: 'b.io', password: 'p' });
  });
});
