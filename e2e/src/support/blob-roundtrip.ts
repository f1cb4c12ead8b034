import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { RegistryClient } from './registry-client.js';
import { sha256 } from './registry-client.js';

/** Random content, with an odd size so a length bug cannot hide behind a round number. */
export function randomBlob(): Uint8Array {
  return new Uint8Array(randomBytes(4096 + Math.floor(Math.random() * 4096) + 1));
}

export function randomRepo(prefix: string): string {
  return `ferry-e2e/${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Pushes a blob, then checks GET returns the exact bytes and HEAD the right length. */
export async function expectBlobRoundTrip(
  client: RegistryClient,
  repo: string,
  bytes: Uint8Array = randomBlob(),
): Promise<string> {
  const push = await client.pushBlob(repo, bytes);
  expect(push.start.status).toBe(202);
  expect(push.location).toBeTruthy();
  expect(push.location).toContain('_state=');
  expect(push.finish?.status).toBe(201);
  expect(push.finish?.headers.get('docker-content-digest')).toBe(push.digest);

  const get = await client.getBlob(repo, push.digest);
  expect(get.status).toBe(200);
  const body = new Uint8Array(await get.arrayBuffer());
  expect(body.byteLength).toBe(bytes.byteLength);
  expect(Buffer.from(body).equals(Buffer.from(bytes))).toBe(true);
  expect(sha256(body)).toBe(push.digest);

  const head = await client.headBlob(repo, push.digest);
  expect(head.status).toBe(200);
  expect(head.headers.get('content-length')).toBe(String(bytes.byteLength));
  expect(head.headers.get('docker-content-digest')).toBe(push.digest);
  await head.body?.cancel();
  return push.digest;
}
