// Hostile servers at the CLI, with fake registries (support/hostile-server.ts) for what registry:2
// cannot be made to do: garbage and malformed challenges, a token realm over http named by an
// https registry, a blob download redirected from https to http, and manifests served over the
// 4 MiB limit. ferry must exit 1 with a one-line message, never crash, and never send
// credentials where they do not belong.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTlsCerts, type TlsCerts } from './harness/index.js';
import { ferry, type CliResult } from './support/cli.js';
import { sendError, startFakeServer, type FakeServer } from './support/hostile-server.js';

let base: string;
let certs: TlsCerts;
const servers: FakeServer[] = [];
const USER = 'ferry';
const PASSWORD = 'hostile-servers-password';

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ferry-hostile-servers-'));
  certs = await makeTlsCerts(join(base, 'tls'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (base) await rm(base, { recursive: true, force: true });
});

async function fake(...args: Parameters<typeof startFakeServer>): Promise<FakeServer> {
  const server = await startFakeServer(...args);
  servers.push(server);
  return server;
}

async function tlsOptions(): Promise<{ cert: string; key: string }> {
  return {
    cert: await readFile(certs.certFile, 'utf8'),
    key: await readFile(certs.keyFile, 'utf8'),
  };
}

/** The built CLI with its own Docker config, the password on stdin. */
const run = (args: string[], withCredentials = true): Promise<CliResult> =>
  ferry([...args, ...(withCredentials ? ['-u', USER, '--password-stdin'] : [])], {
    env: { DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') },
    ...(withCredentials ? { input: `${PASSWORD}\n` } : {}),
  });

function errorLine(result: CliResult): string {
  return result.stderr.split('\n').find((line) => line.startsWith('Error: ')) ?? '';
}

function expectCleanFailure(result: CliResult): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(errorLine(result)).not.toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at |TypeError|RangeError|SyntaxError/);
}

const basicHeader = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

describe('garbage and malformed WWW-Authenticate challenges', () => {
  const challenges: Record<string, string> = {
    garbage: ',,,=garbage"',
    unterminated: 'Bearer realm="',
    'no-realm': 'Bearer service="fake",scope="repository:x:pull"',
    'bad-realm': 'Bearer realm="::not a url::",service="fake"',
    'unknown-scheme': 'Negotiate abc==, Digest realm="x", nonce="y"',
    huge: `Basic realm="${'x'.repeat(100_000)}"`,
  };
  let server: FakeServer;

  beforeAll(async () => {
    server = await fake((req, res) => {
      const name = /^\/v2\/([^/]+)\//.exec(req.url ?? '')?.[1] ?? 'garbage';
      sendError(res, 401, 'UNAUTHORIZED', {
        'www-authenticate': challenges[name] ?? challenges.garbage ?? '',
      });
    });
  });

  it('a garbage challenge (,,,=garbage"): exit 1, 401 with a login hint, credentials never sent', async () => {
    const result = await run(['resolve', `${server.host}/garbage:v1`, '--plain-http']);
    expectCleanFailure(result);
    expect(errorLine(result)).toMatch(/401 (UNAUTHORIZED|Unauthorized)/);
    expect(result.stderr).toContain(
      `Hint: check your credentials, or log in: ferry login ${server.host}`,
    );
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('ferry login against a garbage challenge exits 1 and writes no config', async () => {
    const config = join(base, 'login-garbage', 'config.json');
    const result = await run(['login', server.host, '--plain-http', '--registry-config', config]);
    expectCleanFailure(result);
    await expect(readdir(join(base, 'login-garbage'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    ['Bearer with an unterminated realm', 'unterminated', /without naming a realm/],
    ['Bearer without a realm', 'no-realm', /without naming a realm/],
    ['Bearer with a realm that is not a URL', 'bad-realm', /invalid token realm "::not a url::"/],
    ['only unknown schemes (Negotiate, Digest)', 'unknown-scheme', /401 Unauthorized/],
    ['a 100 kB challenge', 'huge', /Headers Overflow/],
  ])('%s: exit 1 with a one-line message, credentials never sent', async (_what, name, why) => {
    const before = server.requests.length;
    const result = await run(['resolve', `${server.host}/${name}:v1`, '--plain-http']);
    expectCleanFailure(result);
    expect(errorLine(result)).toMatch(why);
    const mine = server.requests.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.headers.authorization === undefined)).toBe(true);
  });
});

describe('an https registry naming an http token realm', () => {
  let registry: FakeServer;
  let tokens: FakeServer;

  beforeAll(async () => {
    tokens = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 'should-never-be-issued' }));
    });
    registry = await fake(
      (_req, res) => {
        sendError(res, 401, 'UNAUTHORIZED', {
          'www-authenticate': `Bearer realm="${tokens.url}/token",service="fake",scope="repository:r:pull"`,
        });
      },
      await tlsOptions(),
    );
  });

  it.each([
    ['resolve', (host: string) => ['resolve', `${host}/r:v1`]],
    [
      'login',
      (host: string) => ['login', host, '--registry-config', join(base, 'realm', 'c.json')],
    ],
  ])(
    '%s refuses to send credentials to it (exit 1); the token endpoint sees nothing',
    async (_n, args) => {
      const result = await run([...args(registry.host), '--ca-file', certs.caFile]);
      expectCleanFailure(result);
      expect(errorLine(result)).toContain(
        `${registry.host} is served over https but its token realm ${tokens.url}/token is not; refusing to send credentials there`,
      );
      expect(registry.requests.length).toBeGreaterThan(0);
      expect(tokens.requests).toEqual([]);
    },
  );
});

describe('a blob download redirected from https to http', () => {
  const content = Buffer.from('blob bytes that must not travel over http\n');
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  let registry: FakeServer;
  let storage: FakeServer;

  beforeAll(async () => {
    storage = await fake((_req, res) => {
      res.writeHead(200, { 'content-length': content.byteLength });
      res.end(content);
    });
    registry = await fake(
      (req, res) => {
        if (req.headers.authorization !== basicHeader) {
          sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': 'Basic realm="fake"' });
        } else if (req.method === 'HEAD' && req.url === `/v2/r/blobs/${digest}`) {
          res.writeHead(200, {
            'content-length': content.byteLength,
            'docker-content-digest': digest,
          });
          res.end();
        } else if (req.method === 'GET' && req.url === `/v2/r/blobs/${digest}`) {
          res.writeHead(307, { location: `${storage.url}/blobs/${digest.slice(7)}` });
          res.end();
        } else {
          sendError(res, 404, 'NOT_FOUND');
        }
      },
      await tlsOptions(),
    );
  });

  it('is refused: exit 1, the http storage sees no request, nothing written', async () => {
    const out = join(base, 'redirect-out');
    await mkdir(out);
    const result = await run([
      'blob',
      'fetch',
      `${registry.host}/r@${digest}`,
      '-o',
      join(out, 'blob'),
      '--ca-file',
      certs.caFile,
    ]);
    expectCleanFailure(result);
    expect(errorLine(result)).toContain(
      `GET ${registry.url}/v2/r/blobs/${digest}: refusing a redirect from https to ${storage.url}/blobs/`,
    );
    expect(result.stderr).toContain('Hint: ferry never downgrades https to http');
    expect(registry.requests.some((r) => r.headers.authorization === basicHeader)).toBe(true);
    expect(storage.requests).toEqual([]);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('blob downloads whose headers contradict the descriptor', () => {
  const content = Buffer.from('the bytes HEAD describes\n');
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  let server: FakeServer;

  beforeAll(async () => {
    server = await fake((req, res) => {
      const kind = /^\/v2\/([^/]+)\//.exec(req.url ?? '')?.[1];
      if (req.method === 'HEAD') {
        res.writeHead(200, {
          'content-length': content.byteLength,
          'docker-content-digest': digest,
        });
        return res.end();
      }
      if (kind === 'longer') {
        const longer = Buffer.concat([content, Buffer.from('and one more line\n')]);
        res.writeHead(200, { 'content-length': longer.byteLength });
        return res.end(longer);
      }
      res.writeHead(200, {
        'content-length': content.byteLength,
        'docker-content-digest': `sha256:${'0'.repeat(64)}`,
      });
      return res.end(content);
    });
  });

  it.each([
    [
      'a Content-Length longer than HEAD said',
      'longer',
      /size mismatch .*expected 25 bytes, got 43/,
    ],
    ['a Docker-Content-Digest naming another blob', 'other', /digest mismatch/],
  ])(
    'blob fetch of %s: exit 1 with a mismatch, no crash, nothing written',
    async (_what, repo, why) => {
      const out = join(base, `contradict-${repo}`);
      await mkdir(out);
      const result = await run(
        [
          'blob',
          'fetch',
          `${server.host}/${repo}@${digest}`,
          '--plain-http',
          '-o',
          join(out, 'blob'),
        ],
        false,
      );
      expect(result.stderr).not.toMatch(/Unhandled 'error' event|RequestAbortedError/);
      expectCleanFailure(result);
      expect(errorLine(result)).toMatch(why);
      expect(await readdir(out)).toEqual([]);
    },
  );
});

describe('manifests served over the 4 MiB limit', () => {
  const big = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
      },
      layers: [],
      annotations: { padding: 'x'.repeat(5 * 1024 * 1024) },
    }),
  );
  const digest = `sha256:${createHash('sha256').update(big).digest('hex')}`;
  let server: FakeServer;

  beforeAll(async () => {
    server = await fake((req, res) => {
      const chunked = (req.url ?? '').startsWith('/v2/chunked/');
      const headers: Record<string, string | number> = {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': digest,
      };
      if (!chunked) headers['content-length'] = big.byteLength;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') res.end();
      else res.end(big);
    });
  });

  it.each(['declared', 'chunked'])(
    'manifest fetch of a 5 MiB manifest (%s length) exits 1 naming the limit',
    async (repo) => {
      const out = join(base, `big-${repo}`);
      await mkdir(out);
      const result = await run(
        [
          'manifest',
          'fetch',
          `${server.host}/${repo}:v1`,
          '--plain-http',
          '-o',
          join(out, 'm.json'),
        ],
        false,
      );
      expectCleanFailure(result);
      expect(errorLine(result)).toMatch(/4194304-byte limit/);
      expect(await readdir(out)).toEqual([]);
    },
  );
});
