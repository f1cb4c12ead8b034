import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { startRegistry } from './harness/index.js';
import type { TestRegistry } from './harness/index.js';
import { expectBlobRoundTrip, randomRepo } from './support/blob-roundtrip.js';
import { RegistryClient } from './support/registry-client.js';

describe('registry harness: anonymous mode', () => {
  let registry: TestRegistry;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry({ mode: 'anonymous' });
    client = new RegistryClient(registry);
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('serves plain HTTP on a loopback port with no auth', async () => {
    expect(registry.url).toBe(`http://${registry.host}`);
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(registry.users).toEqual([]);
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    await res.body?.cancel();
  });

  it('round-trips a blob', async () => {
    await expectBlobRoundTrip(client, randomRepo('anon'));
  });

  it('stores blobs under the per-run storage dir', async () => {
    const digest = await expectBlobRoundTrip(client, randomRepo('anon-storage'));
    const hex = digest.slice('sha256:'.length);
    const path = `${registry.storageDir}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    expect(existsSync(path)).toBe(true);
  });
});
