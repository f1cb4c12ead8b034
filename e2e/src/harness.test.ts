import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryStartError, startRegistry } from './harness/index.js';

const pidGone = (pid: number): string | undefined => {
  try {
    process.kill(pid, 0);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
};

describe('registry harness lifecycle', () => {
  it('stop() leaves neither the process nor the work dir behind, and is idempotent', async () => {
    const registry = await startRegistry({ mode: 'anonymous' });
    expect(pidGone(registry.pid)).toBeUndefined();
    expect(existsSync(registry.workDir)).toBe(true);
    expect(registry.storageDir.startsWith(registry.workDir)).toBe(true);

    await Promise.all([registry.stop(), registry.stop()]);
    expect(pidGone(registry.pid)).toBe('ESRCH');
    expect(existsSync(registry.workDir)).toBe(false);
    await registry.stop();
  });

  it('cleans up and reports the config when /v2/ never answers in time', async () => {
    const lines: string[] = [];
    const err = await startRegistry({
      mode: 'token',
      readyTimeoutMs: 1,
      log: (s) => lines.push(s),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryStartError);
    expect((err as Error).message).toMatch(/did not answer within 1 ms/);
    expect((err as RegistryStartError).config).toContain('rootcertbundle:');
    expect((err as Error).message).toContain('--- config.yml ---');

    const workDir = /workDir (\S+)/.exec(lines.join('\n'))?.[1];
    const pid = Number(/\(pid (\d+)\)|host pid (\d+)/.exec(lines.join('\n'))?.[1]);
    expect(workDir).toBeTruthy();
    expect(existsSync(workDir!)).toBe(false);
    expect(pidGone(pid)).toBe('ESRCH');
  });

  describe('with a registry binary that dies at once', () => {
    let dir: string;
    let fake: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ferry-e2e-fake-'));
      fake = join(dir, 'registry');
      await writeFile(fake, '#!/bin/sh\necho "configuration error: boom in $2" >&2\nexit 3\n');
      await chmod(fake, 0o755);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('throws with the exit status, the stderr tail and the config', async () => {
      const err = await startRegistry({
        mode: 'basic',
        source: { kind: 'binary', path: fake },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryStartError);
      const message = (err as Error).message;
      expect(message).toContain('exited with code 3 before /v2/ answered');
      expect(message).toMatch(/configuration error: boom in \/.*config\.yml/);
      expect(message).toContain('version: 0.1');
      expect(message).toContain('htpasswd:');
    });
  });
});
