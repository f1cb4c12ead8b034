/**
 * The trust rules on the bulk path over TLS and with a proxy in the environment (see
 * bulk-trust.test.ts).
 */
import { FerryError } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryErrorCode } from './errors.js';
import { makeTestCertificates, type TestCertificates } from './testing/tls.js';

import {
  bulkTrustFixture,
  blob,
  blobPath,
  ALICE,
  ALICE_BASIC,
  USER_HEADERS,
  BARE_BULK_HEADERS,
  hasOpenssl,
  ownConnections,
  serveBlob,
  redirect,
  unauthorized,
  secretsReceived,
  headerNames,
  startForwardProxy,
} from './testing/bulk-trust-fixture.js';

const { server, registry, pull } = bulkTrustFixture();

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
