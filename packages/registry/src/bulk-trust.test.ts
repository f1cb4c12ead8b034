/**
 * The trust rules on the bulk path (redirects, hops, authentication, retries; TLS and proxies in
 * bulk-trust-tls-proxy.test.ts): a blob of at least BULK_DOWNLOAD_THRESHOLD bytes fetched by a
 * real Registry (its own agent, so the BulkConnector is on) goes over a connection of its own, and
 * must still obey every rule undici's path does. Loopback servers play the registry, its token
 * server, a storage origin that turns hostile, and a forward proxy; each test checks what they
 * received and what the --debug trace shows.
 */
import { getEventListeners } from 'node:events';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { computeDigest, FerryError } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import { RegistryErrorCode } from './errors.js';
import type { RegistryOptions } from './registry.js';
import { cutShort, json } from './testing/loopback.js';

import {
  bulkTrustFixture,
  MiB,
  blob,
  digest,
  descriptor,
  blobPath,
  PASSWORD,
  ALICE,
  ALICE_BASIC,
  TOKEN,
  STATIC_TOKEN,
  API_KEY,
  USER_HEADERS,
  BARE_BULK_HEADERS,
  ownConnections,
  serveBlob,
  redirect,
  unauthorized,
  secretsReceived,
  headerNames,
} from './testing/bulk-trust-fixture.js';

const { server, registry, pull, scratch } = bulkTrustFixture();

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
    const path = join(scratch(), 'aborted');
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
