/**
 * Stops a test registry and starts a second registry:2 process on the same config.yml (same port,
 * storage and http.secret, so upload sessions stay valid), the way an operator restarts one.
 */
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerExitCleanup } from '../harness/exit-cleanup.js';
import { isPidAlive, launchRegistry, resolveRegistrySource } from '../harness/index.js';
import type { RegistryProcess, TestRegistry } from '../harness/index.js';
import type { RegistryRestarter } from './proxy.js';

export interface RestartableRegistry extends RegistryRestarter {
  /** How many times the registry was started again. */
  readonly restarts: number;
  /** Stops the process this helper started, if any (the original is stopped by `reg.stop()`). */
  close(): Promise<void>;
}

/** GET /v2/ answered by a registry (200 or 401 with the API version header). */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v2/`, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.headers['docker-distribution-api-version'] === 'registry/2.0');
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export function restartable(reg: TestRegistry, log?: (s: string) => void): RestartableRegistry {
  let current: RegistryProcess | undefined;
  let forget: (() => void) | undefined;
  let restarts = 0;

  const stopOriginal = async () => {
    process.kill(reg.pid, 'SIGTERM');
    const deadline = Date.now() + 5_000;
    while (isPidAlive(reg.pid)) {
      if (Date.now() > deadline) process.kill(reg.pid, 'SIGKILL');
      await sleep(20);
    }
  };

  return {
    get restarts() {
      return restarts;
    },
    async stop() {
      if (current) {
        await current.stop();
        forget?.();
        current = undefined;
      } else {
        await stopOriginal();
      }
    },
    async start() {
      const source = await resolveRegistrySource(log);
      const proc = await launchRegistry(source, reg.workDir, reg.configFile, log);
      current = proc;
      forget = registerExitCleanup(() => proc.killSync());
      restarts++;
      const deadline = Date.now() + 20_000;
      while (!(await answers(reg.url))) {
        const exited = await proc.exitStatus();
        if (exited !== null || Date.now() > deadline) {
          throw new Error(
            `restarted registry ${exited ?? 'did not answer'}:\n${await proc.outputTail()}`,
          );
        }
        await sleep(50);
      }
    },
    async close() {
      await current?.stop();
      forget?.();
      current = undefined;
    },
  };
}
