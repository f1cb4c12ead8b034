import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleWriter, readPrefix } from './handle-io.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-handle-io-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('handleWriter', () => {
  it('appends every chunk, in order, and leaves the handle open for a sync', async () => {
    const handle = await open(join(dir, 'f'), 'a+');
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(100_000, i));
    await pipeline(Readable.from(chunks), handleWriter(handle, 1024 * 1024));
    await handle.sync();
    const chunksRead: Buffer[] = [];
    for await (const piece of readPrefix(handle, 1_000_000, 64 * 1024)) chunksRead.push(piece);
    await handle.close();
    expect(Buffer.concat(chunksRead).equals(Buffer.concat(chunks).subarray(0, 1_000_000))).toBe(
      true,
    );
    expect((await readFile(join(dir, 'f'))).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('after a failed pipeline the handle closes cleanly, and no late write reaches another file', async () => {
    // A source that fails while a large write may still be in flight: with an fs stream on the
    // bare descriptor, the stream closed the descriptor itself and a later close hit EBADF or a
    // descriptor number already reused by the next file.
    for (let round = 0; round < 8; round++) {
      const handle = await open(join(dir, `a${round}`), 'a');
      const failing = Readable.from(
        (async function* () {
          yield Buffer.alloc(8 * 1024 * 1024, 1);
          throw new Error('source failed');
        })(),
      );
      await expect(pipeline(failing, handleWriter(handle, 8 * 1024 * 1024))).rejects.toThrow(
        'source failed',
      );
      await handle.close();
      const next = await open(join(dir, `b${round}`), 'w');
      await next.write(Buffer.from('only this'));
      await new Promise((resolve) => setTimeout(resolve, 5));
      await next.close();
      expect(await readFile(join(dir, `b${round}`), 'utf8')).toBe('only this');
    }
  });

  it('with syncEvery, fdatasyncs in the background as it goes and waits for the last one at the end', async () => {
    const handle = await open(join(dir, 'synced'), 'a+');
    let syncs = 0;
    let pending = 0;
    let mostAtOnce = 0;
    // A sync that takes one turn of the event loop: a real one takes as long as the disk is
    // busy (on a loaded machine longer than the whole pipeline, which then saw one sync).
    handle.datasync = async () => {
      syncs++;
      mostAtOnce = Math.max(mostAtOnce, ++pending);
      try {
        await new Promise<void>((resolve) => setImmediate(resolve));
      } finally {
        pending--;
      }
    };
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(128 * 1024, i));
    await pipeline(Readable.from(chunks), handleWriter(handle, 256 * 1024, 1024 * 1024));
    // 5 MiB in all, a sync after each MiB or so; none is left running once the pipeline ends.
    expect(syncs).toBeGreaterThanOrEqual(2);
    expect(syncs).toBeLessThanOrEqual(5);
    expect(mostAtOnce).toBe(1);
    expect(pending).toBe(0);
    await handle.close();
    expect((await readFile(join(dir, 'synced'))).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('a background fdatasync that fails fails the pipeline', async () => {
    const handle = await open(join(dir, 'eio'), 'a+');
    handle.datasync = () =>
      Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(128 * 1024, 7));
    await expect(
      pipeline(Readable.from(chunks), handleWriter(handle, 256 * 1024, 512 * 1024)),
    ).rejects.toMatchObject({ code: 'EIO' });
    await handle.close();
  });
});
