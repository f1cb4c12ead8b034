// Blob downloads redirected to a storage origin (as S3 or a CDN serve them) that answers 400 to
// any request carrying its own Authorization: ferry must follow the redirect with no credentials
// for the other origin, while the registry itself still gets them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLOB,
  MiB,
  pushFile,
  randomBlob,
  requestsTo,
  sha256,
  useFaultFixture,
} from './faults/fixture.js';

const fx = useFaultFixture('basic');
const content = randomBlob(2 * MiB);
let repo = '';

beforeAll(async () => {
  repo = fx.repo('redirect');
  await pushFile(fx, `${repo}:v1`, 'model.bin', content);
});

describe('fault injection: redirects to a storage origin', () => {
  it('pulls a blob redirected to storage without sending it Authorization', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { redirectTo: 'storage' } }]);
    await fx.ok(['pull', `${repo}:v1`, '-o', 'out']);
    expect(sha256(await readFile(join(fx.dir, 'out', 'model.bin')))).toBe(sha256(content));
    const [redirected] = requestsTo(fx.proxy, 'GET', BLOB);
    // ferry had credentials, and used them on the registry…
    expect(redirected).toMatchObject({ status: 307, auth: 'Basic' });
    // …but not on the storage origin, which would have refused them.
    const storage = fx.proxy.storage.requests;
    expect(storage.length).toBeGreaterThanOrEqual(1);
    expect(storage.map((r) => r.authorization)).not.toContain(true);
    expect(storage.map((r) => r.status)).toEqual(storage.map(() => 200));
  });

  it('fetches a blob by digest through the redirect, identical bytes', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { redirectTo: 'storage' } }]);
    const ref = `${repo}@sha256:${sha256(content)}`;
    await fx.ok(['blob', 'fetch', ref, '-o', 'out/blob.bin']);
    expect(sha256(await readFile(join(fx.dir, 'out', 'blob.bin')))).toBe(sha256(content));
    expect(fx.proxy.storage.requests.map((r) => r.authorization)).toEqual([false]);
  });
});
