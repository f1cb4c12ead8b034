import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FerryError } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelperResult, HelperRunner } from './helper.js';
import { helperErase, helperGet, helperStore, spawnHelperRunner } from './helper.js';
import { CredentialStore } from './store.js';

const REF = { name: 'fake', source: '"credsStore" in /c/config.json' };

/** Answers every call with `result` and records what it was asked. */
function scripted(result: Partial<HelperResult>) {
  const calls: [string, string, string][] = [];
  const runner: HelperRunner = async (helper, action, input) => {
    calls.push([helper, action, input]);
    return { stdout: '', stderr: '', code: 0, ...result };
  };
  return { runner, calls };
}

async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('helperGet', () => {
  it('sends the server URL and reads Username/Secret', async () => {
    const { runner, calls } = scripted({
      stdout: '{"ServerURL":"ghcr.io","Username":"me","Secret":"s3cret"}\n',
    });
    expect(await helperGet(runner, REF, 'ghcr.io')).toEqual({ username: 'me', password: 's3cret' });
    expect(calls).toEqual([['fake', 'get', 'ghcr.io']]);
  });

  it('reads a <token> username as an identity token', async () => {
    const { runner } = scripted({ stdout: '{"Username":"<token>","Secret":"refresh"}' });
    expect(await helperGet(runner, REF, 'ghcr.io')).toEqual({ identityToken: 'refresh' });
  });

  it.each([
    { code: 1, stdout: 'credentials not found in native keychain\n' },
    { code: 1, stderr: 'Credentials not found' },
    { code: 0, stdout: 'credentials not found in native keychain' },
    { code: 0, stdout: '{"Username":"","Secret":""}' },
  ])('answers undefined when nothing is stored: %j', async (result) => {
    expect(await helperGet(scripted(result).runner, REF, 'x.io')).toBeUndefined();
  });

  it('reports failures with the helper name and exit status', async () => {
    const { runner } = scripted({ code: 3, stderr: 'keychain locked\nmore' });
    const error = await rejection(helperGet(runner, REF, 'x.io'));
    expect(error.code).toBe('ERR_CREDENTIAL_HELPER');
    expect(error.message).toBe(
      'docker-credential-fake get failed (exit status 3): keychain locked',
    );
  });

  it('does not echo output that is not the JSON it expects', async () => {
    const { runner } = scripted({ stdout: 'Secret: hunter2' });
    const error = await rejection(helperGet(runner, REF, 'x.io'));
    expect(error.code).toBe('ERR_CREDENTIAL_HELPER');
    expect(error.message).not.toContain('hunter2');
  });

  it('says a missing helper is not on PATH and where it was configured', async () => {
    const runner: HelperRunner = () =>
      Promise.reject(Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' }));
    const error = await rejection(helperGet(runner, REF, 'x.io'));
    expect(error.code).toBe('ERR_CREDENTIAL_HELPER');
    expect(error.message).toContain('docker-credential-fake is not on PATH');
    expect(error.message).toContain('/c/config.json');
  });

  it('refuses helper names that would make a path', async () => {
    const { runner, calls } = scripted({});
    for (const name of ['../../bin/sh', 'a/b', '', '-x']) {
      const error = await rejection(helperGet(runner, { ...REF, name }, 'x.io'));
      expect(error.code).toBe('ERR_CREDENTIAL_HELPER');
    }
    expect(calls).toEqual([]);
  });
});

describe('helperStore and helperErase', () => {
  it('stores a username and password as JSON on stdin', async () => {
    const { runner, calls } = scripted({});
    await helperStore(runner, REF, 'ghcr.io', { username: 'me', password: 'p' });
    expect(calls[0]?.[1]).toBe('store');
    expect(JSON.parse(calls[0]?.[2] ?? '')).toEqual({
      ServerURL: 'ghcr.io',
      Username: 'me',
      Secret: 'p',
    });
  });

  it('stores an identity token under <token>', async () => {
    const { runner, calls } = scripted({});
    await helperStore(runner, REF, 'ghcr.io', { username: 'me', identityToken: 'r' });
    expect(JSON.parse(calls[0]?.[2] ?? '')).toMatchObject({ Username: '<token>', Secret: 'r' });
  });

  it('refuses a registry token alone, and redacts the secret from failures', async () => {
    const { runner } = scripted({ code: 1, stderr: 'cannot store hunter2 now' });
    const refused = await rejection(helperStore(runner, REF, 'x.io', { registryToken: 't' }));
    expect(refused.code).toBe('ERR_INVALID_CREDENTIAL');
    const error = await rejection(
      helperStore(runner, REF, 'x.io', { username: 'u', password: 'hunter2' }),
    );
    expect(error.code).toBe('ERR_CREDENTIAL_HELPER');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('***');
  });

  it('erases, telling "not found" apart from failure', async () => {
    const ok = scripted({});
    expect(await helperErase(ok.runner, REF, 'x.io')).toBe(true);
    expect(ok.calls).toEqual([['fake', 'erase', 'x.io']]);
    const missing = scripted({ code: 1, stdout: 'credentials not found in native keychain' });
    expect(await helperErase(missing.runner, REF, 'x.io')).toBe(false);
    const broken = scripted({ code: 2, stderr: 'boom' });
    await expect(helperErase(broken.runner, REF, 'x.io')).rejects.toThrow(/erase failed/);
  });
});

describe.skipIf(process.platform === 'win32')('spawnHelperRunner', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-helper-'));
    // Echoes its action and stdin, and writes to stderr, exiting with a chosen status.
    const script = '#!/bin/sh\ninput=$(cat)\necho "$1:$input"\necho oops >&2\nexit "${EXIT:-0}"\n';
    await writeFile(join(dir, 'docker-credential-echo'), script);
    await chmod(join(dir, 'docker-credential-echo'), 0o755);
    // Never answers: a helper waiting on a locked keychain. Writes its pid first.
    const hang = '#!/bin/sh\necho $$ > "$PIDFILE"\nexec sleep 60\n';
    await writeFile(join(dir, 'docker-credential-hang'), hang);
    await chmod(join(dir, 'docker-credential-hang'), 0o755);
    env = { PATH: `${dir}${delimiter}${process.env['PATH'] ?? ''}` };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs docker-credential-<name> from env.PATH with the input on stdin', async () => {
    const run = spawnHelperRunner(env);
    expect(await run('echo', 'get', 'ghcr.io')).toEqual({
      stdout: 'get:ghcr.io\n',
      stderr: 'oops\n',
      code: 0,
    });
    expect((await spawnHelperRunner({ ...env, EXIT: '4' })('echo', 'erase', 'x')).code).toBe(4);
  });

  it('rejects with ENOENT for a helper that is not installed, turned into a FerryError', async () => {
    const run = spawnHelperRunner(env);
    await expect(run('missing-ferry-test', 'get', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    const error = await rejection(helperGet(run, { ...REF, name: 'missing-ferry-test' }, 'x'));
    expect(error.message).toContain('docker-credential-missing-ferry-test is not on PATH');
  });

  it('stops a helper that hangs, naming it, and kills its process (issue 13 item 4)', async () => {
    const pidFile = join(dir, 'hang.pid');
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify({ credsStore: 'hang' }));
    const store = new CredentialStore({
      configPath,
      env: { ...env, PIDFILE: pidFile },
      helperTimeoutMs: 300,
    });
    const started = Date.now();
    const error = await rejection(store.get('registry.example'));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.code).toBe('ERR_CREDENTIAL_HELPER');
    expect(error.message).toContain('docker-credential-hang get did not answer within 300 ms');
    expect(error.message).toContain(`"credsStore" in ${configPath}`);
    // The helper process was killed, not left behind: its pid disappears (reaped by Node).
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(pid).toBeGreaterThan(0);
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(isAlive(pid)).toBe(false);
  });

  it('defaults to 30 s', async () => {
    const { DEFAULT_HELPER_TIMEOUT_MS } = await import('./helper.js');
    expect(DEFAULT_HELPER_TIMEOUT_MS).toBe(30_000);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
