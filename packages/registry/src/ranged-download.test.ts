import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, DigestMismatchError } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rangeStatePath } from './range-state.js';
import { Registry } from './registry.js';
import {
  answerThenAbort,
  recordingSleep,
  requestedRange,
  serveRange,
  startLoopback,
  type LoopbackServer,
} from './testing/loopback.js';

const KiB = 1024;
const blob = randomBytes(1024 * KiB);
const digest = computeDigest(blob);
const descriptor = { digest, size: blob.byteLength };
const rangeSize = 128 * KiB;
const blobPath = `/v2/a/b/blobs/${digest}`;

let dir: string;
let file: string;
let server: LoopbackServer;
let registry: Registry;
const open: LoopbackServer[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-ranged-'));
  file = join(dir, 'blob.partial');
  server = await startLoopback();
  registry = new Registry(server.host, { sleep: recordingSleep().sleep });
});
afterEach(async () => {
  await registry.close();
  await server.close();
  for (const extra of open.splice(0)) await extra.close();
  await rm(dir, { recursive: true, force: true });
});

function servePart(request: IncomingMessage, response: ServerResponse, body = blob): void {
  serveRange(request, response, body);
}

function rangesAsked(recorded: LoopbackServer): string[] {
  return recorded.requests.map((request) => request.headers.range ?? '(none)');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('parallel ranged download', () => {
  it('reads the ranges over connections of its own (fixed buffer), kept from range to range', async () => {
    const trace: string[] = [];
    await registry.close();
    registry = new Registry(server.host, {
      sleep: recordingSleep().sleep,
      debug: (line) => trace.push(line),
    });
    const ports: number[] = [];
    server.handle = (request, response) => {
      ports.push(request.socket.remotePort ?? 0);
      servePart(request, response);
    };
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });
    expect(result.ranged).toBe(true);
    expect((await readFile(file)).equals(blob)).toBe(true);
    // (One more trace line: the first request tried https before this loopback host's http.)
    const ownConnections = trace.filter((line) => /^\* GET .*: own connection$/.test(line));
    expect(ownConnections.length).toBeGreaterThanOrEqual(blob.byteLength / rangeSize);
    expect(server.requests).toHaveLength(blob.byteLength / rangeSize);
    // The connections are kept from range to range: at most one per lane.
    expect(new Set(ports).size).toBeLessThanOrEqual(4);
    expect(server.requests.every((r) => r.headers.connection === undefined)).toBe(true);
  });

  it('fetches ranges four at a time and writes each at its offset', async () => {
    // After the first range (the probe), no range is answered until four are open at once: a
    // download one range at a time would hang here.
    let waiting: (() => void)[] = [];
    let gateOpen = false;
    let mostOpen = 0;
    server.handle = (request, response) => {
      if (server.requests.length === 1 || gateOpen) return servePart(request, response);
      waiting.push(() => servePart(request, response));
      mostOpen = Math.max(mostOpen, waiting.length);
      if (waiting.length >= 4) {
        gateOpen = true;
        const release = waiting;
        waiting = [];
        for (const answer of release) answer();
      }
    };
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result).toMatchObject({ ranged: true, fetchedBytes: blob.byteLength, resumedBytes: 0 });
    expect(mostOpen).toBe(4);
    expect(rangesAsked(server).sort()).toEqual(
      Array.from(
        { length: 8 },
        (_, i) => `bytes=${i * rangeSize}-${(i + 1) * rangeSize - 1}`,
      ).sort(),
    );
    expect(await exists(rangeStatePath(file))).toBe(false);
  });

  it('reports ranged: false and fetches nothing more when the registry ignores Range', async () => {
    server.handle = (_request, response) => {
      response.writeHead(200, { 'content-length': blob.byteLength });
      response.end(blob);
    };
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });

    expect(result.ranged).toBe(false);
    expect(server.requests).toHaveLength(1);
    // What is left for one stream to continue: a valid prefix (none here), no progress file.
    expect((await stat(file)).size).toBe(0);
    expect(await exists(rangeStatePath(file))).toBe(false);
  });

  it('keeps the prefix a single stream left and fetches only the rest', async () => {
    const prefix = 300 * KiB;
    await writeFile(file, blob.subarray(0, prefix));
    server.handle = (request, response) => servePart(request, response);
    const progress: number[] = [];
    const result = await registry.repository('a/b').blobs.downloadToFile(descriptor, file, {
      parallel: 2,
      rangeSize,
      onProgress: (bytes) => progress.push(bytes),
    });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result).toMatchObject({ resumedBytes: prefix, fetchedBytes: blob.byteLength - prefix });
    expect(progress[0]).toBe(prefix);
    expect(rangesAsked(server)).toContain(`bytes=${prefix}-${3 * rangeSize - 1}`);
    expect(rangesAsked(server).some((range) => range.startsWith('bytes=0-'))).toBe(false);
  });

  it('follows a redirect once, reuses its target for every range, and sends it no Authorization', async () => {
    const storage = await startLoopback((request, response) => servePart(request, response));
    open.push(storage);
    server.handle = (request, response) => {
      if (request.headers.authorization !== 'Bearer registry-secret') {
        response.writeHead(401, { 'www-authenticate': 'Bearer realm="x"' });
        return void response.end();
      }
      response.writeHead(307, { location: `${storage.origin}/bucket/blob?sig=abc` });
      response.end();
    };
    await registry.close();
    registry = new Registry(server.host, {
      sleep: recordingSleep().sleep,
      staticBearerToken: 'registry-secret',
    });
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 3, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.redirectedTo).toBe(storage.origin);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.url).toBe(blobPath);
    expect(storage.requests).toHaveLength(8);
    for (const request of storage.requests) {
      expect(request.url).toBe('/bucket/blob?sig=abc');
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers.cookie).toBeUndefined();
    }
  });

  it('sends the registry its credentials on every range (loopback: https tried, then plain http)', async () => {
    server.handle = (request, response) => {
      if (request.headers.authorization !== 'Bearer registry-secret') {
        response.writeHead(401, { 'www-authenticate': 'Bearer realm="x"' });
        return void response.end();
      }
      servePart(request, response);
    };
    await registry.close();
    registry = new Registry(server.host, {
      sleep: recordingSleep().sleep,
      staticBearerToken: 'registry-secret',
    });
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.redirectedTo).toBeUndefined();
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(
      server.requests.map(() => 'Bearer registry-secret'),
    );
    expect(server.requests).toHaveLength(8);
  });

  it('asks the registry again when the reused storage URL expires', async () => {
    let signature = 1;
    let expiredAnswers = 0;
    const storage = await startLoopback((request, response) => {
      if (!request.url?.endsWith(`sig=${signature}`)) {
        expiredAnswers++;
        response.writeHead(403);
        return void response.end();
      }
      // The first URL expires after three ranges.
      if (storage.requests.length === 3) signature = 2;
      servePart(request, response);
    });
    open.push(storage);
    server.handle = (_request, response) => {
      response.writeHead(307, { location: `${storage.origin}/blob?sig=${signature}` });
      response.end();
    };
    await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 1, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(expiredAnswers).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  it('resumes a range cut mid-way from the byte where it stopped', async () => {
    const cutRange = `bytes=${2 * rangeSize}-${3 * rangeSize - 1}`;
    const cutAfter = 50 * KiB;
    let cut = false;
    server.handle = (request, response) => {
      if (request.headers.range === cutRange && !cut) {
        cut = true;
        const start = 2 * rangeSize;
        response.writeHead(206, {
          'content-length': rangeSize,
          'content-range': `bytes ${start}-${start + rangeSize - 1}/${blob.byteLength}`,
        });
        response.write(blob.subarray(start, start + cutAfter), () =>
          setTimeout(() => response.socket?.destroy(), 20),
        );
        return;
      }
      servePart(request, response);
    };
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumes).toBe(1);
    expect(rangesAsked(server)).toContain(`bytes=${2 * rangeSize + cutAfter}-${3 * rangeSize - 1}`);
    // Every byte came over the wire once.
    expect(result.fetchedBytes).toBe(blob.byteLength);
  });

  it('drops a range that stalls mid-body and asks for the rest again', async () => {
    const stalledRange = `bytes=${rangeSize}-${2 * rangeSize - 1}`;
    const stallAfter = 40 * KiB;
    let stalled = false;
    server.handle = (request, response) => {
      if (request.headers.range === stalledRange && !stalled) {
        stalled = true;
        response.writeHead(206, {
          'content-length': rangeSize,
          'content-range': `bytes ${rangeSize}-${2 * rangeSize - 1}/${blob.byteLength}`,
        });
        // Half a range, then nothing more: the connection stays open and silent.
        response.write(blob.subarray(rangeSize, rangeSize + stallAfter));
        return;
      }
      servePart(request, response);
    };
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize, idleTimeoutMs: 300 });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumes).toBe(1);
    expect(rangesAsked(server)).toContain(`bytes=${rangeSize + stallAfter}-${2 * rangeSize - 1}`);
  });

  it('resumes after an interrupted run without fetching completed ranges again', async () => {
    // The first run stops (aborted, as a kill would) once three ranges are complete.
    const controller = new AbortController();
    server.handle = answerThenAbort(3, controller, (request, response) =>
      servePart(request, response),
    );
    await expect(
      registry.repository('a/b').blobs.downloadToFile(descriptor, file, {
        parallel: 1,
        rangeSize,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(await exists(rangeStatePath(file))).toBe(true);

    server.requests.length = 0;
    server.handle = (request, response) => servePart(request, response);
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumedBytes).toBe(3 * rangeSize);
    expect(result.fetchedBytes).toBe(blob.byteLength - 3 * rangeSize);
    const starts = rangesAsked(server).map((range) => Number(/\d+/.exec(range)?.[0]));
    expect(Math.min(...starts)).toBe(3 * rangeSize);
    expect(await exists(rangeStatePath(file))).toBe(false);
  });

  it('resumes around a hole: only the ranges not complete are fetched, from where they stopped', async () => {
    // An earlier run completed ranges 0 and 2, half of 3, and none of 1 or 4-7.
    const ranges = Array.from({ length: 8 }, (_, i) => [i * rangeSize, (i + 1) * rangeSize, 0]);
    ranges[0] = [0, rangeSize, rangeSize];
    ranges[2] = [2 * rangeSize, 3 * rangeSize, rangeSize];
    ranges[3] = [3 * rangeSize, 4 * rangeSize, rangeSize / 2];
    const onDisk = Buffer.alloc(3.5 * rangeSize);
    blob.copy(onDisk, 0, 0, rangeSize);
    blob.copy(onDisk, 2 * rangeSize, 2 * rangeSize, 3.5 * rangeSize);
    await writeFile(file, onDisk);
    await writeFile(
      rangeStatePath(file),
      JSON.stringify({ version: 1, digest, size: blob.byteLength, ranges }),
    );
    server.handle = (request, response) => servePart(request, response);
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 2, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumedBytes).toBe(2.5 * rangeSize);
    expect(rangesAsked(server).sort()).toEqual(
      [
        `bytes=${rangeSize}-${2 * rangeSize - 1}`,
        `bytes=${3.5 * rangeSize}-${4 * rangeSize - 1}`,
        ...[4, 5, 6, 7].map((i) => `bytes=${i * rangeSize}-${(i + 1) * rangeSize - 1}`),
      ].sort(),
    );
  });

  it('cuts even a hostile 2^52-byte descriptor into at most 1,024 ranges', async () => {
    server.handle = (_request, response) => {
      response.writeHead(404);
      response.end();
    };
    const huge = { digest, size: 2 ** 52 };
    await expect(
      registry.repository('a/b').blobs.downloadToFile(huge, file, { parallel: 4, rangeSize }),
    ).rejects.toMatchObject({ status: 404 });
    const saved = JSON.parse(await readFile(rangeStatePath(file), 'utf8')) as { ranges: unknown[] };
    expect(saved.ranges).toHaveLength(1024);
    expect(server.requests[0]?.headers.range).toBe(`bytes=0-${2 ** 52 / 1024 - 1}`);
  });

  it('sends nothing when the signal is already aborted', async () => {
    server.handle = (request, response) => servePart(request, response);
    const controller = new AbortController();
    controller.abort();
    await expect(
      registry.repository('a/b').blobs.downloadToFile(descriptor, file, {
        parallel: 4,
        rangeSize,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(server.requests).toHaveLength(0);
  });

  it('fails with a digest mismatch and leaves no file when the bytes are not the blob', async () => {
    const wrong = Buffer.from(blob);
    wrong.writeUInt8(wrong.readUInt8(5 * rangeSize + 7) ^ 0xff, 5 * rangeSize + 7);
    server.handle = (request, response) => servePart(request, response, wrong);
    const error: unknown = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(await exists(file)).toBe(false);
    expect(await exists(rangeStatePath(file))).toBe(false);
  });

  it('fetches the whole blob again once when bytes left by an earlier run were wrong', async () => {
    const tampered = Buffer.from(blob.subarray(0, 200 * KiB));
    tampered.writeUInt8(tampered.readUInt8(10) ^ 0xff, 10);
    await writeFile(file, tampered);
    server.handle = (request, response) => servePart(request, response);
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumedBytes).toBe(0);
    expect(rangesAsked(server)).toContain(`bytes=0-${rangeSize - 1}`);
  });

  it('refuses a range answer that is not the range asked for', async () => {
    server.handle = (request, response) => {
      const range = requestedRange(request);
      const start = (range?.start ?? 0) + 1;
      response.writeHead(206, {
        'content-length': rangeSize,
        'content-range': `bytes ${start}-${start + rangeSize - 1}/${blob.byteLength}`,
      });
      response.end(blob.subarray(start, start + rangeSize));
    };
    await expect(
      registry.repository('a/b').blobs.downloadToFile(descriptor, file, { parallel: 2, rangeSize }),
    ).rejects.toMatchObject({
      code: 'ERR_REGISTRY_PROTOCOL',
      message: expect.stringContaining(`asked for bytes 0-${rangeSize - 1}`) as string,
    });
  });
});
