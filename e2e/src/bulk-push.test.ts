// `ferry push` of a file large enough for the bulk upload (read into two fixed buffers and sent
// chunked over a connection of its own, see packages/registry/src/chunked-upload.ts) against
// registry:2: anonymous, over TLS with the run's CA, and with a bearer token from the harness's
// token server (which the PATCH must carry). The --debug trace shows the path taken; the blob the
// registry stored is the file's bytes (pulled back and compared), and no secret is in the trace.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linesOf, sha256, useCliFixture } from './support/cli-fixture.js';

const MiB = 1024 * 1024;
/** Above the size from which a push streams while hashing (16 MiB). */
const SIZE = 24 * MiB;

/** The upload URLs a --debug run says it sent over a connection of its own. */
function ownUploads(stderr: string): string[] {
  return linesOf(stderr).flatMap((line) => {
    const match = /^\[debug\] \* PATCH (\S+): own connection$/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

for (const mode of ['anonymous', 'tls', 'token'] as const) {
  describe(`ferry push of a ${SIZE / MiB} MiB file (${mode})`, () => {
    const fx = useCliFixture(mode);
    const tlsFlags = (): string[] => (mode === 'tls' ? ['--ca-file', fx.reg.caFile ?? ''] : []);

    it('uploads it on its own connection; the registry holds exactly the file', async () => {
      const bytes = randomBytes(SIZE);
      await fx.write('big.bin', bytes);
      const ref = `${fx.repo('bulk-push')}:v1`;
      const pushed = await fx.ok(['push', ref, 'big.bin', '--debug', '--no-tty', ...tlsFlags()], {
        env: { FERRY_CACHE: join(fx.dir, 'push-cache') },
      });
      const uploads = ownUploads(pushed.stderr);
      expect(uploads, pushed.stderr).toHaveLength(1);
      expect(uploads[0]).toContain(`${fx.host}/v2/`);
      if (fx.password) expect(pushed.stderr).not.toContain(fx.password);

      await fx.ok(['pull', ref, '-o', 'back', '--no-tty', ...tlsFlags()], {
        env: { FERRY_CACHE: join(fx.dir, 'pull-cache') },
      });
      expect(sha256(await readFile(join(fx.dir, 'back', 'big.bin')))).toBe(sha256(bytes));
    });
  });
}
