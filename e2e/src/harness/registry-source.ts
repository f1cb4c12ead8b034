import { run } from './process.js';
import { DOCKER_REGISTRY, ensureTool, findOnPath, manualInstallCommand } from './tool-install.js';

export type RegistrySource = { kind: 'docker' } | { kind: 'binary'; path: string };

type Log = (s: string) => void;

export async function findRegistryBinary(
  pathVar = process.env.PATH ?? '',
): Promise<string | undefined> {
  return findOnPath(DOCKER_REGISTRY.binaries, pathVar);
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

/**
 * Installs Debian's docker-registry with apt-get (the caller checked that it runs as root); parallel
 * test workers take turns on apt, and the rest find the binary already installed.
 */
export function installRegistryWithApt(log: Log): Promise<string> {
  return ensureTool(DOCKER_REGISTRY, log);
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
      `Fix one of these: \`${manualInstallCommand(DOCKER_REGISTRY)}\` (Debian/Ubuntu), or start Docker`,
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
