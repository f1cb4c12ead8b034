/**
 * The trust rules on the bulk path: a blob of at least BULK_DOWNLOAD_THRESHOLD bytes fetched by a
 * real Registry (its own agent, so the BulkConnector is on) goes over a connection of its own, and
 * must still obey every rule undici's path does. Loopback servers play the registry, its token
 * server, a storage origin that turns hostile, and a forward proxy; each test checks what they
 * received and what the --debug trace shows.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, FerryError } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadStats } from './blob-download.js';
import { BULK_DOWNLOAD_THRESHOLD } from './blob-file-download.js';
import type { Credential } from './credentials/index.js';
import { RegistryErrorCode } from './errors.js';
import { Registry, type RegistryOptions } from './registry.js';
import {
  cutShort,
  json,
  recordingSleep,
  startLoopback,
  type Handler,
  type LoopbackOptions,
  type LoopbackServer,
} from './testing/loopback.js';
import { makeTestCertificates, type TestCertificates } from './testing/tls.js';

const MiB = 1024 * 1024;
const blob = randomBytes(9 * MiB);
const digest = computeDigest(blob);
const descriptor = { digest, size: blob.byteLength };
const blobPath = `/v2/a/b/blobs/${digest}`;

const PASSWORD = 's3cret-password';
const ALICE: Credential = { username: 'alice', password: PASSWORD };
const ALICE_BASIC = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
const TOKEN = 'tok-SECRET-4711';
const STATIC_TOKEN = 'c3RhdGljLXNlY3JldA==';
const API_KEY = 'k3y-secret-0815';
const USER_HEADERS = { 'X-Api-Key': [API_KEY] };
/** What a bodyless GET over the bulk connection sends to an origin that gets no secrets. */
const BARE_BULK_HEADERS = ['host', 'user-agent'];

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let dir: string;
let servers: LoopbackServer[] = [];
let clients: Registry[] = [];
let files = 0;

beforeEach(async () => {
  expect(blob.byteLength).toBeGreaterThanOrEqual(BULK_DOWNLOAD_THRESHOLD);
  dir = await mkdtemp(join(tmpdir(), 'ferry-bulk-trust-'));
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  clients = [];
  servers = [];
  await rm(dir, { recursive: true, force: true });
});

async function server(handle?: Handler, options: LoopbackOptions = {}): Promise<LoopbackServer> {
  const started = await startLoopback(handle, options);
  servers.push(started);
  return started;
}

/** A Registry on its own agent (the bulk path is on), tracing into `trace`. */
function registry(host: string, trace: string[], options: RegistryOptions = {}): Registry {
  const client = new Registry(host, {
    plainHttp: true,
    sleep: recordingSleep().sleep,
    debug: (line) => trace.push(line),
    ...options,
  });
  clients.push(client);
  return client;
}

/** Downloads the blob into a new file and returns the file's bytes. */
async function pull(client: Registry): Promise<{ bytes: Buffer; stats: DownloadStats }> {
  const path = join(dir, `blob-${++files}`);
  const handle = await open(path, 'w+');
  try {
    const stats = await client.repository('a/b').blobs.downloadIntoFile(descriptor, handle);
    return { bytes: await readFile(path), stats };
  } finally {
    await handle.close();
  }
}

/** The URLs the trace says went over a connection of their own. */
function ownConnections(trace: string[]): string[] {
  return trace.flatMap((line) => {
    const match = /^\* GET (\S+): own connection$/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

const serveBlob: Answer = (_req, res) => {
  res.writeHead(200, { 'content-length': blob.byteLength, 'docker-content-digest': digest });
  res.end(blob);
};

function redirect(location: string, status: number): Answer {
  return (_req, res) => {
    res.writeHead(status, { location, 'content-length': 0 });
    res.end();
  };
}

function unauthorized(challenge: string): Answer {
  return (_req, res) =>
    json(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      { 'www-authenticate': challenge },
    );
}

/** Everything the server received in any header that could carry a secret, or the user's -H. */
function secretsReceived(s: LoopbackServer): string[] {
  return s.requests.flatMap((r) =>
    ['authorization', 'cookie', 'proxy-authorization', 'x-api-key']
      .map((name) => r.headers[name])
      .filter((v): v is string => typeof v === 'string'),
  );
}

/** The sorted header names of each request the server received. */
function headerNames(s: LoopbackServer): string[][] {
  return s.requests.map((r) => Object.keys(r.headers).sort());
}

describe('redirects on the bulk path carry nothing to another origin', () => {
  const cases: {
    name: string;
    options: RegistryOptions;
    /** What the registry's own GET must carry. */
    sent: string;
    /** The registry's handler for a GET that carries `sent`; otherwise it challenges. */
    challenge?: (realm: string) => string;
  }[] = [
    {
      name: 'basic credentials',
      options: { credentials: async () => ALICE },
      sent: ALICE_BASIC,
      challenge: () => 'Basic realm="registry"',
    },
    {
      name: 'a bearer token from the token server',
      options: { credentials: async () => ALICE },
      sent: `Bearer ${TOKEN}`,
      challenge: (realm) =>
        `Bearer realm="${realm}",service="registry",scope="repository:a/b:pull"`,
    },
    {
      name: 'a static bearer token',
      options: { staticBearerToken: STATIC_TOKEN },
      sent: `Bearer ${STATIC_TOKEN}`,
    },
  ];

  for (const { name, options, sent, challenge } of cases) {
    for (const [status, toHost] of [
      [307, 'localhost'],
      [302, '127.0.0.1'],
    ] as const) {
      it(`${name}: a ${status} to ${toHost}:<another port> gets no Authorization and no -H`, async () => {
        const attacker = await server(serveBlob);
        const tokens = await server((_req, res) => json(res, 200, { token: TOKEN }));
        const reg = await server();
        const location = `http://${toHost}:${attacker.host.split(':')[1]}/storage/blob?sig=SIGsecret99`;
        reg.handle = (req, res) => {
          if (req.headers.authorization === sent) return redirect(location, status)(req, res);
          unauthorized(challenge?.(`${tokens.origin}/token`) ?? 'Basic realm="x"')(req, res);
        };
        const trace: string[] = [];
        const client = registry(reg.host, trace, { ...options, headers: USER_HEADERS });

        const { bytes } = await pull(client);

        expect(computeDigest(bytes)).toBe(digest);
        expect(bytes.equals(blob)).toBe(true);
        // The registry's own GET carried the credential and the user's header…
        const registryGets = reg.requests.filter((r) => r.url === blobPath);
        expect(registryGets.at(-1)?.headers.authorization).toBe(sent);
        expect(registryGets.map((r) => r.headers['x-api-key'])).toEqual(
          registryGets.map(() => API_KEY),
        );
        // …the origin it redirected to got neither, nor anything else that is not bare.
        expect(attacker.requests.map((r) => r.url)).toEqual(['/storage/blob?sig=SIGsecret99']);
        expect(secretsReceived(attacker)).toEqual([]);
        expect(headerNames(attacker)).toEqual([BARE_BULK_HEADERS]);
        // The token server, another origin too, never saw the user's header.
        expect(tokens.requests.map((r) => r.headers['x-api-key'])).not.toContain(API_KEY);
        // Both hops went over a connection of their own.
        expect(ownConnections(trace)).toEqual([
          ...registryGets.map(() => `${reg.origin}${blobPath}`),
          location.replace('SIGsecret99', 'REDACTED'),
        ]);
        expect(trace.join('\n')).not.toContain('SIGsecret99');
      });
    }
  }
});

describe('more hops on the bulk path', () => {
  it('a body from storage cut at 4 MiB: the resume asks the registry again, and storage gets Range but no secrets', async () => {
    const storage = await server();
    let storageGets = 0;
    storage.handle = (req, res) => {
      if (++storageGets === 1) return cutShort(res, 200, {}, blob, 4 * MiB);
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1]);
      res.writeHead(206, {
        'content-length': blob.byteLength - start,
        'content-range': `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`,
      });
      res.end(blob.subarray(start));
    };
    const reg = await server();
    reg.handle = (req, res) => {
      if (req.headers.authorization !== ALICE_BASIC) {
        return unauthorized('Basic realm="registry"')(req, res);
      }
      redirect(`${storage.origin}/storage/blob`, 307)(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace, {
      credentials: async () => ALICE,
      headers: USER_HEADERS,
    });

    const { bytes, stats } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(stats.resumes).toBe(1);
    expect(storage.requests.map((r) => r.headers.range)).toEqual([undefined, `bytes=${4 * MiB}-`]);
    expect(secretsReceived(storage)).toEqual([]);
    expect(headerNames(storage)[1]).toEqual(['host', 'range', 'user-agent']);
    // The registry was asked again for the rest, with its credentials and the range.
    expect(reg.requests.at(-1)?.headers.authorization).toBe(ALICE_BASIC);
    expect(reg.requests.at(-1)?.headers.range).toBe(`bytes=${4 * MiB}-`);
    expect(ownConnections(trace).filter((url) => url.startsWith(storage.origin))).toHaveLength(2);
  });

  it('a 401 from the origin a blob was redirected to: answered with nothing, and the pull fails', async () => {
    const attacker = await server(unauthorized('Basic realm="give me your password"'));
    const reg = await server();
    reg.handle = (req, res) => {
      if (req.headers.authorization !== ALICE_BASIC) {
        return unauthorized('Basic realm="registry"')(req, res);
      }
      redirect(`${attacker.origin}/storage/blob`, 307)(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace, {
      credentials: async () => ALICE,
      headers: USER_HEADERS,
    });

    const error = await pull(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FerryError);
    expect((error as Error).message).toMatch(/401/);
    expect(attacker.requests).toHaveLength(1);
    expect(secretsReceived(attacker)).toEqual([]);
  });

  it('--resolve: the bulk GET dials the address, and Host names the registry', async () => {
    const reg = await server(serveBlob);
    const port = Number(reg.host.split(':')[1]);
    const trace: string[] = [];
    const client = registry(`registry.test:${port}`, trace, {
      resolve: [{ host: 'registry.test', port, address: '127.0.0.1' }],
    });

    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(reg.requests.map((r) => r.headers.host)).toEqual([`registry.test:${port}`]);
    expect(ownConnections(trace)).toEqual([`http://registry.test:${port}${blobPath}`]);
  });

  it('a -H value with a Latin-1 character: the same bytes on the bulk GET as through undici', async () => {
    const reg = await server((req, res) => {
      if (req.url === blobPath) return serveBlob(req, res);
      json(res, 200, {});
    });
    const trace: string[] = [];
    const client = registry(reg.host, trace, { headers: { 'X-Team': ['équipe'] } });

    await client.ping();
    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(ownConnections(trace)).toHaveLength(1);
    // Node reads header bytes as Latin-1: one byte per character on both paths.
    expect(reg.requests.map((r) => [r.url, r.headers['x-team']])).toEqual([
      ['/v2/', 'équipe'],
      [blobPath, 'équipe'],
    ]);
  });

  it('an abort while waiting for the answer: rejects as aborted and leaves no listener', async () => {
    const reg = await server(() => {
      // Never answers: only the abort ends the request.
    });
    const trace: string[] = [];
    const client = registry(reg.host, trace);
    const controller = new AbortController();
    const path = join(dir, 'aborted');
    const handle = await open(path, 'w+');
    try {
      const pending = client
        .repository('a/b')
        .blobs.downloadIntoFile(descriptor, handle, { signal: controller.signal });
      while (reg.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
      controller.abort();
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe(RegistryErrorCode.Aborted);
    } finally {
      await handle.close();
    }
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`]);
  });
});

describe('authentication on the bulk path', () => {
  it('a 401 with a Bearer challenge: the token is fetched and the GET repeated with it, both over their own connection', async () => {
    const tokens = await server((_req, res) => json(res, 200, { token: TOKEN, expires_in: 300 }));
    const reg = await server();
    reg.handle = (req, res) => {
      if (req.headers.authorization === `Bearer ${TOKEN}`) return serveBlob(req, res);
      unauthorized(`Bearer realm="${tokens.origin}/token",service="registry"`)(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace, { credentials: async () => ALICE });

    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(reg.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      [blobPath, undefined],
      [blobPath, `Bearer ${TOKEN}`],
    ]);
    // The token request carried the password to the realm the registry named, with the scope.
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]?.headers.authorization).toBe(ALICE_BASIC);
    expect(tokens.requests[0]?.url).toContain('scope=repository%3Aa%2Fb%3Apull');
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`, `${reg.origin}${blobPath}`]);
  });

  it('a token server answering a token with CR/LF in it: the blob GET is refused and nothing is split', async () => {
    const tokens = await server((_req, res) =>
      json(res, 200, { token: 'good\r\nX-Injected: evil\r\n\r\nGET /smuggled HTTP/1.1' }),
    );
    const reg = await server(
      unauthorized(`Bearer realm="${tokens.origin}/token",service="registry"`),
    );
    const trace: string[] = [];
    const client = registry(reg.host, trace, { credentials: async () => ALICE });

    const error = await pull(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe(RegistryErrorCode.Protocol);
    expect((error as Error).message).toBe('invalid value of request header authorization');
    // The registry saw the one GET without a token, and no line of the hostile token.
    expect(reg.requests.map((r) => [r.method, r.url])).toEqual([['GET', blobPath]]);
    for (const s of [reg, tokens]) {
      expect(s.requests.some((r) => r.headers['x-injected'] !== undefined)).toBe(false);
      expect(s.requests.map((r) => r.url)).not.toContain('/smuggled');
    }
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`, `${reg.origin}${blobPath}`]);
  });

  it('the --debug trace of bulk GETs never holds the password, the token, or the -H value', async () => {
    const tokens = await server((_req, res) => json(res, 200, { token: TOKEN }));
    const reg = await server();
    reg.handle = (req, res) => {
      if (req.headers.authorization === `Bearer ${TOKEN}`) return serveBlob(req, res);
      unauthorized(`Bearer realm="${tokens.origin}/token",service="registry"`)(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace, {
      credentials: async () => ALICE,
      headers: USER_HEADERS,
    });

    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(ownConnections(trace)).toHaveLength(2);
    // The token did go out (so the trace had the chance to leak it)…
    expect(reg.requests[1]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(reg.requests[1]?.headers['x-api-key']).toBe(API_KEY);
    const text = trace.join('\n');
    for (const secret of [PASSWORD, TOKEN, API_KEY, ALICE_BASIC.slice('Basic '.length)]) {
      expect(text).not.toContain(secret);
    }
    // …and its line names the header with the value hidden.
    expect(text).toMatch(
      /^> GET \S+\/blobs\/sha256:[0-9a-f]{64} .*authorization: Bearer REDACTED/m,
    );
    expect(text).toMatch(/x-api-key: REDACTED/);
  });
});

describe('retries on the bulk path', () => {
  it('503 then 200: retried, and the bytes verify', async () => {
    const reg = await server();
    let gets = 0;
    reg.handle = (req, res) => {
      if (++gets === 1) {
        return json(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'try again' }] });
      }
      serveBlob(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace);

    const { bytes, stats } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(stats).toEqual({
      bytesReceived: blob.byteLength,
      bytesRefetched: 0,
      resumes: 0,
      restarts: 0,
    });
    expect(reg.requests).toHaveLength(2);
    expect(ownConnections(trace)).toHaveLength(2);
    expect(trace.some((line) => /^! GET \S+: 503; retry 1\/5/.test(line))).toBe(true);
  });

  it('a loopback registry without --plain-http: the bulk GET tries https, falls back to http', async () => {
    const reg = await server(serveBlob);
    const trace: string[] = [];
    const client = registry(reg.host, trace, { plainHttp: undefined });

    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(ownConnections(trace)).toEqual([
      `https://${reg.host}${blobPath}`,
      `${reg.origin}${blobPath}`,
    ]);
    expect(trace).toContain(`! ${reg.host} does not speak TLS; using plain http`);
  });
});

describe.skipIf(!hasOpenssl())('TLS on the bulk path', () => {
  let certs: TestCertificates;
  beforeEach(() => {
    certs ??= makeTestCertificates();
  });

  it('an https registry redirecting the blob to http: refused, and the http origin hears nothing', async () => {
    const attacker = await server(serveBlob);
    const reg = await server(undefined, { tls: certs });
    reg.handle = (req, res) => {
      if (req.headers.authorization !== ALICE_BASIC) {
        return unauthorized('Basic realm="registry"')(req, res);
      }
      redirect(`${attacker.origin}/storage/blob`, 307)(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace, {
      plainHttp: undefined,
      ca: certs.caPem,
      credentials: async () => ALICE,
      headers: USER_HEADERS,
    });

    const error = await pull(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe(RegistryErrorCode.InsecureRedirect);
    expect((error as Error).message).toBe(
      `GET ${reg.origin}${blobPath}: refusing a redirect from https to ${attacker.origin}/storage/blob`,
    );
    expect(attacker.requests).toEqual([]);
    // The https registry itself was reached over the bulk connection, with the credentials.
    expect(reg.requests.at(-1)?.headers.authorization).toBe(ALICE_BASIC);
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`, `${reg.origin}${blobPath}`]);
  });

  it('an https registry redirecting to https elsewhere: verified, and nothing secret goes along', async () => {
    const storage = await server(serveBlob, { tls: certs });
    const reg = await server(undefined, { tls: certs });
    const location = `https://localhost:${storage.host.split(':')[1]}/storage/blob`;
    reg.handle = (req, res) => {
      if (req.headers.authorization !== ALICE_BASIC) {
        return unauthorized('Basic realm="registry"')(req, res);
      }
      redirect(location, 307)(req, res);
    };
    const trace: string[] = [];
    const client = registry(reg.host, trace, {
      plainHttp: undefined,
      ca: certs.caPem,
      credentials: async () => ALICE,
      headers: USER_HEADERS,
    });

    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(secretsReceived(storage)).toEqual([]);
    expect(headerNames(storage)).toEqual([BARE_BULK_HEADERS]);
    expect(ownConnections(trace)).toEqual([
      `${reg.origin}${blobPath}`,
      `${reg.origin}${blobPath}`,
      location,
    ]);
  });

  it('a certificate the client does not trust: the bulk GET fails verification, sends nothing', async () => {
    const reg = await server(serveBlob, { tls: certs });
    const trace: string[] = [];
    // TLS asked for (cert pinned elsewhere): no plain-http fallback, and no CA for this server.
    const client = registry(reg.host, trace, {
      plainHttp: undefined,
      insecure: false,
      ca: makeOtherCa(),
      credentials: async () => ALICE,
      retry: { retries: 0 },
    });

    const error = await pull(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe(RegistryErrorCode.Network);
    expect(String((error as Error).message)).toMatch(/certificate|self.signed|issuer/i);
    expect(reg.requests).toEqual([]);
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`]);
  });

  it('--insecure: the bulk GET skips verification as the agent does', async () => {
    const reg = await server(serveBlob, { tls: certs });
    const trace: string[] = [];
    const client = registry(reg.host, trace, { plainHttp: undefined, insecure: true });

    const { bytes } = await pull(client);

    expect(bytes.equals(blob)).toBe(true);
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`]);
  });

  /** Another throwaway CA, which did not sign the server's certificate. */
  function makeOtherCa(): string {
    return makeTestCertificates().caPem;
  }
});

/** A forward proxy on loopback: tunnels CONNECT and forwards absolute-form requests. */
async function startForwardProxy(): Promise<{
  origin: string;
  /** `CONNECT host:port` or `GET http://…`, one per request it handled. */
  seen: string[];
  close(): Promise<void>;
}> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const proxy = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.byteLength > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

describe('a proxy in the environment', () => {
  const names = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'];
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    for (const name of names) delete process.env[name];
  });
  afterEach(() => {
    for (const name of names) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  for (const variable of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy'] as const) {
    it(`${variable} set: large blobs go through undici and the proxy, not a connection of their own`, async () => {
      const proxy = await startForwardProxy();
      try {
        const reg = await server(serveBlob);
        // HTTPS_PROXY alone does not cover a plain-http registry; the bulk path is off anyway.
        process.env[variable] = proxy.origin;
        if (variable === 'HTTPS_PROXY') process.env.HTTP_PROXY = proxy.origin;
        const trace: string[] = [];
        const client = registry(reg.host, trace);

        const { bytes } = await pull(client);

        expect(bytes.equals(blob)).toBe(true);
        expect(ownConnections(trace)).toEqual([]);
        expect(trace.filter((line) => line.startsWith('> GET '))).toHaveLength(1);
        // The request reached the registry by way of the proxy.
        expect(proxy.seen).toHaveLength(1);
        expect([`CONNECT ${reg.host}`, `GET ${reg.origin}${blobPath}`]).toContain(proxy.seen[0]);
        expect(reg.requests.map((r) => r.url)).toEqual([blobPath]);
      } finally {
        await proxy.close();
      }
    });
  }

  it('HTTPS_PROXY set for an https registry: no connection of its own; the proxy tunnels it', async () => {
    if (!hasOpenssl()) return;
    const certs = makeTestCertificates();
    const proxy = await startForwardProxy();
    try {
      const reg = await server(serveBlob, { tls: certs });
      process.env.HTTPS_PROXY = proxy.origin;
      const trace: string[] = [];
      const client = registry(reg.host, trace, { plainHttp: undefined, ca: certs.caPem });

      const { bytes } = await pull(client);

      expect(bytes.equals(blob)).toBe(true);
      expect(ownConnections(trace)).toEqual([]);
      expect(proxy.seen).toEqual([`CONNECT ${reg.host}`]);
    } finally {
      await proxy.close();
    }
  });

  it('the environment restored: the bulk path is back', async () => {
    const reg = await server(serveBlob);
    const trace: string[] = [];
    const { bytes } = await pull(registry(reg.host, trace));
    expect(bytes.equals(blob)).toBe(true);
    expect(ownConnections(trace)).toEqual([`${reg.origin}${blobPath}`]);
  });
});
