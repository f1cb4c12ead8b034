// Uploads through a proxy that cuts request bodies and restarts the registry mid-request:
// interrupted chunks resume from the upload's status Range, interrupted PUTs are retried, and a
// push that cannot finish leaves no tag pointing at missing blobs.
//
// registry:2 stores whatever part of a body reached it before the connection broke, and then
// refuses the session's old `_state` (404 BLOB_UPLOAD_INVALID) for status checks and retries
// alike. So each cut is tested twice: behind a buffering proxy (nothing reached the registry)
// and with 1 MiB of the body stored by the registry.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestLine } from './support/cli-fixture.js';
import {
  expectManifestOnlyAfterBlobs,
  listedTags,
  expectStoredBlob,
  MiB,
  randomBlob,
  requestsTo,
  sha256,
  UPLOAD,
  useFaultFixture,
} from './faults/fixture.js';

const fx = useFaultFixture('anonymous');
const CHUNK = 8 * MiB; // ferry's PATCH chunk size

/** `blob push -` of `data` in 8 MiB PATCH chunks (`--chunk-size`). */
async function pushStdin(data: Buffer) {
  const repo = fx.repo('chunked');
  const result = await fx.run(['blob', 'push', repo, '-', '--chunk-size', '8MiB'], data);
  return { repo, result };
}

describe('fault injection: chunked uploads (PATCH)', () => {
  // The first chunk too: registry:2 reports an empty upload as `Range: 0-0`, as it does one byte.
  it.each([1, 2])(
    'resumes from the status Range after PATCH #%i is cut before the registry saw it',
    async (nth) => {
      const data = randomBlob(20 * MiB);
      fx.proxy.script([
        {
          match: { method: 'PATCH', path: UPLOAD, nth },
          fault: { closeRequestAfterBytes: MiB, holdBody: true },
        },
      ]);
      const { repo, result } = await pushStdin(data);
      const log = fx.proxy.requests.filter((r) => UPLOAD.test(r.path));
      const cutAt = log.findIndex((r) => r.fault === 'closeRequestAfterBytes');
      expect(log[cutAt + 1]).toMatchObject({ method: 'GET', status: 204 });
      // The whole chunk again, from where the registry's Range says it stopped.
      const start = (nth - 1) * CHUNK;
      expect(log[cutAt + 2]).toMatchObject({
        method: 'PATCH',
        contentRange: `${start}-${start + CHUNK - 1}`,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(digestLine(result)).toBe(`sha256:${sha256(data)}`);
      const patched = requestsTo(fx.proxy, 'PATCH', UPLOAD).filter((r) => r.status === 202);
      expect(patched.reduce((sum, r) => sum + r.bytesIn, 0)).toBe(data.byteLength);
      await expectStoredBlob(fx, repo, data);
    },
  );

  it('finishes a chunked upload after a PATCH cut when 1 MiB of it had reached the registry', async () => {
    const data = randomBlob(20 * MiB);
    fx.proxy.script([
      { match: { method: 'PATCH', path: UPLOAD, nth: 2 }, fault: { closeRequestAfterBytes: MiB } },
    ]);
    const { repo, result } = await pushStdin(data);
    expect(result.code, result.stderr).toBe(0);
    expect(digestLine(result)).toBe(`sha256:${sha256(data)}`);
    // Resumed, or (registry:2 having dropped the session) started again: never sent twice over.
    const sent = requestsTo(fx.proxy, 'PATCH', UPLOAD).reduce((sum, r) => sum + r.bytesIn, 0);
    expect(sent).toBeLessThanOrEqual(2 * data.byteLength);
    await expectStoredBlob(fx, repo, data);
  });
});

describe('fault injection: monolithic uploads (PUT)', () => {
  it('retries a blob PUT cut before the registry saw it', async () => {
    const data = randomBlob(4 * MiB);
    await fx.write('blob.bin', data);
    fx.proxy.script([
      {
        match: { method: 'PUT', path: UPLOAD, nth: 1 },
        fault: { closeRequestAfterBytes: MiB, holdBody: true },
      },
    ]);
    const repo = fx.repo('put');
    const result = await fx.ok(['blob', 'push', repo, 'blob.bin']);
    expect(digestLine(result)).toBe(`sha256:${sha256(data)}`);
    const puts = requestsTo(fx.proxy, 'PUT', UPLOAD);
    expect(puts.map((r) => r.status)).toEqual([undefined, 201]);
    expect(puts[1]?.bytesIn).toBe(data.byteLength);
    await expectStoredBlob(fx, repo, data);
  });

  it('retries a blob PUT cut after 1 MiB of it had reached the registry', async () => {
    const data = randomBlob(4 * MiB);
    await fx.write('blob.bin', data);
    fx.proxy.script([
      { match: { method: 'PUT', path: UPLOAD, nth: 1 }, fault: { closeRequestAfterBytes: MiB } },
    ]);
    const repo = fx.repo('put');
    const result = await fx.run(['blob', 'push', repo, 'blob.bin']);
    expect(result.code, result.stderr).toBe(0);
    expect(digestLine(result)).toBe(`sha256:${sha256(data)}`);
    await expectStoredBlob(fx, repo, data);
  });
});

describe('fault injection: registry restarts and persistent upload failures', () => {
  it('finishes a push when the registry restarts in the middle of the layer PUT', async () => {
    const data = randomBlob(4 * MiB);
    await fx.write('model.bin', data);
    const layer = new RegExp(`^/v2/.+/blobs/uploads/.*digest=sha256%3A${sha256(data)}`);
    fx.proxy.script([
      { match: { method: 'PUT', path: layer, nth: 1 }, fault: { restartRegistry: true } },
    ]);
    const restarts = fx.restarter.restarts;
    const repo = fx.repo('restart');
    const result = await fx.run(['push', `${repo}:v1`, 'model.bin']);
    expect(fx.restarter.restarts).toBe(restarts + 1);
    expect(result.code, result.stderr).toBe(0);
    // The manifest went up once, and only after the layer's PUT finally succeeded (read the
    // proxy's log before script() clears it).
    expect(expectManifestOnlyAfterBlobs(fx, repo, [sha256(data)])).toHaveLength(1);
    fx.proxy.script([]);
    await fx.ok(['pull', `${repo}:v1`, '-o', 'out']);
    expect(sha256(await readFile(join(fx.dir, 'out', 'model.bin')))).toBe(sha256(data));
  });

  it('fails a push with exit 1 naming 503 when every upload PUT answers 503, and tags nothing', async () => {
    const data = randomBlob(MiB);
    await fx.write('model.bin', data);
    fx.proxy.script([{ match: { method: 'PUT', path: UPLOAD }, fault: { status: 503 } }]);
    const repo = fx.repo('persistent');
    const result = await fx.run(['push', `${repo}:v1`, 'model.bin']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: PUT http:\/\/127\.0\.0\.1:\d+\/v2\/faults\/persistent-.*: 503/m,
    );
    expect(requestsTo(fx.proxy, 'PUT', UPLOAD).length).toBeGreaterThanOrEqual(6);
    // ferry never tried to tag content whose layer never arrived (the log, before script()
    // clears it), and the registry holds no such tag.
    expect(requestsTo(fx.proxy, 'PUT', UPLOAD).length).toBeGreaterThan(0);
    expect(expectManifestOnlyAfterBlobs(fx, repo, [sha256(data)])).toEqual([]);
    fx.proxy.script([]);
    expect(await listedTags(fx, repo)).not.toContain('v1');
  });
});
