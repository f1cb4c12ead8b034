// `ferry pull` of a blob large enough for the bulk path (a GET over a connection of its own that
// reads into one buffer, see packages/registry/src/bulk-connector.ts) against registry:2, over
// plain http and over TLS with the run's CA: the --debug trace shows the path taken and the file's
// bytes are the pushed ones. With HTTP(S)_PROXY set the pull goes through the proxy instead.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { linesOf, sha256, spawnFerry, useCliFixture } from './support/cli-fixture.js';
import { startForwardProxy } from './support/forward-proxy.js';

const MiB = 1024 * 1024;
/** Above BULK_DOWNLOAD_THRESHOLD (8 MiB), below the parallel ranged download's 64 MiB. */
const SIZE = 24 * MiB;

/** The URLs a --debug run says it fetched over a connection of their own. */
function ownConnections(stderr: string): string[] {
  return linesOf(stderr).flatMap((line) => {
    const match = /^\[debug\] \* GET (\S+): own connection$/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

/** `[debug] > GET <url>` lines for blob URLs. */
function blobGets(stderr: string): string[] {
  return linesOf(stderr).flatMap((line) => {
    const match = /^\[debug\] > GET (\S+\/blobs\/sha256:[0-9a-f]{64}) /.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

for (const mode of ['anonymous', 'tls'] as const) {
  describe(`ferry pull of a ${SIZE / MiB} MiB file (${mode})`, () => {
    const fx = useCliFixture(mode);
    const tlsFlags = (): string[] => (mode === 'tls' ? ['--ca-file', fx.reg.caFile ?? ''] : []);

    /** Pushes `SIZE` random bytes as big.bin; returns the bytes and the blob's URL. */
    async function pushed(name: string): Promise<{ bytes: Buffer; ref: string; blobUrl: string }> {
      const bytes = randomBytes(SIZE);
      await fx.write('big.bin', bytes);
      const repo = fx.repo(name);
      await fx.ok(['push', `${repo}:v1`, 'big.bin', '--no-tty', ...tlsFlags()], {
        env: { FERRY_CACHE: join(fx.dir, 'push-cache') },
      });
      const path = repo.slice(fx.host.length + 1);
      return {
        bytes,
        ref: `${repo}:v1`,
        blobUrl: `${fx.reg.url}/v2/${path}/blobs/sha256:${sha256(bytes)}`,
      };
    }

    /** Pulls into `out` with a download cache of its own, --debug; returns stderr and the file. */
    async function pull(ref: string, out: string, env: NodeJS.ProcessEnv = {}) {
      const result = await fx.ok(['pull', ref, '-o', out, '--debug', '--no-tty', ...tlsFlags()], {
        env: { FERRY_CACHE: join(fx.dir, `${out}-cache`), ...env },
      });
      return { stderr: result.stderr, file: await readFile(join(fx.dir, out, 'big.bin')) };
    }

    it('takes the bulk path, and the file is the pushed bytes; again with a fresh cache', async () => {
      const { bytes, ref, blobUrl } = await pushed('bulk');

      for (const out of ['first', 'second']) {
        const { stderr, file } = await pull(ref, out);
        expect(ownConnections(stderr), stderr).toEqual([blobUrl]);
        expect(blobGets(stderr)).toEqual([blobUrl]);
        expect(file.byteLength).toBe(SIZE);
        expect(sha256(file)).toBe(sha256(bytes));
      }
    });

    it('with HTTP_PROXY and HTTPS_PROXY set: through the proxy, no connection of its own', async () => {
      const { bytes, ref, blobUrl } = await pushed('proxied');
      const proxy = await startForwardProxy();
      try {
        const { stderr, file } = await pull(ref, 'proxied', {
          HTTP_PROXY: proxy.url,
          HTTPS_PROXY: proxy.url,
          http_proxy: proxy.url,
          https_proxy: proxy.url,
          NO_PROXY: '',
          no_proxy: '',
        });
        expect(ownConnections(stderr)).toEqual([]);
        expect(blobGets(stderr)).toEqual([blobUrl]);
        expect(sha256(file)).toBe(sha256(bytes));
        // Every connection to the registry went by way of the proxy.
        expect(proxy.seen.length).toBeGreaterThan(0);
        const toRegistry = (seen: string) =>
          seen === `CONNECT ${fx.host}` || seen.startsWith(`GET ${fx.reg.url}/`);
        expect(proxy.seen.filter((seen) => !toRegistry(seen))).toEqual([]);
      } finally {
        await proxy.close();
      }
    });
  });
}

describe(`ferry pull of a ${SIZE / MiB} MiB file from a registry that wants a client certificate`, () => {
  let mtls: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    mtls = await startRegistry({ mode: 'tls', clientCa: true });
    dir = await mkdtemp(join(tmpdir(), 'ferry-bulk-mtls-'));
  });
  afterAll(async () => {
    await mtls?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the bulk GET presents the client certificate too', async () => {
    const flags = [
      '--ca-file',
      mtls.caFile ?? '',
      '--cert-file',
      mtls.clientCert?.certFile ?? '',
      '--key-file',
      mtls.clientCert?.keyFile ?? '',
      '--no-tty',
    ];
    const run = async (args: string[], cache: string) => {
      const result = await spawnFerry([...args, ...flags], {
        cwd: dir,
        env: { DOCKER_CONFIG: join(dir, 'docker'), FERRY_CACHE: join(dir, cache) },
      });
      expect(result.code, result.stderr).toBe(0);
      return result;
    };
    const bytes = randomBytes(SIZE);
    await writeFile(join(dir, 'big.bin'), bytes);
    const ref = `${mtls.host}/bulk-mtls/a:v1`;
    await run(['push', ref, 'big.bin'], 'push-cache');

    const { stderr } = await run(['pull', ref, '-o', 'out', '--debug'], 'pull-cache');

    expect(ownConnections(stderr), stderr).toEqual([
      `${mtls.url}/v2/bulk-mtls/a/blobs/sha256:${sha256(bytes)}`,
    ]);
    expect(sha256(await readFile(join(dir, 'out', 'big.bin')))).toBe(sha256(bytes));
  });
});
