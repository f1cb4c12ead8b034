// The parallel ranged download syncs its file as it goes: background fdatasyncs over all ranges,
// one at a time, all done before the final fsync; a failing one fails the download.
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rangeStatePath } from './range-state.js';
import { Registry } from './registry.js';
import {
  answerThenAbort,
  recordingSleep,
  serveRange,
  startLoopback,
  type LoopbackServer,
} from './testing/loopback.js';

const KiB = 1024;
const blob = randomBytes(1024 * KiB);
const digest = computeDigest(blob);
const descriptor = { digest, size: blob.byteLength };
const rangeSize = 128 * KiB;

let dir: string;
let file: string;
let server: LoopbackServer;
let registry: Registry;
/** FileHandle.prototype, whose datasync and sync the tests watch. */
let handles: FileHandle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-ranged-sync-'));
  file = join(dir, 'blob.partial');
  const probe = await open(join(dir, 'probe'), 'w');
  handles = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  server = await startLoopback((request, response) => servePart(request, response));
  registry = new Registry(server.host, { sleep: recordingSleep().sleep });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function servePart(request: IncomingMessage, response: ServerResponse): void {
  serveRange(request, response, blob);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Records every fdatasync and the final fsync in order; `hold` decides, per fdatasync, a promise
 * it waits for before running.
 */
function watchSyncs(hold?: (index: number) => Promise<void> | undefined) {
  const events: string[] = [];
  let pending = 0;
  let mostAtOnce = 0;
  let fsyncsDuringDatasync = 0;
  const datasync = handles.datasync;
  const sync = handles.sync;
  vi.spyOn(handles, 'datasync').mockImplementation(async function (this: FileHandle) {
    const index = events.filter((event) => event === 'datasync').length;
    events.push('datasync');
    mostAtOnce = Math.max(mostAtOnce, ++pending);
    try {
      await hold?.(index);
      await datasync.call(this);
    } finally {
      pending--;
      events.push('datasync done');
    }
  });
  vi.spyOn(handles, 'sync').mockImplementation(async function (this: FileHandle) {
    if (pending > 0) fsyncsDuringDatasync++;
    events.push('fsync');
    await sync.call(this);
  });
  return {
    events,
    get pending() {
      return pending;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
    get fsyncsDuringDatasync() {
      return fsyncsDuringDatasync;
    },
  };
}

describe('parallel ranged download: syncing as it goes', () => {
  it('fdatasyncs every syncEvery bytes over all ranges, one at a time, all done before the final fsync', async () => {
    const watched = watchSyncs();
    const result = await registry.repository('a/b').blobs.downloadToFile(descriptor, file, {
      parallel: 4,
      rangeSize,
      syncEvery: 256 * KiB,
    });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.fetchedBytes).toBe(blob.byteLength);
    // 1 MiB in eight 128 KiB ranges: a sync after every 256 KiB unless one is still running.
    const datasyncs = watched.events.filter((event) => event === 'datasync').length;
    expect(datasyncs).toBeGreaterThanOrEqual(1);
    expect(datasyncs).toBeLessThanOrEqual(4);
    expect(watched.mostAtOnce).toBe(1);
    expect(watched.pending).toBe(0);
    expect(watched.fsyncsDuringDatasync).toBe(0);
    expect(watched.events.at(-1)).toBe('fsync');
    expect(watched.events.filter((event) => event === 'fsync')).toHaveLength(1);
  });

  it('waits for a background fdatasync still running when every byte is in, before its fsync', async () => {
    // The first fdatasync is held until the whole file was read back for the digest, and a
    // turn of the event loop after: without waiting for it, the fsync would start meanwhile.
    let lastReadDone!: () => void;
    const lastRead = new Promise<void>((resolve) => (lastReadDone = resolve));
    const read = handles.read;
    vi.spyOn(handles, 'read').mockImplementation(async function (
      this: FileHandle,
      ...args: unknown[]
    ) {
      const result = await (read as (...a: unknown[]) => Promise<{ bytesRead: number }>).apply(
        this,
        args,
      );
      const [, , length, position] = args as [Buffer, number, number, number];
      if (position + length >= blob.byteLength) lastReadDone();
      return result;
    } as typeof handles.read);
    const watched = watchSyncs((index) =>
      index === 0
        ? lastRead.then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        : undefined,
    );
    await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize, syncEvery: 256 * KiB });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(watched.fsyncsDuringDatasync).toBe(0);
    expect(watched.events).toEqual(['datasync', 'datasync done', 'fsync']);
  });

  it('a failing fdatasync fails the download and leaves neither the file nor its progress', async () => {
    const watched = watchSyncs();
    vi.spyOn(handles, 'datasync').mockRejectedValue(
      Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }),
    );
    const error: unknown = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize, syncEvery: 256 * KiB })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'EIO' });
    // The disk may have lost bytes the progress claims: no run resumes from them.
    expect(await exists(file)).toBe(false);
    expect(await exists(rangeStatePath(file))).toBe(false);
    expect(watched.events).not.toContain('fsync');
  });

  it('a killed run resumes from every byte it wrote, synced or not', async () => {
    const controller = new AbortController();
    server.handle = answerThenAbort(3, controller, (request, response) =>
      servePart(request, response),
    );
    await expect(
      registry.repository('a/b').blobs.downloadToFile(descriptor, file, {
        parallel: 1,
        rangeSize,
        signal: controller.signal,
        syncEvery: 256 * KiB,
      }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });

    // A killed process leaves its writes in the page cache: the next run may count them all.
    server.handle = (request, response) => servePart(request, response);
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize, syncEvery: 256 * KiB });
    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumedBytes).toBe(3 * rangeSize);
    expect(result.fetchedBytes).toBe(blob.byteLength - 3 * rangeSize);
  });

  it('progress claiming bytes the disk lost (a power cut before they were synced) costs a fetch, never a wrong file', async () => {
    // Ranges 0-2 recorded done, but range 1 never reached the disk: it reads back as zeros.
    const onDisk = Buffer.alloc(3 * rangeSize);
    blob.copy(onDisk, 0, 0, rangeSize);
    blob.copy(onDisk, 2 * rangeSize, 2 * rangeSize, 3 * rangeSize);
    await writeFile(file, onDisk);
    const ranges = Array.from({ length: 8 }, (_, i) => [
      i * rangeSize,
      (i + 1) * rangeSize,
      i < 3 ? rangeSize : 0,
    ]);
    await writeFile(
      rangeStatePath(file),
      JSON.stringify({ version: 1, digest, size: blob.byteLength, ranges }),
    );
    const result = await registry
      .repository('a/b')
      .blobs.downloadToFile(descriptor, file, { parallel: 4, rangeSize, syncEvery: 256 * KiB });

    expect(Buffer.compare(await readFile(file), blob)).toBe(0);
    expect(result.resumedBytes).toBe(0);
    expect(result.fetchedBytes).toBe(blob.byteLength);
    expect(await exists(rangeStatePath(file))).toBe(false);
  });
});
