import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRetryableError } from './retry-policy.js';
import { isNotTlsError } from './trace-format.js';
import { makeTestCertificates, type TestCertificates } from './testing/tls.js';
import {
  answerWith,
  onlyConnection,
  pumpAll,
  RawServers,
  sha256,
  testConnector,
} from './testing/bulk-client.js';
import { type Answer, type RawServer } from './testing/raw-server.js';

const servers = new RawServers();
afterEach(() => servers.closeAll());

describe('BulkConnector over TLS', () => {
  let forLoopback: TestCertificates;
  let forRegistryTest: TestCertificates;
  beforeAll(() => {
    forLoopback = makeTestCertificates();
    forRegistryTest = makeTestCertificates('DNS:registry.test');
  });

  async function serveTls(certificates: TestCertificates, answer: Answer): Promise<RawServer> {
    return servers.serve(answer, { tls: { key: certificates.key, cert: certificates.cert } });
  }

  const ok = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

  it('GETs with the test CA trusted, and sends no SNI for an IP address', async () => {
    const raw = await serveTls(forLoopback, answerWith(ok));
    const response = await testConnector({
      tls: { ca: forLoopback.caPem, rejectUnauthorized: true },
    }).request({ url: new URL(`https://127.0.0.1:${raw.port}/v2/`), headers: { 'x-a': '1' } });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    const connection = onlyConnection(raw);
    expect(await connection.head).toBe(
      `GET /v2/ HTTP/1.1\r\nhost: 127.0.0.1:${raw.port}\r\nx-a: 1\r\n\r\n`,
    );
    expect(connection.servername).toBeFalsy();
    await connection.closed;
  });

  it('reads a 1 MB body over TLS through a 1 KiB read buffer', async () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.byteLength; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
    const raw = await serveTls(
      forLoopback,
      answerWith(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${big.byteLength}\r\n\r\n`),
          big,
        ]),
      ),
    );
    const response = await testConnector({
      tls: { ca: forLoopback.caPem, rejectUnauthorized: true },
      readBufferSize: 1024,
    }).request({ url: new URL(`https://127.0.0.1:${raw.port}/`), headers: {} });
    let largest = 0;
    const hash = createHash('sha256');
    await response.body.pump({
      take: (data) => {
        largest = Math.max(largest, data.byteLength);
        hash.update(data);
        return true;
      },
      ready: () => Promise.resolve(),
    });
    expect(hash.digest('hex')).toBe(sha256(big));
    expect(largest).toBeLessThanOrEqual(1024);
  });

  it('fails with the certificate error, once, when the CA is not trusted', async () => {
    const raw = await serveTls(forLoopback, answerWith(ok));
    const error = await testConnector()
      .request({ url: new URL(`https://127.0.0.1:${raw.port}/`), headers: {} })
      .then(
        () => new Error('the request succeeded'),
        (caught: unknown) => caught as Error,
      );
    expect(error).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // Neither a server without TLS (the plain-http fallback) nor a passing network fault.
    expect(isNotTlsError(error)).toBe(false);
    expect(isRetryableError(error)).toBe(false);
    expect(raw.accepted()).toBe(1);
    expect(raw.connections).toHaveLength(0);
  });

  it('fails as "not TLS" against a plain-http server, for the plain-http fallback', async () => {
    const raw = await servers.serve((connection) => {
      connection.socket.once('data', () =>
        connection.socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'),
      );
    });
    const error = await testConnector()
      .request({ url: new URL(`https://127.0.0.1:${raw.port}/`), headers: {} })
      .then(
        () => new Error('the request succeeded'),
        (caught: unknown) => caught as Error,
      );
    expect(isNotTlsError(error)).toBe(true);
  });

  it('GETs without verification when rejectUnauthorized is false', async () => {
    const raw = await serveTls(forLoopback, answerWith(ok));
    const response = await testConnector({ tls: { rejectUnauthorized: false } }).request({
      url: new URL(`https://127.0.0.1:${raw.port}/`),
      headers: {},
    });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
  });

  it('verifies the certificate against the name in the URL, not the address dialled', async () => {
    // The certificate is valid for registry.test only.
    const raw = await serveTls(forRegistryTest, answerWith(ok));
    await expect(
      testConnector({ tls: { ca: forRegistryTest.caPem, rejectUnauthorized: true } }).request({
        url: new URL(`https://127.0.0.1:${raw.port}/`),
        headers: {},
      }),
    ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('dials the address of a resolve rule while Host, SNI and verification keep the name', async () => {
    const raw = await serveTls(forRegistryTest, answerWith(ok));
    const response = await testConnector({
      tls: { ca: forRegistryTest.caPem, rejectUnauthorized: true },
      resolve: [{ host: 'Registry.Test', port: raw.port, address: '127.0.0.1' }],
    }).request({ url: new URL(`https://registry.test:${raw.port}/v2/`), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    const connection = onlyConnection(raw);
    expect(connection.servername).toBe('registry.test');
    expect(await connection.head).toBe(
      `GET /v2/ HTTP/1.1\r\nhost: registry.test:${raw.port}\r\n\r\n`,
    );
  });

  it('dials the port of a resolve rule for the default https port', async () => {
    const raw = await serveTls(forRegistryTest, answerWith(ok));
    const response = await testConnector({
      tls: { ca: forRegistryTest.caPem, rejectUnauthorized: true },
      resolve: [{ host: 'registry.test', port: 443, address: '127.0.0.1', addressPort: raw.port }],
    }).request({ url: new URL('https://registry.test/v2/'), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    expect(await onlyConnection(raw).head).toBe('GET /v2/ HTTP/1.1\r\nhost: registry.test\r\n\r\n');
  });

  it('keeps the brackets of an IPv6 literal in Host when a rule dials another address', async () => {
    const raw = await servers.serve(answerWith(ok));
    const response = await testConnector({
      resolve: [{ host: '::1', port: raw.port, address: '127.0.0.1' }],
    }).request({ url: new URL(`http://[::1]:${raw.port}/v2/`), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    expect(await onlyConnection(raw).head).toContain(`host: [::1]:${raw.port}\r\n`);
  });

  it('dials the address of a resolve rule for plain http', async () => {
    const raw = await servers.serve(answerWith(ok));
    const response = await testConnector({
      resolve: [{ host: 'registry.test', port: raw.port, address: '127.0.0.1' }],
    }).request({ url: new URL(`http://registry.test:${raw.port}/v2/`), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    expect(await onlyConnection(raw).head).toContain(`host: registry.test:${raw.port}\r\n`);
  });
});
