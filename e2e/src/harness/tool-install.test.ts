// The install decision for the e2e tests' external programs, with every command injected: no test
// here needs root, apt or a missing program on the real machine.
import { describe, expect, it } from 'vitest';
import type { AptResult, InstallHost, ToolSpec } from './tool-install.js';
import {
  DOCKER_REGISTRY,
  OPENSSL,
  SKOPEO,
  decideToolInstall,
  ensureTool,
  findOnPath,
  manualInstallCommand,
} from './tool-install.js';

interface FakeHost extends InstallHost {
  aptCalls: string[][];
  lockTaken: number;
  logged: string[];
}

/** A host whose PATH holds `present`; apt "installs" a package by adding its binaries to it. */
function fakeHost(opts: {
  root: boolean;
  present?: string[];
  apt?: boolean;
  env?: Record<string, string>;
  aptFails?: string;
  aptInstallsNothing?: boolean;
}): FakeHost {
  const present = new Set(opts.present ?? []);
  const host: FakeHost = {
    aptCalls: [],
    lockTaken: 0,
    logged: [],
    isRoot: () => opts.root,
    env: (name) => opts.env?.[name],
    findExecutable: async (names) => {
      const name = names.find((n) => present.has(n));
      return name === undefined ? undefined : name.startsWith('/') ? name : `/usr/bin/${name}`;
    },
    aptGetAvailable: async () => opts.apt ?? true,
    aptGet: async (args): Promise<AptResult> => {
      host.aptCalls.push(args);
      if (opts.aptFails && args[0] === opts.aptFails) {
        return { code: 100, output: 'E: Unable to locate package\n' };
      }
      if (args[0] === 'install' && !opts.aptInstallsNothing) {
        for (const spec of [SKOPEO, OPENSSL, DOCKER_REGISTRY]) {
          if (args.includes(spec.aptPackage)) present.add(spec.binaries.at(-1) as string);
        }
      }
      return { code: 0, output: '' };
    },
    withAptLock: async (fn) => {
      host.lockTaken += 1;
      return fn();
    },
  };
  return host;
}

const log = (host: FakeHost) => (line: string) => host.logged.push(line);

describe('decideToolInstall', () => {
  it('uses a program that is on PATH, root or not, without touching apt', async () => {
    for (const root of [true, false]) {
      const host = fakeHost({ root, present: ['skopeo'] });
      expect(await decideToolInstall(SKOPEO, host)).toEqual({
        action: 'use',
        path: '/usr/bin/skopeo',
      });
      expect(await ensureTool(SKOPEO, log(host), host)).toBe('/usr/bin/skopeo');
      expect(host.aptCalls).toEqual([]);
    }
  });

  it('installs a missing program with apt-get when root', async () => {
    const host = fakeHost({ root: true });
    expect(await decideToolInstall(SKOPEO, host)).toEqual({
      action: 'install',
      steps: [['update'], ['install', '-y', '--no-install-recommends', 'skopeo']],
    });
  });

  it('refuses when not root, naming the exact command and the override variable', async () => {
    const host = fakeHost({ root: false });
    const decision = await decideToolInstall(SKOPEO, host);
    expect(decision.action).toBe('refuse');
    const message = (decision as { message: string }).message;
    expect(message).toContain('skopeo not found on PATH');
    expect(message).toContain('`sudo apt-get install -y skopeo`');
    expect(message).toContain('SKOPEO=/path/to/skopeo');
    await expect(ensureTool(SKOPEO, log(host), host)).rejects.toThrow(
      'sudo apt-get install -y skopeo',
    );
    expect(host.aptCalls).toEqual([]);
  });

  it('refuses as root when there is no apt-get, still naming the command', async () => {
    const host = fakeHost({ root: true, apt: false });
    const decision = await decideToolInstall(OPENSSL, host);
    expect(decision).toMatchObject({ action: 'refuse' });
    expect((decision as { message: string }).message).toMatch(
      /no apt-get to install it with.*sudo apt-get install -y openssl/,
    );
  });

  it('takes the override variable at its word: used if executable, an error if not', async () => {
    const good = fakeHost({ root: true, present: ['/opt/skopeo'], env: { SKOPEO: '/opt/skopeo' } });
    expect(await decideToolInstall(SKOPEO, good)).toEqual({ action: 'use', path: '/opt/skopeo' });
    const bad = fakeHost({ root: true, present: ['skopeo'], env: { SKOPEO: '/nope/skopeo' } });
    expect(await decideToolInstall(SKOPEO, bad)).toEqual({
      action: 'refuse',
      message: expect.stringContaining('SKOPEO=/nope/skopeo is not an executable program'),
    });
  });

  it('finds docker-registry under either of its names', async () => {
    const host = fakeHost({ root: false, present: ['docker-registry'] });
    expect(await decideToolInstall(DOCKER_REGISTRY, host)).toEqual({
      action: 'use',
      path: '/usr/bin/docker-registry',
    });
    expect(manualInstallCommand(DOCKER_REGISTRY)).toBe('sudo apt-get install -y docker-registry');
  });
});

describe('ensureTool', () => {
  it('as root, runs apt-get update then install under the lock and returns the new path', async () => {
    const host = fakeHost({ root: true });
    expect(await ensureTool(SKOPEO, log(host), host)).toBe('/usr/bin/skopeo');
    expect(host.aptCalls).toEqual([
      ['update'],
      ['install', '-y', '--no-install-recommends', 'skopeo'],
    ]);
    expect(host.lockTaken).toBe(1);
    expect(host.logged).toContain('apt-get install -y --no-install-recommends skopeo');
  });

  it('does not run apt when another worker installed the program while this one waited', async () => {
    const host = fakeHost({ root: true });
    const spec: ToolSpec = { ...SKOPEO };
    let looked = 0;
    const find = host.findExecutable;
    // Missing at the decision, present once the lock is held.
    host.findExecutable = async (names) => (looked++ === 0 ? undefined : `/usr/bin/${names[0]}`);
    expect(await ensureTool(spec, log(host), host)).toBe('/usr/bin/skopeo');
    expect(host.aptCalls).toEqual([]);
    host.findExecutable = find;
  });

  it('a failing apt-get is an error with apt output and the command to run by hand', async () => {
    const host = fakeHost({ root: true, aptFails: 'install' });
    await expect(ensureTool(SKOPEO, log(host), host)).rejects.toThrow(
      /installing skopeo failed: apt-get install -y --no-install-recommends skopeo exited 100:\nE: Unable to locate package\nInstall it yourself: `sudo apt-get install -y skopeo`/,
    );
  });

  it('an install that leaves no binary on PATH is an error, not a path that does not exist', async () => {
    const host = fakeHost({ root: true, aptInstallsNothing: true });
    await expect(ensureTool(SKOPEO, log(host), host)).rejects.toThrow(
      'apt-get installed skopeo, but none of skopeo is on PATH',
    );
  });
});

describe('findOnPath', () => {
  it('finds node by name on a PATH of the directory holding it, and not on an empty PATH', async () => {
    const dir = process.execPath.slice(0, process.execPath.lastIndexOf('/'));
    const name = process.execPath.slice(dir.length + 1);
    expect(await findOnPath(['no-such-program-ferry', name], `/nonexistent:${dir}`)).toBe(
      process.execPath,
    );
    expect(await findOnPath([name], '')).toBeUndefined();
    expect(await findOnPath([process.execPath], '')).toBe(process.execPath);
  });
});
