// Downloads through a proxy that breaks, slows and corrupts blob bodies: transient faults end in
// the same bytes (resumed with Range where the server allows it), corruption ends in exit 1 with
// nothing at the final path.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLOB,
  entries,
  MiB,
  pushFile,
  randomBlob,
  requestsTo,
  sha256,
  useFaultFixture,
} from './faults/fixture.js';

const fx = useFaultFixture('anonymous');
const SIZE = 4 * MiB;
/** Slack for "one chunk": what may be in flight when a connection breaks. */
const CHUNK = 64 * 1024;
const content = randomBlob(SIZE);
let ref = '';
let blobRef = '';

beforeAll(async () => {
  const repo = fx.repo('download');
  ref = `${repo}:v1`;
  await pushFile(fx, ref, 'model.bin', content);
  blobRef = `${repo}@sha256:${sha256(content)}`;
});

const pulled = () => readFile(join(fx.dir, 'out', 'model.bin'));
const blobGets = () => requestsTo(fx.proxy, 'GET', BLOB);

describe('fault injection: downloads', () => {
  it('resumes a blob body closed after 1 MiB with Range from the last byte received', async () => {
    fx.proxy.script([
      { match: { method: 'GET', path: BLOB, nth: 1 }, fault: { closeAfterBytes: MiB } },
    ]);
    await fx.ok(['pull', ref, '-o', 'out']);
    expect(sha256(await pulled())).toBe(sha256(content));
    const gets = blobGets();
    expect(gets).toHaveLength(2);
    expect(gets[0]?.bytesOut).toBe(MiB);
    const start = Number(/^bytes=(\d+)-$/.exec(gets[1]?.range ?? '')?.[1]);
    expect(start).toBeGreaterThanOrEqual(MiB - CHUNK);
    expect(start).toBeLessThanOrEqual(MiB);
    expect(gets[1]?.status).toBe(206);
    const total = gets.reduce((sum, r) => sum + r.bytesOut, 0);
    expect(total).toBeLessThanOrEqual(SIZE + CHUNK);
    expect(await entries(join(fx.dir, 'out'))).toEqual(['model.bin']);
  });

  it('restarts cleanly when the server ignores Range after a body closed after 1 MiB', async () => {
    fx.proxy.script([
      { match: { method: 'GET', path: BLOB, nth: 1 }, fault: { closeAfterBytes: MiB } },
      { match: { method: 'GET', path: BLOB }, fault: { ignoreRange: true } },
    ]);
    await fx.ok(['blob', 'fetch', blobRef, '-o', 'out/blob.bin']);
    expect(sha256(await readFile(join(fx.dir, 'out', 'blob.bin')))).toBe(sha256(content));
    const gets = blobGets();
    expect(gets).toHaveLength(2);
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(gets[1]?.status).toBe(200);
    expect(gets[1]?.bytesOut).toBe(SIZE);
    expect(await entries(join(fx.dir, 'out'))).toEqual(['blob.bin']);
  });

  it('completes a body trickled at 512 KiB/s', async () => {
    fx.proxy.script([
      {
        match: { method: 'GET', path: BLOB },
        fault: { trickle: { bytesPerSecond: 512 * 1024, afterBytes: SIZE - MiB } },
      },
    ]);
    await fx.ok(['pull', ref, '-o', 'out']);
    expect(sha256(await pulled())).toBe(sha256(content));
    const [get] = blobGets();
    expect(get?.bytesOut).toBe(SIZE);
    expect((get?.endedAt ?? 0) - (get?.startedAt ?? 0)).toBeGreaterThanOrEqual(1_500);
  });

  it('gives up with exit 1 when every attempt is cut, leaving nothing at the final path', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { closeAfterBytes: CHUNK } }]);
    const result = await fx.run(['pull', ref, '-o', 'out']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: GET https?:\/\/127\.0\.0\.1:\d+\/v2\/faults\/download-.*: the connection broke \d+ times; gave up at byte \d+ of 4194304$/m,
    );
    // Each attempt resumed where the previous one broke.
    const gets = blobGets();
    expect(gets.slice(1).map((r) => r.range)).toEqual(
      gets.slice(1).map((_, i) => `bytes=${(i + 1) * CHUNK}-`),
    );
    expect(await entries(join(fx.dir, 'out'))).toEqual([]);
  });

  it('fails with digest mismatch on a flipped byte and leaves nothing at the final path', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { flipByte: 2 * MiB + 7 } }]);
    const result = await fx.run(['pull', ref, '-o', 'out']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/digest mismatch/);
    expect(await entries(join(fx.dir, 'out'))).toEqual([]);

    const fetched = await fx.run(['blob', 'fetch', blobRef, '-o', 'out/blob.bin']);
    expect(fetched.code, fetched.stderr).toBe(1);
    expect(fetched.stderr).toMatch(/digest mismatch/);
    expect(await entries(join(fx.dir, 'out'))).toEqual([]);
  });

  it('fails with size mismatch when Content-Length is bigger than the descriptor', async () => {
    fx.proxy.script([
      { match: { method: 'GET', path: BLOB }, fault: { lieContentLength: SIZE + 1 } },
    ]);
    const result = await fx.run(['pull', ref, '-o', 'out']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/size mismatch/);
    expect(await entries(join(fx.dir, 'out'))).toEqual([]);
  });
});
