import { constants as fsConstants } from 'node:fs';
import { access, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isPidAlive, run, sleep } from './process.js';

export type RegistrySource = { kind: 'docker' } | { kind: 'binary'; path: string };

type Log = (s: string) => void;

const BINARY_NAMES = ['registry', 'docker-registry'];
const APT_LOCK = join(tmpdir(), 'ferry-e2e-apt.lock');

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function findRegistryBinary(
  pathVar = process.env.PATH ?? '',
): Promise<string | undefined> {
  for (const name of BINARY_NAMES) {
    for (const dir of pathVar.split(delimiter)) {
      if (dir === '') continue;
      const candidate = join(dir, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** `docker info` is the cheapest call that fails when the client exists but no engine answers. */
export async function dockerEngineAvailable(): Promise<boolean> {
  try {
    const r = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 5_000 });
    return r.code === 0;
  } catch {
    return false;
  }
}

async function acquireAptLock(deadline: number, log: Log): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      const fh = await open(APT_LOCK, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(APT_LOCK, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A worker that crashed mid-install must not block every later run, so a lock whose owner is
    // gone is broken rather than waited on.
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
}

/**
 * Installs Debian's docker-registry. Test workers run in parallel, so only one may drive apt at a
 * time (apt's own lock would make the others fail rather than wait); the rest wait for the lock
 * and then find the binary already installed.
 */
export async function installRegistryWithApt(log: Log): Promise<string> {
  const release = await acquireAptLock(Date.now() + 10 * 60_000, log);
  try {
    const already = await findRegistryBinary();
    if (already) return already;
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const steps: string[][] = [
      ['update'],
      ['install', '-y', '--no-install-recommends', 'docker-registry'],
    ];
    for (const args of steps) {
      log(`apt-get ${args.join(' ')}`);
      const r = await run('apt-get', args, { env, timeoutMs: 5 * 60_000, onLine: log });
      if (r.code !== 0) {
        const out = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-20).join('\n');
        throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.code ?? r.signal}):\n${out}`);
      }
    }
  } finally {
    await release();
  }
  // PATH may not include /usr/bin in odd environments; Debian always installs it there.
  const found = (await findRegistryBinary()) ?? '/usr/bin/docker-registry';
  if (!(await isExecutableFile(found))) {
    throw new Error('apt-get install docker-registry succeeded but no registry binary was found');
  }
  return found;
}

async function detectSource(log: Log): Promise<RegistrySource> {
  if (await dockerEngineAvailable()) {
    log('registry source: Docker engine (registry:2 image)');
    return { kind: 'docker' };
  }
  const binary = await findRegistryBinary();
  if (binary) {
    log(`registry source: ${binary}`);
    return { kind: 'binary', path: binary };
  }
  if (process.getuid?.() === 0) {
    log('registry source: none found; installing docker-registry with apt-get (running as root)');
    let path: string;
    try {
      path = await installRegistryWithApt(log);
    } catch (err) {
      throw new Error(
        `no registry:2 for the e2e tests and installing it failed: ${(err as Error).message}`,
      );
    }
    log(`registry source: ${path}`);
    return { kind: 'binary', path };
  }
  throw new Error(
    [
      'The e2e tests need a registry:2 server, and none is available:',
      '  - no running Docker engine (`docker info` failed), and',
      '  - no `registry` or `docker-registry` binary on PATH, and',
      '  - not running as root, so the harness cannot install one itself.',
      'Fix one of these: `sudo apt-get install docker-registry` (Debian/Ubuntu), or start Docker',
      'so the harness can run the registry:2 image (`docker pull registry:2`).',
    ].join('\n'),
  );
}

let cached: Promise<RegistrySource> | undefined;

/** Decided once per process: every test file in a worker uses the same source. */
export function resolveRegistrySource(log: Log = () => {}): Promise<RegistrySource> {
  cached ??= detectSource(log).catch((err: unknown) => {
    // A failure (say, a flaky apt mirror) should not poison later attempts in the same worker.
    cached = undefined;
    throw err;
  });
  return cached;
}
