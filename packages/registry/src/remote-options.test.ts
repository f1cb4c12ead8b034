/**
 * Issue 18 item 3: the user's own headers (-H) reach the registry's origin and nothing else,
 * --resolve dials another address for a name, mutual TLS presents a client certificate, and
 * referrersApi forces the referrers API or the tag schema.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { MediaType } from '@ferry/oci';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from './registry.js';
import { json, recordingSleep, startLoopback, type LoopbackServer } from './testing/loopback.js';
import { makeTestCertificates } from './testing/tls.js';

let servers: LoopbackServer[] = [];
async function server(): Promise<LoopbackServer> {
  const started = await startLoopback();
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const HEADERS = { 'X-Team': ['ml'], 'X-Api-Key': ['k-123', 'k-456'] };

function userHeaders(s: LoopbackServer): unknown[] {
  return s.requests.map((r) => [r.headers['x-team'], r.headers['x-api-key']]);
}

describe('headers (-H)', () => {
  it('go on every registry request, a token request to its own origin included, and repeat', async () => {
    const registry = await server();
    registry.handle = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/token')) return json(res, 200, { token: 't' });
      if (req.headers.authorization !== 'Bearer t') {
        return json(
          res,
          401,
          {},
          { 'www-authenticate': `Bearer realm="${registry.origin}/token"` },
        );
      }
      json(res, 200, { name: 'a/b', tags: ['v1'] });
    };
    const client = new Registry(registry.host, { headers: HEADERS, retry: { retries: 0 } });
    expect(await client.repository('a/b').tags()).toEqual(['v1']);
    await client.close();
    expect(registry.requests.map((r) => r.url.split('?')[0])).toEqual([
      '/v2/a/b/tags/list',
      '/token',
      '/v2/a/b/tags/list',
    ]);
    expect(userHeaders(registry)).toEqual(Array(3).fill(['ml', 'k-123, k-456']));
  });

  it('never reach a token realm on another origin', async () => {
    const realm = await server();
    realm.handle = (_req, res) => json(res, 200, { token: 't' });
    const registry = await server();
    registry.handle = (req, res) => {
      if (req.headers.authorization !== 'Bearer t') {
        return json(res, 401, {}, { 'www-authenticate': `Bearer realm="${realm.origin}/token"` });
      }
      json(res, 200, { name: 'a/b', tags: ['v1'] });
    };
    const client = new Registry(registry.host, { headers: HEADERS, retry: { retries: 0 } });
    expect(await client.repository('a/b').tags()).toEqual(['v1']);
    await client.close();
    expect(realm.requests).toHaveLength(1);
    expect(userHeaders(realm)).toEqual([[undefined, undefined]]);
    expect(userHeaders(registry)).toEqual(Array(2).fill(['ml', 'k-123, k-456']));
  });

  it('never reach an upload Location or a redirect target on another origin', async () => {
    const storage = await server();
    storage.handle = (req, res) => {
      if (req.method === 'PUT') {
        res.writeHead(201, { 'content-length': 0 });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': 5 });
      res.end('hello');
    };
    const registry = await server();
    registry.handle = (req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      if (req.method === 'POST') {
        res.writeHead(202, { location: `${storage.origin}/upload/1`, 'content-length': 0 });
        res.end();
        return;
      }
      res.writeHead(307, { location: `${storage.origin}/blob`, 'content-length': 0 });
      res.end();
    };
    const { sleep } = recordingSleep();
    const client = new Registry(registry.host, { headers: HEADERS, sleep, retry: { retries: 0 } });
    const repository = client.repository('a/b');
    const pushed = await repository.blobs.push(Buffer.from('hello'));
    const bytes = await repository.blobs.fetchBytes(pushed);
    await client.close();
    expect(Buffer.from(bytes).toString()).toBe('hello');
    expect(storage.requests.map((r) => r.method)).toEqual(['PUT', 'GET']);
    expect(userHeaders(storage)).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
    expect(registry.requests.length).toBeGreaterThan(1);
    expect(userHeaders(registry)).toEqual(
      Array(registry.requests.length).fill(['ml', 'k-123, k-456']),
    );
  });

  it('are hidden in the --debug trace', async () => {
    const registry = await server();
    registry.handle = (_req, res) => json(res, 200, {});
    const lines: string[] = [];
    const client = new Registry(registry.host, {
      headers: { 'X-Api-Key': ['k-123'] },
      debug: (line) => lines.push(line),
    });
    await client.ping();
    await client.close();
    expect(registry.requests[0]?.headers['x-api-key']).toBe('k-123');
    expect(lines.join('\n')).toContain('x-api-key: REDACTED');
    expect(lines.join('\n')).not.toContain('k-123');
  });
});

describe('resolve (--resolve host:port:address[:port])', () => {
  it('dials the address for the name, keeping the name in the Host header', async () => {
    const registry = await server();
    registry.handle = (_req, res) => json(res, 200, { name: 'a/b', tags: ['v1'] });
    const port = Number(registry.host.split(':')[1]);
    const client = new Registry(`registry.test:${port}`, {
      plainHttp: true,
      retry: { retries: 0 },
      resolve: [{ host: 'registry.test', port, address: '127.0.0.1' }],
    });
    expect(await client.repository('a/b').tags()).toEqual(['v1']);
    await client.close();
    expect(registry.requests[0]?.headers.host).toBe(`registry.test:${port}`);
  });

  it('dials another port when the rule names one', async () => {
    const registry = await server();
    registry.handle = (_req, res) => json(res, 200, {});
    const port = Number(registry.host.split(':')[1]);
    const client = new Registry('registry.test:5000', {
      plainHttp: true,
      retry: { retries: 0 },
      resolve: [{ host: 'REGISTRY.test', port: 5000, address: '127.0.0.1', addressPort: port }],
    });
    await client.ping();
    await client.close();
    expect(registry.requests[0]?.headers.host).toBe('registry.test:5000');
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A client CA and a client certificate it signed, made with openssl. */
function makeClientCertificate(): {
  caPem: string;
  cert: string;
  key: string;
  otherCert: string;
  otherKey: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-test-client-ca-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=ferry client CA',
    );
    openssl(
      'req',
      ...ec,
      '-keyout',
      file('client.key'),
      '-out',
      file('client.csr'),
      '-subj',
      '/CN=ferry client',
    );
    writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl(
      'x509',
      '-req',
      '-in',
      file('client.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      '7',
      '-out',
      file('client.crt'),
      '-days',
      '2',
      '-extfile',
      file('client.ext'),
    );
    // Self-signed: a certificate the server's client CA did not issue.
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('other.key'),
      '-out',
      file('other.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=stranger',
    );
    return {
      caPem: readFileSync(file('ca.crt'), 'utf8'),
      cert: readFileSync(file('client.crt'), 'utf8'),
      key: readFileSync(file('client.key'), 'utf8'),
      otherCert: readFileSync(file('other.crt'), 'utf8'),
      otherKey: readFileSync(file('other.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A CA and a server certificate for `registry.test` only, made with openssl. */
function makeNamedServerCertificate(): { caPem: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-test-named-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=ferry named CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl(
      'req',
      ...ec,
      '-keyout',
      file('server.key'),
      '-out',
      file('server.csr'),
      '-subj',
      '/CN=registry.test',
    );
    writeFileSync(file('server.ext'), 'subjectAltName=DNS:registry.test\n');
    openssl(
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      '9',
      '-out',
      file('server.crt'),
      '-days',
      '2',
      '-extfile',
      file('server.ext'),
    );
    return {
      caPem: readFileSync(file('ca.crt'), 'utf8'),
      cert: readFileSync(file('server.crt'), 'utf8'),
      key: readFileSync(file('server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(hasOpenssl)('resolve over https', () => {
  it('sends the name as SNI and verifies the certificate against the name, not the address', async () => {
    const named = makeNamedServerCertificate();
    const names: unknown[] = [];
    const https = createHttpsServer({ key: named.key, cert: named.cert }, (req, res) => {
      names.push((req.socket as TLSSocket & { servername?: unknown }).servername);
      json(res, 200, {});
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    try {
      const client = new Registry(`registry.test:${port}`, {
        ca: named.caPem,
        retry: { retries: 0 },
        resolve: [{ host: 'registry.test', port, address: '127.0.0.1' }],
      });
      await client.ping();
      await client.close();
      expect(names).toEqual(['registry.test']);

      // Reached by its address, the same server's certificate (for registry.test only) fails.
      const byAddress = new Registry(`127.0.0.1:${port}`, {
        ca: named.caPem,
        retry: { retries: 0 },
      });
      const error = await byAddress.ping().catch((e: unknown) => e);
      await byAddress.close();
      expect(String((error as Error).message)).toMatch(/altnames|certificate/i);
      expect(names).toEqual(['registry.test']);
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });
});

describe.runIf(hasOpenssl)('mutual TLS (cert, key)', () => {
  it('presents the client certificate to a server that requires one, and fails without', async () => {
    const serverCerts = makeTestCertificates();
    const client = makeClientCertificate();
    const peers: string[] = [];
    const https = createHttpsServer(
      {
        key: serverCerts.key,
        cert: serverCerts.cert,
        ca: client.caPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        peers.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        json(res, 200, {});
      },
    );
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(https.address() as AddressInfo).port}`;
    try {
      const withCert = new Registry(host, {
        ca: serverCerts.caPem,
        cert: client.cert,
        key: client.key,
        retry: { retries: 0 },
      });
      await withCert.ping();
      await withCert.close();
      expect(peers).toEqual(['ferry client']);

      for (const tls of [{}, { cert: client.otherCert, key: client.otherKey }]) {
        const refused = new Registry(host, {
          ca: serverCerts.caPem,
          retry: { retries: 0 },
          ...tls,
        });
        const error = await refused.ping().catch((e: unknown) => e);
        await refused.close();
        expect(error).toBeInstanceOf(Error);
      }
      expect(peers).toEqual(['ferry client']);
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });
});

describe('referrersApi (--distribution-spec)', () => {
  const subject = `sha256:${'a'.repeat(64)}`;
  const fallbackIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      {
        mediaType: MediaType.OciManifest,
        digest: `sha256:${'b'.repeat(64)}`,
        size: 10,
        artifactType: 'x/tag',
      },
    ],
  };
  /** A registry with both: the API lists `x/api`, the tag schema `x/tag`. */
  function both(registry: LoopbackServer) {
    registry.handle = (req, res) => {
      if (req.url?.startsWith('/v2/a/b/referrers/')) {
        return json(res, 200, {
          ...fallbackIndex,
          manifests: [{ ...fallbackIndex.manifests[0], artifactType: 'x/api' }],
        });
      }
      if (req.url === `/v2/a/b/manifests/sha256-${'a'.repeat(64)}`) {
        const body = Buffer.from(JSON.stringify(fallbackIndex));
        res.writeHead(200, { 'content-type': MediaType.OciIndex, 'content-length': body.length });
        res.end(body);
        return;
      }
      json(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
    };
  }

  it('false reads the tag schema without asking the API; true reads the API', async () => {
    const registry = await server();
    both(registry);
    const tagOnly = new Registry(registry.host, { referrersApi: false });
    expect((await tagOnly.repository('a/b').referrers(subject)).map((d) => d.artifactType)).toEqual(
      ['x/tag'],
    );
    await tagOnly.close();
    expect(registry.requests.map((r) => r.url)).toEqual([
      `/v2/a/b/manifests/sha256-${'a'.repeat(64)}`,
    ]);
    const apiOnly = new Registry(registry.host, { referrersApi: true });
    expect((await apiOnly.repository('a/b').referrers(subject)).map((d) => d.artifactType)).toEqual(
      ['x/api'],
    );
    await apiOnly.close();
  });

  it('true refuses a registry without the API instead of reading the tag', async () => {
    const registry = await server();
    registry.handle = (_req, res) => json(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
    const apiOnly = new Registry(registry.host, { referrersApi: true, retry: { retries: 0 } });
    const error = await apiOnly
      .repository('a/b')
      .referrers(subject)
      .catch((e: unknown) => e);
    await apiOnly.close();
    expect((error as Error).message).toContain(
      `the registry has no referrers API (GET ${registry.origin}/v2/a/b/referrers/${subject}: 404)`,
    );
    expect(registry.requests.map((r) => r.url)).toEqual([`/v2/a/b/referrers/${subject}`]);
  });

  it('false updates the tag even when the registry says it indexed the subject; true never', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'x/sig',
        config: {
          mediaType: 'application/vnd.oci.empty.v1+json',
          digest: `sha256:${'4'.repeat(64)}`,
          size: 2,
        },
        layers: [],
        subject: { mediaType: MediaType.OciManifest, digest: subject, size: 10 },
      }),
    );
    for (const [referrersApi, expected] of [
      [
        false,
        [
          'PUT /v2/a/b/manifests/v1',
          `GET /v2/a/b/manifests/sha256-${'a'.repeat(64)}`,
          `PUT /v2/a/b/manifests/sha256-${'a'.repeat(64)}`,
        ],
      ],
      [true, ['PUT /v2/a/b/manifests/v1']],
    ] as const) {
      const registry = await server();
      registry.handle = (req, res) => {
        if (req.method === 'PUT') {
          res.writeHead(201, { 'content-length': 0, 'oci-subject': subject });
          res.end();
          return;
        }
        json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      };
      const client = new Registry(registry.host, { referrersApi, retry: { retries: 0 } });
      await client.repository('a/b').manifests.push('v1', manifest);
      await client.close();
      expect(registry.requests.map((r) => `${r.method} ${r.url}`)).toEqual(expected);
    }
  });
});
