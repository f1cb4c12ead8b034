// Error statuses injected by the proxy: a transient 429/5xx is retried (after Retry-After when the
// server names one) and the command succeeds with the right bytes; a persistent one ends in exit
// 1 with a message naming the status and the URL, and nothing at the final path.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestLine } from './support/cli-fixture.js';
import {
  BLOB,
  entries,
  expectStoredArtifact,
  expectStoredBlob,
  MANIFEST,
  MiB,
  pushFile,
  randomBlob,
  requestsTo,
  sha256,
  UPLOAD,
  useFaultFixture,
} from './faults/fixture.js';
import type { ProxyRequest } from './faults/proxy.js';

const fx = useFaultFixture('anonymous');
const content = randomBlob(MiB);
let ref = '';
let blobRef = '';

beforeAll(async () => {
  const repo = fx.repo('retry');
  ref = `${repo}:v1`;
  await pushFile(fx, ref, 'model.bin', content);
  blobRef = `${repo}@sha256:${sha256(content)}`;
});

type Command = 'pull' | 'blob fetch' | 'push' | 'blob push -';

/**
 * Runs `command` under the current script and checks that it produced the right bytes (what a
 * push stored is read straight from the registry); returns the proxy's log.
 */
async function runAndCheck(command: Command): Promise<ProxyRequest[]> {
  const out = join(fx.dir, 'out');
  if (command === 'pull') {
    await fx.ok(['pull', ref, '-o', 'out']);
    expect(sha256(await readFile(join(out, 'model.bin')))).toBe(sha256(content));
  } else if (command === 'blob fetch') {
    await fx.ok(['blob', 'fetch', blobRef, '-o', 'out/blob.bin']);
    expect(sha256(await readFile(join(out, 'blob.bin')))).toBe(sha256(content));
  } else if (command === 'push') {
    const data = randomBlob(MiB);
    await fx.write('pushed.bin', data);
    const repo = fx.repo('pushed');
    await fx.ok(['push', `${repo}:v1`, 'pushed.bin']);
    await expectStoredArtifact(fx, repo, 'v1', data);
  } else {
    // Over one 8 MiB chunk, so the upload is two PATCHes.
    const data = randomBlob(9 * MiB);
    const repo = fx.repo('chunked');
    const result = await fx.ok(['blob', 'push', repo, '-', '--chunk-size', '8MiB'], data);
    expect(digestLine(result)).toBe(`sha256:${sha256(data)}`);
    await expectStoredBlob(fx, repo, data);
  }
  return [...fx.proxy.requests];
}

const TARGETS: Record<string, { method: string; path: RegExp; nth?: number }> = {
  'the manifest GET': { method: 'GET', path: MANIFEST },
  'the blob GET': { method: 'GET', path: BLOB },
  'the blob HEAD': { method: 'HEAD', path: BLOB },
  'the upload POST': { method: 'POST', path: UPLOAD },
  'the blob PUT': { method: 'PUT', path: UPLOAD },
  'the manifest PUT': { method: 'PUT', path: MANIFEST },
  // Not the first: recovering the first chunk trips over registry:2's `Range: 0-0` for an empty
  // upload (see fault-upload.test.ts).
  'the second PATCH chunk': { method: 'PATCH', path: UPLOAD, nth: 2 },
};

const transient: [status: number, retryAfter: string | undefined, target: string, Command][] = [
  [500, undefined, 'the manifest GET', 'pull'],
  [502, undefined, 'the blob GET', 'pull'],
  [503, undefined, 'the blob GET', 'blob fetch'],
  [429, undefined, 'the blob HEAD', 'blob fetch'],
  [503, undefined, 'the upload POST', 'push'],
  [500, undefined, 'the manifest PUT', 'push'],
  [503, undefined, 'the second PATCH chunk', 'blob push -'],
  [503, '1', 'the blob GET', 'pull'],
  [429, '1', 'the blob GET', 'pull'],
  [503, '1', 'the blob PUT', 'push'],
  [429, '1', 'the blob PUT', 'push'],
  [503, '1', 'the second PATCH chunk', 'blob push -'],
  [429, '1', 'the second PATCH chunk', 'blob push -'],
];

describe('fault injection: transient error statuses', () => {
  for (const [status, retryAfter, target, command] of transient) {
    const { method, path, nth = 1 } = TARGETS[target] ?? { method: '?', path: /$^/ };
    const title = retryAfter
      ? `retries a ${status} with Retry-After: ${retryAfter} on ${target} no sooner than ${retryAfter} s later (${command})`
      : `retries a ${status} on ${target} (${command})`;
    it(title, async () => {
      fx.proxy.script([
        { match: { method, path, nth }, fault: { status, ...(retryAfter ? { retryAfter } : {}) } },
      ]);
      const log = await runAndCheck(command);
      const faulted = log.find((r) => r.fault === 'status');
      expect(faulted?.status).toBe(status);
      // The same resource again. An upload PUT is retried in a new session (registry:2 drops a
      // session whose request broke off), so any upload session's path counts.
      const resource = (r?: ProxyRequest) => {
        const [path = '', query = ''] = (r?.path ?? '').split('?');
        const digest = new URLSearchParams(query).get('digest');
        // An upload PUT is the same resource when it finishes the same blob, whatever session.
        return digest ? `${r?.method} ${digest}` : `${r?.method} ${path}`;
      };
      const retry = log.find(
        (r) => r.seq > (faulted?.seq ?? 0) && resource(r) === resource(faulted),
      );
      expect(retry, `no ${resource(faulted)} after the ${status}`).toBeDefined();
      if (retryAfter) {
        const waited = (retry?.startedAt ?? 0) - (faulted?.endedAt ?? 0);
        expect(waited, `retried ${waited} ms after Retry-After: 1`).toBeGreaterThanOrEqual(950);
      }
    });
  }
});

describe('fault injection: persistent error statuses', () => {
  it('fails with exit 1 naming 503 and the URL when every blob GET answers 503', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { status: 503 } }]);
    const result = await fx.run(['pull', ref, '-o', 'out']);
    expect(result.code).toBe(1);
    const url = `http://${fx.proxy.host}/v2/${blobRef.slice(fx.proxy.host.length + 1).replace('@', '/blobs/')}`;
    expect(result.stderr).toContain(`Error: GET ${url}: 503`);
    // The first attempt and every retry of the policy (5).
    expect(requestsTo(fx.proxy, 'GET', BLOB).length).toBeGreaterThanOrEqual(6);
    expect(await entries(join(fx.dir, 'out'))).toEqual([]);
  });
});
