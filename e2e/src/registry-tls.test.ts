import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import { startRegistry } from './harness/index.js';
import type { TestRegistry } from './harness/index.js';
import { expectBlobRoundTrip, randomRepo } from './support/blob-roundtrip.js';
import { RegistryClient } from './support/registry-client.js';

function peerCertificate(host: string, port: number, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

describe('registry harness: TLS mode', () => {
  let registry: TestRegistry;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry({ mode: 'tls' });
    client = new RegistryClient(registry);
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('serves HTTPS with a per-run CA', () => {
    expect(registry.url).toBe(`https://${registry.host}`);
    expect(registry.caPem).toContain('BEGIN CERTIFICATE');
    expect(readFileSync(registry.caFile!, 'utf8')).toBe(registry.caPem);
    expect(new X509Certificate(registry.caPem!).ca).toBe(true);
  });

  it('fails certificate verification without the CA', async () => {
    const err = await fetch(`${registry.url}/v2/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    const code = String((err as { cause?: { code?: string } }).cause?.code);
    expect(code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  });

  it('answers with the CA, on 127.0.0.1 and localhost', async () => {
    const dispatcher = new Agent({ connect: { ca: registry.caPem } });
    try {
      for (const base of [registry.url, registry.url.replace('127.0.0.1', 'localhost')]) {
        const res = await fetch(`${base}/v2/`, { dispatcher });
        expect(res.status).toBe(200);
        await res.body?.cancel();
      }
    } finally {
      await dispatcher.close();
    }
  });

  it('presents a server certificate for 127.0.0.1 issued by the CA', async () => {
    const port = Number(registry.host.split(':')[1]);
    const cert = await peerCertificate('127.0.0.1', port, registry.caPem!);
    expect(cert.subjectaltname).toContain('IP Address:127.0.0.1');
    expect(cert.subjectaltname).toContain('DNS:localhost');
    const x509 = new X509Certificate(cert.raw);
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIssued(new X509Certificate(registry.caPem!))).toBe(true);
  });

  it('round-trips a blob over TLS', async () => {
    await expectBlobRoundTrip(client, randomRepo('tls'));
  });
});
