/**
 * downloadBlobIntoFile through a real Registry against loopback servers: what ends up in the file
 * when the body arrives whole, cut, restarted, corrupted, too long, chunked or aborted. Each case
 * runs for a blob above BULK_DOWNLOAD_THRESHOLD (a connection of its own, BulkBody.pump) and for
 * one below it (undici's body, the same BatchWriter).
 */
import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtemp, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeDigest,
  DigestMismatchError,
  Digester,
  FerryError,
  SizeMismatchError,
} from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadStats } from './blob-download.js';
import {
  BULK_DOWNLOAD_THRESHOLD,
  downloadBlobIntoFile,
  type DownloadIntoFileOptions,
} from './blob-file-download.js';
import { RegistryErrorCode } from './errors.js';
import { Registry } from './registry.js';
import {
  cutShort,
  recordingSleep,
  startLoopback,
  type LoopbackServer,
} from './testing/loopback.js';

const KiB = 1024;
const MiB = 1024 * KiB;

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers as a registry that honours `Range: bytes=N-` (206, or 416 past the end). */
function serveFrom(body: Buffer): Answer {
  return (req, res) => {
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (!match) {
      res.writeHead(200, { 'content-length': body.byteLength });
      return void res.end(body);
    }
    const start = Number(match[1]);
    if (start >= body.byteLength) {
      res.writeHead(416, { 'content-range': `bytes */${body.byteLength}`, 'content-length': 0 });
      return void res.end();
    }
    res.writeHead(206, {
      'content-length': body.byteLength - start,
      'content-range': `bytes ${start}-${body.byteLength - 1}/${body.byteLength}`,
    });
    res.end(body.subarray(start));
  };
}

/** Answers each request with the next answer; the last one answers the rest. */
function inTurn(...answers: Answer[]): Answer {
  let next = 0;
  return (req, res) => (answers[Math.min(next++, answers.length - 1)] as Answer)(req, res);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const cases = [
  { name: 'a 20 MiB blob over its own connection', size: 20 * MiB, cut: 9 * MiB, bulk: true },
  { name: 'a 1 MiB blob through undici', size: 1 * MiB, cut: 384 * KiB, bulk: false },
];

describe.each(cases)('downloadBlobIntoFile: $name', ({ size, cut, bulk }) => {
  const blob = randomBytes(size);
  const digest = computeDigest(blob);
  const descriptor = { digest, size };
  const blobPath = `/v2/a/b/blobs/${digest}`;

  let dir: string;
  let path: string;
  let server: LoopbackServer;
  let registry: Registry;
  let trace: string[];

  beforeEach(async () => {
    expect(size >= BULK_DOWNLOAD_THRESHOLD).toBe(bulk);
    dir = await mkdtemp(join(tmpdir(), 'ferry-into-file-'));
    path = join(dir, 'blob.partial');
    server = await startLoopback();
    trace = [];
    registry = new Registry(server.host, {
      plainHttp: true,
      sleep: recordingSleep().sleep,
      debug: (line) => trace.push(line),
    });
  });
  afterEach(async () => {
    await registry.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Downloads into `path` (opened r+, so a prefix already there stays), counting progress. */
  async function download(
    options: DownloadIntoFileOptions = {},
  ): Promise<{ stats: DownloadStats; progress: number }> {
    await writeFile(path, '', { flag: 'a' });
    const handle = await open(path, 'r+');
    let progress = 0;
    try {
      const stats = await registry.repository('a/b').blobs.downloadIntoFile(descriptor, handle, {
        ...options,
        onProgress: (bytes) => {
          progress += bytes;
          options.onProgress?.(bytes);
        },
      });
      return { stats, progress };
    } finally {
      await handle.close();
    }
  }

  /** Bulk GETs in the trace: one per GET when the blob is large, none when it is small. */
  function expectPath(gets: number): void {
    const own = trace.filter((line) => /^\* GET \S+: own connection$/.test(line));
    expect(own).toHaveLength(bulk ? gets : 0);
  }

  const ranges = () => server.requests.map((r) => r.headers.range ?? '(none)');

  it('writes the exact bytes, whose sha256 is the digest', async () => {
    server.handle = serveFrom(blob);
    const { stats, progress } = await download({ syncEvery: 4 * MiB });
    const written = await readFile(path);
    expect(written.equals(blob)).toBe(true);
    expect(`sha256:${sha256(written)}`).toBe(digest);
    expect(stats).toEqual({ bytesReceived: size, bytesRefetched: 0, resumes: 0, restarts: 0 });
    expect(progress).toBe(size);
    expect(server.requests.map((r) => [r.url, r.headers.range])).toEqual([[blobPath, undefined]]);
    expectPath(1);
  });

  it(`a body cut at ${cut / KiB} KiB is resumed with Range from that byte`, async () => {
    server.handle = inTurn((_req, res) => cutShort(res, 200, {}, blob, cut), serveFrom(blob));
    const { stats, progress } = await download();
    expect(ranges()).toEqual(['(none)', `bytes=${cut}-`]);
    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(stats).toEqual({ bytesReceived: size, bytesRefetched: 0, resumes: 1, restarts: 0 });
    expect(progress).toBe(size);
    expectPath(2);
  });

  it('a server that ignores Range after a cut: read again from the start, delivered bytes skipped', async () => {
    const whole: Answer = (_req, res) => {
      res.writeHead(200, { 'content-length': size });
      res.end(blob);
    };
    server.handle = inTurn((_req, res) => cutShort(res, 200, {}, blob, cut), whole);
    const { stats, progress } = await download();
    expect(ranges()).toEqual(['(none)', `bytes=${cut}-`]);
    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(stats).toEqual({
      bytesReceived: cut + size,
      bytesRefetched: cut,
      resumes: 1,
      restarts: 1,
    });
    expect(progress).toBe(size);
    expectPath(2);
  });

  it('a body cut every time: gives up after maxResumes, naming the byte reached', async () => {
    server.handle = (_req, res) => cutShort(res, 200, {}, blob, cut);
    const error = await download({ maxResumes: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe(RegistryErrorCode.Network);
    expect((error as Error).message).toContain(
      `the connection broke 2 times; gave up at byte ${cut} of ${size}`,
    );
    expect(ranges()).toEqual(['(none)', `bytes=${cut}-`]);
    // What was written is a prefix of the blob, for a later run to resume from.
    const left = await readFile(path);
    expect(left.equals(blob.subarray(0, left.byteLength))).toBe(true);
  });

  it('a flipped byte: DigestMismatchError', async () => {
    const flipped = Buffer.from(blob);
    flipped[size - 100] = (flipped[size - 100] as number) ^ 0x01;
    server.handle = serveFrom(flipped);
    const error = await download().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as DigestMismatchError).expected).toBe(digest);
    expect((error as DigestMismatchError).actual).toBe(computeDigest(flipped));
  });

  it('a Content-Length larger than the descriptor: SizeMismatchError before the body is read', async () => {
    server.handle = (_req, res) => {
      // The head and a first part, then nothing: reading on would wait forever.
      res.writeHead(200, { 'content-length': size + 1 });
      res.write(blob.subarray(0, 64 * KiB));
    };
    let progress = 0;
    const error = await download({ onProgress: (n) => (progress += n) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect((error as SizeMismatchError).expected).toBe(size);
    expect((error as SizeMismatchError).actual).toBe(size + 1);
    expect(progress).toBe(0);
    expect((await stat(path)).size).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('a body longer than the descriptor (chunked, no length): SizeMismatchError', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, {});
      res.write(blob);
      res.end(Buffer.from('!'));
    };
    const error = await download().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect((error as SizeMismatchError).expected).toBe(size);
    expect((error as SizeMismatchError).actual).toBeGreaterThan(size);
    expect(server.requests).toHaveLength(1);
  });

  it('416 when the file already holds the whole blob: done, file unchanged', async () => {
    await writeFile(path, blob);
    const digester = new Digester('sha256');
    digester.update(blob);
    server.handle = serveFrom(blob);
    const { stats, progress } = await download({ resume: { offset: size, digester } });
    expect(ranges()).toEqual([`bytes=${size}-`]);
    expect(stats).toEqual({ bytesReceived: 0, bytesRefetched: 0, resumes: 0, restarts: 0 });
    expect(progress).toBe(0);
    expect((await readFile(path)).equals(blob)).toBe(true);
  });

  it('a resume offset with the file prefix and its digester: continues from there', async () => {
    await writeFile(path, blob.subarray(0, cut));
    const digester = new Digester('sha256');
    digester.update(blob.subarray(0, cut));
    server.handle = serveFrom(blob);
    const { stats, progress } = await download({ resume: { offset: cut, digester } });
    expect(ranges()).toEqual([`bytes=${cut}-`]);
    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(stats).toEqual({
      bytesReceived: size - cut,
      bytesRefetched: 0,
      resumes: 0,
      restarts: 0,
    });
    expect(progress).toBe(size - cut);
    expectPath(1);
  });

  it('a resume offset whose prefix is wrong: DigestMismatchError, though every new byte was right', async () => {
    const wrong = Buffer.from(blob.subarray(0, cut));
    wrong[0] = (wrong[0] as number) ^ 0xff;
    await writeFile(path, wrong);
    const digester = new Digester('sha256');
    digester.update(wrong);
    server.handle = serveFrom(blob);
    const error = await download({ resume: { offset: cut, digester } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
  });

  it('a chunked answer (no Content-Length), written in uneven parts', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, {});
      const parts = [1, 7 * KiB + 3, 300 * KiB, 5];
      let at = 0;
      for (const part of parts) {
        res.write(blob.subarray(at, at + part));
        at += part;
      }
      res.end(blob.subarray(at));
    };
    const { stats } = await download();
    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(stats.bytesReceived).toBe(size);
    expectPath(1);
  });

  it('a disk slower than the network: the body waits for the writes, and the file is right', async () => {
    server.handle = serveFrom(blob);
    await writeFile(path, '');
    const handle = await open(path, 'r+');
    try {
      const slow = slowHandle(handle, 30);
      const url = new URL(`${server.origin}${blobPath}`);
      const stats = await downloadBlobIntoFile(
        registry.transport,
        url,
        ['repository:a/b:pull'],
        descriptor,
        slow,
      );
      expect(stats.bytesReceived).toBe(size);
    } finally {
      await handle.close();
    }
    expect((await readFile(path)).equals(blob)).toBe(true);
    expectPath(1);
  });

  it('a write that fails (EIO) ends the download with that error, without a retry', async () => {
    server.handle = serveFrom(blob);
    await writeFile(path, '');
    const handle = await open(path, 'r+');
    let error: unknown;
    try {
      const failing = {
        writev: async () => {
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        },
        write: async () => {
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        },
        datasync: () => handle.datasync(),
      } as unknown as FileHandle;
      error = await downloadBlobIntoFile(
        registry.transport,
        new URL(`${server.origin}${blobPath}`),
        ['repository:a/b:pull'],
        descriptor,
        failing,
      ).catch((e: unknown) => e);
    } finally {
      await handle.close();
    }
    expect(error).toMatchObject({ code: 'EIO' });
    expect(server.requests).toHaveLength(1);
  });

  it('a signal shared by many downloads holds no listener once each is done', async () => {
    server.handle = serveFrom(blob);
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) {
      await rm(path, { force: true });
      await download({ signal: controller.signal });
      expect((await readFile(path)).equals(blob)).toBe(true);
      // A listener left behind keeps the connection and its read buffer alive as long as the
      // signal lives (a whole pull), and past 10 Node warns of a leak on stderr.
      expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    }
    expectPath(3);
  });

  it('an abort mid-body rejects as aborted and leaves a prefix to resume from', async () => {
    server.handle = inTurn((_req, res) => {
      // Part of the body, then silence: only the abort ends this.
      res.writeHead(200, { 'content-length': size });
      res.write(blob.subarray(0, cut));
    }, serveFrom(blob));
    const controller = new AbortController();
    let delivered = 0;
    const error = await download({
      signal: controller.signal,
      onProgress: (bytes) => {
        delivered += bytes;
        if (delivered >= cut) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(controller.signal.aborted).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(isAborted(error)).toBe(true);
    expect(server.requests).toHaveLength(1);

    // The file holds every byte delivered before the abort (a prefix, none held back in a write
    // batch), and a resume from there completes it.
    const left = await readFile(path);
    expect(left.byteLength).toBe(delivered);
    expect(left.byteLength).toBeLessThanOrEqual(cut + 256 * 1024);
    expect(left.equals(blob.subarray(0, left.byteLength))).toBe(true);
    const digester = new Digester('sha256');
    digester.update(left);
    const offset = left.byteLength;
    const { stats } = await download({ resume: { offset, digester } });
    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(stats.bytesReceived).toBe(size - offset);
    expect(server.requests[1]?.headers.range).toBe(offset > 0 ? `bytes=${offset}-` : undefined);
  });
});

/** `handle` whose writes each wait `turns` turns of the event loop first. */
function slowHandle(handle: FileHandle, turns: number): FileHandle {
  const later = async (): Promise<void> => {
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    writev: async (buffers: Buffer[], position: number) => {
      await later();
      return handle.writev(buffers, position);
    },
    write: async (buffer: Buffer, offset: number, length: number, position: number) => {
      await later();
      return handle.write(buffer, offset, length, position);
    },
    datasync: () => handle.datasync(),
  } as unknown as FileHandle;
}

/** An abort, however the layer below names it. */
function isAborted(error: unknown): boolean {
  for (let e = error as { name?: unknown; code?: unknown; cause?: unknown } | undefined; e;) {
    if (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === RegistryErrorCode.Aborted) {
      return true;
    }
    e = e.cause as typeof e;
  }
  return false;
}
