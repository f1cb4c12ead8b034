/**
 * The external programs the e2e tests need (docker-registry, skopeo, openssl): found on PATH, or
 * installed with apt-get when the tests run as root (a CI container or a throwaway VM), or else a
 * failure that names the exact command to run. Nothing is ever installed for a user who is not
 * root, and apt never prompts (stdin closed, DEBIAN_FRONTEND=noninteractive, -y).
 */
import { constants as fsConstants } from 'node:fs';
import { access, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { isPidAlive, run, sleep } from './process.js';

export type Log = (line: string) => void;

export interface ToolSpec {
  /** What the user knows it as, for messages. */
  name: string;
  /** Executable names to look for on PATH, in order of preference. */
  binaries: string[];
  /** The Debian/Ubuntu package that provides one of `binaries`. */
  aptPackage: string;
  /** Why the tests need it, for the message when it is missing. */
  purpose: string;
  /** An environment variable that names the program explicitly (skips the search and the install). */
  overrideVar?: string;
}

export const SKOPEO: ToolSpec = {
  name: 'skopeo',
  binaries: ['skopeo'],
  aptPackage: 'skopeo',
  purpose: 'the interoperability tests compare ferry with skopeo',
  overrideVar: 'SKOPEO',
};

export const OPENSSL: ToolSpec = {
  name: 'openssl',
  binaries: ['openssl'],
  aptPackage: 'openssl',
  purpose: 'the TLS and token tests make per-run certificates with it',
  overrideVar: 'FERRY_E2E_OPENSSL',
};

export const DOCKER_REGISTRY: ToolSpec = {
  name: 'docker-registry',
  binaries: ['registry', 'docker-registry'],
  aptPackage: 'docker-registry',
  purpose: 'the demo and the e2e tests run a throwaway registry:2',
};

export interface AptResult {
  code: number | null;
  output: string;
}

/** Everything the install decision touches, injectable so that tests need neither root nor apt. */
export interface InstallHost {
  isRoot(): boolean;
  env(name: string): string | undefined;
  /** The first of `names` that is an executable file on PATH (or, if absolute, at that path). */
  findExecutable(names: string[]): Promise<string | undefined>;
  aptGetAvailable(): Promise<boolean>;
  aptGet(args: string[], log: Log): Promise<AptResult>;
  /** Runs `fn` while holding the cross-process apt lock (parallel test workers share one apt). */
  withAptLock<T>(fn: () => Promise<T>, log: Log): Promise<T>;
}

export type InstallDecision =
  | { action: 'use'; path: string }
  | { action: 'install'; steps: string[][] }
  | { action: 'refuse'; message: string };

/** The command a user who is not root runs to install the tool. */
export function manualInstallCommand(spec: ToolSpec): string {
  return `sudo apt-get install -y ${spec.aptPackage}`;
}

function missingMessage(spec: ToolSpec, reason: string): string {
  const override = spec.overrideVar
    ? `, or set ${spec.overrideVar}=/path/to/${spec.binaries[0]}`
    : '';
  return (
    `${spec.name} not found on PATH (${spec.binaries.join(' or ')}): ${spec.purpose}. ` +
    `${reason} Install it: \`${manualInstallCommand(spec)}\` (Debian/Ubuntu; ` +
    `elsewhere your system's ${spec.name} package)${override}.`
  );
}

/** What to do about one tool: use what is there, install it, or stop with the exact command. */
export async function decideToolInstall(
  spec: ToolSpec,
  host: InstallHost,
): Promise<InstallDecision> {
  const override = spec.overrideVar ? host.env(spec.overrideVar) : undefined;
  if (override) {
    const found = await host.findExecutable([override]);
    if (found) return { action: 'use', path: found };
    return {
      action: 'refuse',
      message: `${spec.overrideVar}=${override} is not an executable program (${spec.purpose}).`,
    };
  }
  const found = await host.findExecutable(spec.binaries);
  if (found) return { action: 'use', path: found };
  if (!host.isRoot()) {
    return {
      action: 'refuse',
      message: missingMessage(spec, 'The tests install it only when run as root.'),
    };
  }
  if (!(await host.aptGetAvailable())) {
    return {
      action: 'refuse',
      message: missingMessage(spec, 'Running as root, but there is no apt-get to install it with.'),
    };
  }
  return {
    action: 'install',
    steps: [['update'], ['install', '-y', '--no-install-recommends', spec.aptPackage]],
  };
}

/** Finds the tool, installing it with apt-get when root; throws with the exact command otherwise. */
export async function ensureTool(
  spec: ToolSpec,
  log: Log = () => {},
  host: InstallHost = systemHost,
): Promise<string> {
  const decision = await decideToolInstall(spec, host);
  if (decision.action === 'use') return decision.path;
  if (decision.action === 'refuse') throw new Error(decision.message);
  log(`${spec.name}: not found; installing ${spec.aptPackage} with apt-get (running as root)`);
  await host.withAptLock(async () => {
    // Another worker may have installed it while this one waited for the lock.
    if (await host.findExecutable(spec.binaries)) return;
    for (const args of decision.steps) {
      log(`apt-get ${args.join(' ')}`);
      const r = await host.aptGet(args, log);
      if (r.code !== 0) {
        const tail = r.output.trim().split('\n').slice(-20).join('\n');
        throw new Error(
          `installing ${spec.name} failed: apt-get ${args.join(' ')} exited ${r.code}:\n${tail}\n` +
            `Install it yourself: \`${manualInstallCommand(spec)}\`.`,
        );
      }
    }
  }, log);
  const installed = await host.findExecutable(spec.binaries);
  if (!installed) {
    throw new Error(
      `apt-get installed ${spec.aptPackage}, but none of ${spec.binaries.join(', ')} is on PATH ` +
        `(${host.env('PATH') ?? ''}).`,
    );
  }
  log(`${spec.name}: ${installed}`);
  return installed;
}

const memo = new Map<string, Promise<string>>();

/** `ensureTool` decided once per process and tool; a failure is not remembered (apt may recover). */
export function ensureToolOnce(spec: ToolSpec, log: Log = () => {}): Promise<string> {
  let pending = memo.get(spec.name);
  if (!pending) {
    pending = ensureTool(spec, log).catch((err: unknown) => {
      memo.delete(spec.name);
      throw err;
    });
    memo.set(spec.name, pending);
  }
  return pending;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` that is an executable file in a directory of `pathVar`. */
export async function findOnPath(
  names: string[],
  pathVar = process.env.PATH ?? '',
): Promise<string | undefined> {
  for (const name of names) {
    if (isAbsolute(name)) {
      if (await isExecutableFile(name)) return name;
      continue;
    }
    for (const dir of pathVar.split(delimiter)) {
      if (dir === '') continue;
      const candidate = join(dir, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

const APT_LOCK = join(tmpdir(), 'ferry-e2e-apt.lock');

/**
 * Only one test worker may drive apt at a time (apt's own lock would make the others fail rather
 * than wait). A lock whose owner is gone is broken rather than waited on, so a worker that crashed
 * mid-install does not block every later run.
 */
async function withAptLock<T>(fn: () => Promise<T>, log: Log): Promise<T> {
  const deadline = Date.now() + 10 * 60_000;
  let announced = false;
  for (;;) {
    try {
      const fh = await open(APT_LOCK, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(APT_LOCK, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && !isPidAlive(owner)) {
      await rm(APT_LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${APT_LOCK}`);
    if (!announced) log(`waiting for another test worker's apt-get install (${APT_LOCK})`);
    announced = true;
    await sleep(1_000);
  }
  try {
    return await fn();
  } finally {
    await rm(APT_LOCK, { force: true });
  }
}

export const systemHost: InstallHost = {
  isRoot: () => process.getuid?.() === 0,
  env: (name) => process.env[name],
  // Debian installs into /usr/bin even when an odd environment leaves it off PATH.
  findExecutable: async (names) =>
    (await findOnPath(names)) ??
    (await findOnPath(
      names.filter((n) => !isAbsolute(n)),
      '/usr/bin',
    )),
  aptGetAvailable: async () => (await findOnPath(['apt-get', '/usr/bin/apt-get'])) !== undefined,
  aptGet: async (args, log) => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const r = await run('apt-get', args, { env, timeoutMs: 5 * 60_000, onLine: log });
    return { code: r.code, output: `${r.stdout}\n${r.stderr}` };
  },
  withAptLock,
};
