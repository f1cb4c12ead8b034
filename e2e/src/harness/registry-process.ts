import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { RegistrySource } from './registry-source.js';
import { run, sleep } from './process.js';
import { RegistryOutputFile } from './registry-output.js';

/** A started registry:2, however it was started. */
export interface RegistryProcess {
  /** Host pid of the registry (for Docker, the container's init process as the host sees it). */
  pid: number;
  description: string;
  /** null while running; otherwise how it ended. */
  exitStatus(): Promise<string | null>;
  /** The last lines the registry wrote, for error messages. */
  outputTail(): Promise<string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it is really gone. Idempotent. */
  stop(): Promise<void>;
  /** Synchronous last resort for process 'exit', where nothing asynchronous runs any more. */
  killSync(): void;
}

const STOP_GRACE_MS = 3_000;

/** REGISTRY_* variables override config.yml keys; a stray one in the caller's shell would silently
 * change the test registry, so the child never sees them. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toUpperCase().startsWith('REGISTRY_')),
  );
}

function launchBinary(
  path: string,
  workDir: string,
  configPath: string,
  log?: (s: string) => void,
) {
  const output = new RegistryOutputFile(workDir, log);
  let child: ChildProcess;
  try {
    child = spawn(path, ['serve', configPath], {
      stdio: ['ignore', output.fd, output.fd],
      env: cleanEnv(),
    });
  } catch (error) {
    output.close();
    throw error;
  }
  let status: string | null = null;
  let tail = '';
  const exited = new Promise<void>((resolve) => {
    const ended = (why: string) => {
      // 'error' and 'exit' can both come; the first says why.
      if (status !== null) return;
      status = why;
      // The file goes away with the work dir; keep what an error message may still ask for.
      output.finish();
      tail = output.tail();
      output.close();
      resolve();
    };
    child.once('error', (err) => ended(`could not be started: ${err.message}`));
    child.once('exit', (code, signal) =>
      ended(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    );
  });

  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT asynchronously; give it a tick so the message is the real reason.
    return exited.then(() => {
      throw new Error(`${path} ${status ?? 'could not be started'}`);
    });
  }

  let stopping: Promise<void> | undefined;
  const proc: RegistryProcess = {
    pid,
    description: `${path} serve ${configPath} (pid ${pid})`,
    exitStatus: async () => status,
    outputTail: async () => (status === null ? output.tail() : tail),
    stop() {
      stopping ??= (async () => {
        if (status !== null) return;
        child.kill('SIGTERM');
        const timedOut = await Promise.race([
          exited.then(() => false),
          sleep(STOP_GRACE_MS).then(() => true),
        ]);
        if (timedOut && status === null) child.kill('SIGKILL');
        await exited;
      })();
      return stopping;
    },
    killSync() {
      if (status === null) child.kill('SIGKILL');
    },
  };
  return Promise.resolve(proc);
}

async function docker(args: string[], timeoutMs = 30_000) {
  return run('docker', args, { timeoutMs });
}

async function launchDocker(workDir: string, configPath: string): Promise<RegistryProcess> {
  // No --rm: a container that dies at start-up must keep its logs for the error message; stop()
  // and the exit hook remove it explicitly instead.
  const args = ['run', '-d', '--network', 'host'];
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  // Run as the caller so storage written into the bind mount can be deleted without root.
  if (uid !== undefined && gid !== undefined) args.push('--user', `${uid}:${gid}`);
  // Same path inside and out, so every path in config.yml is valid on both sides.
  args.push('-v', `${workDir}:${workDir}`, 'registry:2', configPath);
  // Generous: the first run may have to pull the image.
  const started = await docker(args, 240_000);
  const id = started.stdout.trim().split('\n').pop() ?? '';
  if (started.code !== 0 || !/^[0-9a-f]{12,}$/.test(id)) {
    // A container can be created and then fail to start; don't leave it lying around.
    if (/^[0-9a-f]{12,}$/.test(id)) await docker(['rm', '-f', id]);
    throw new Error(`docker ${args.join(' ')} failed (exit ${started.code}):\n${started.stderr}`);
  }
  const inspected = await docker(['inspect', '--format', '{{.State.Pid}}', id]);
  const pid = Number(inspected.stdout.trim());

  let lastLogs = '';
  let stopping: Promise<void> | undefined;
  const proc: RegistryProcess = {
    pid: Number.isInteger(pid) ? pid : 0,
    description: `docker container ${id.slice(0, 12)} (registry:2, host pid ${pid})`,
    async exitStatus() {
      const r = await docker(['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', id]);
      if (r.code !== 0) return 'is gone (container no longer exists)';
      const [running, code] = r.stdout.trim().split(' ');
      return running === 'true' ? null : `exited with code ${code}`;
    },
    async outputTail() {
      const r = await docker(['logs', '--tail', '40', id]);
      if (r.code === 0) lastLogs = `${r.stdout}${r.stderr}`.trim();
      return lastLogs;
    },
    stop() {
      stopping ??= (async () => {
        // `docker stop` would wait its own 10 s grace; match the binary path's ~3 s instead.
        await docker(['stop', '--time', String(STOP_GRACE_MS / 1000), id]);
        // Removing the container loses its logs; keep them for an error message built afterwards.
        await proc.outputTail();
        await docker(['rm', '-f', id]);
      })();
      return stopping;
    },
    killSync() {
      spawnSync('docker', ['rm', '-f', id], { stdio: 'ignore', timeout: 15_000 });
    },
  };
  return proc;
}

export function launchRegistry(
  source: RegistrySource,
  workDir: string,
  configPath: string,
  log?: (s: string) => void,
): Promise<RegistryProcess> {
  return source.kind === 'docker'
    ? launchDocker(workDir, configPath)
    : launchBinary(source.path, workDir, configPath, log);
}
