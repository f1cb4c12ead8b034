/**
 * BatchWriter takes slices that are valid only during `take` (a socket's one read buffer): it
 * must copy them, keep their order across its two batches and the overflow, tell the taker when
 * to wait, and report a failed write or background sync through `ready`, `take` and `finish`.
 * The file handle is wrapped so that tests decide when writes complete, or make them fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from './batch-writer.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BATCH = 4 * MiB;

let dir: string;
let handle: FileHandle;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-batch-writer-'));
  path = join(dir, 'blob.partial');
  handle = await open(path, 'w+');
});
afterEach(async () => {
  await handle.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic generator of slice sizes (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sizes of 1 byte … 300 KiB that add up to `total`. */
function sliceSizes(total: number, seed: number): number[] {
  const next = random(seed);
  const sizes: number[] = [];
  for (let left = total; left > 0;) {
    const size = Math.min(left, 1 + Math.floor(next() ** 3 * 300 * KiB));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** A gate that holds whoever waits on it until opened. */
function gate(): { wait: () => Promise<void>; open: () => void; waiting: () => number } {
  let release = (): void => {};
  let opened = false;
  let waiting = 0;
  const passed = new Promise<void>((resolve) => (release = resolve));
  return {
    wait: async () => {
      if (opened) return;
      waiting++;
      await passed;
      waiting--;
    },
    open: () => {
      opened = true;
      release();
    },
    waiting: () => waiting,
  };
}

/** Lets a few turns of the event loop pass (timers and I/O callbacks included). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Hooks {
  /** Runs before each write reaches the file; may delay or throw. */
  beforeWrite?: () => Promise<void>;
  datasync?: () => Promise<void>;
}

/** The file handle with what BatchWriter calls (writev, write, datasync) wrapped. */
function wrap(target: FileHandle, hooks: Hooks, log?: { writes: number; syncs: number }) {
  const wrapped = {
    writev: async (buffers: Buffer[], position: number) => {
      await hooks.beforeWrite?.();
      if (log) log.writes++;
      return target.writev(buffers, position);
    },
    write: async (buffer: Buffer, offset: number, length: number, position: number) => {
      await hooks.beforeWrite?.();
      if (log) log.writes++;
      return target.write(buffer, offset, length, position);
    },
    datasync: async () => {
      if (log) log.syncs++;
      return hooks.datasync ? hooks.datasync() : target.datasync();
    },
  };
  return wrapped as unknown as FileHandle;
}

function eio(what: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${what}`), { code: 'EIO', errno: -5 });
}

/**
 * Hands `input` to `writer` slice by slice through one scratch buffer that is overwritten right
 * after each `take` returns, as a socket's read buffer is. Waits for `ready()` when told to,
 * unless `honour` is false. Returns how often `take` said to wait.
 */
async function feed(
  writer: BatchWriter,
  input: Buffer,
  sizes: number[],
  honour = true,
): Promise<number> {
  const scratch = Buffer.alloc(Math.max(...sizes));
  let told = 0;
  let at = 0;
  for (const size of sizes) {
    input.copy(scratch, 0, at, at + size);
    at += size;
    const more = writer.take(scratch.subarray(0, size));
    scratch.fill(0xa5);
    if (!more) {
      told++;
      if (honour) await writer.ready();
    }
  }
  expect(at).toBe(input.byteLength);
  return told;
}

describe('BatchWriter', () => {
  it('~20 MiB in random slices of 1 byte … 300 KiB, with slow writes: the file is the input', async () => {
    const input = randomBytes(20 * MiB + 12_345);
    const sizes = sliceSizes(input.byteLength, 1);
    expect(Math.min(...sizes)).toBeLessThan(64);
    expect(Math.max(...sizes)).toBeGreaterThan(200 * KiB);
    const log = { writes: 0, syncs: 0 };
    // Each write waits several turns of the event loop: the taker outruns the disk.
    const writer = new BatchWriter(wrap(handle, { beforeWrite: () => turns(20) }, log), 0, {
      syncEvery: 8 * MiB,
    });

    const told = await feed(writer, input, sizes);
    await writer.finish();

    expect((await readFile(path)).equals(input)).toBe(true);
    // It did tell the taker to wait, wrote in batches rather than per slice, and synced.
    expect(told).toBeGreaterThan(0);
    expect(log.writes).toBe(Math.ceil(input.byteLength / BATCH));
    expect(log.syncs).toBeGreaterThanOrEqual(1);
  });

  it('writes from the position it is given, leaving what is before it', async () => {
    const prefix = Buffer.alloc(1000, 0x78);
    await handle.write(prefix, 0, prefix.byteLength, 0);
    const input = randomBytes(9 * MiB + 7);
    const writer = new BatchWriter(handle, prefix.byteLength);
    await feed(writer, input, sliceSizes(input.byteLength, 2));
    await writer.finish();
    expect((await readFile(path)).equals(Buffer.concat([prefix, input]))).toBe(true);
  });

  it('take returns false when both batches are busy, and ready() waits for a write to finish', async () => {
    const held = gate();
    const writer = new BatchWriter(wrap(handle, { beforeWrite: held.wait }), 0);
    const input = randomBytes(2 * BATCH);

    // The first batch fills and goes to the disk (held there); the second fills behind it.
    expect(writer.take(input.subarray(0, BATCH))).toBe(true);
    expect(writer.take(input.subarray(BATCH, 2 * BATCH - 128 * KiB))).toBe(false);
    let ready = false;
    const waited = writer.ready().then(() => (ready = true));
    await turns(10);
    expect(held.waiting()).toBe(1);
    expect(ready).toBe(false);

    held.open();
    await waited;
    expect(ready).toBe(true);
    expect(writer.take(input.subarray(2 * BATCH - 128 * KiB))).toBe(true);
    await writer.finish();
    expect((await readFile(path)).equals(input)).toBe(true);
  });

  it('a taker that goes on while told to wait loses nothing (the overflow keeps copies)', async () => {
    const held = gate();
    const log = { writes: 0, syncs: 0 };
    const writer = new BatchWriter(wrap(handle, { beforeWrite: held.wait }, log), 0);
    const input = randomBytes(20 * MiB + 3);

    // Every slice is handed over while the first write is held: 2 batches, then the overflow.
    const told = await feed(writer, input, sliceSizes(input.byteLength, 3), false);
    expect(told).toBeGreaterThan(10);
    expect(log.writes).toBe(0);

    held.open();
    await writer.finish();
    expect((await readFile(path)).equals(input)).toBe(true);
    expect(log.writes).toBe(Math.ceil(input.byteLength / BATCH));
  });

  it('a write that fails (EIO): ready() rejects, take throws, finish() rejects', async () => {
    const writer = new BatchWriter(
      wrap(handle, {
        beforeWrite: async () => {
          throw eio('write');
        },
      }),
      0,
    );
    const input = randomBytes(2 * BATCH);
    expect(writer.take(input.subarray(0, BATCH))).toBe(true);
    expect(writer.take(input.subarray(BATCH))).toBe(false);

    await expect(writer.ready()).rejects.toMatchObject({ code: 'EIO' });
    expect(() => writer.take(Buffer.from('more'))).toThrow(/EIO/);
    await expect(writer.ready()).rejects.toMatchObject({ code: 'EIO' });
    await expect(writer.finish()).rejects.toMatchObject({ code: 'EIO' });
    // Nothing reached the file, and nothing claims it did.
    expect((await readFile(path)).byteLength).toBe(0);
  });

  it('a write that fails while the taker waits in ready(): the wait rejects', async () => {
    const held = gate();
    const writer = new BatchWriter(
      wrap(handle, {
        beforeWrite: async () => {
          await held.wait();
          throw eio('write');
        },
      }),
      0,
    );
    const input = randomBytes(2 * BATCH);
    writer.take(input.subarray(0, BATCH));
    expect(writer.take(input.subarray(BATCH))).toBe(false);
    const waited = writer.ready();
    held.open();
    await expect(waited).rejects.toMatchObject({ code: 'EIO' });
    await expect(writer.finish()).rejects.toMatchObject({ code: 'EIO' });
  });

  it('a background datasync that fails (EIO) fails finish()', async () => {
    const log = { writes: 0, syncs: 0 };
    const writer = new BatchWriter(
      wrap(
        handle,
        {
          datasync: async () => {
            throw eio('fdatasync');
          },
        },
        log,
      ),
      0,
      { syncEvery: BATCH },
    );
    const input = randomBytes(2 * BATCH + 5);
    // Written before the sync's failure is known; the writer fails at the latest in finish().
    await feed(writer, input, [BATCH, BATCH, 5]).catch(() => {});
    await expect(writer.finish()).rejects.toMatchObject({ code: 'EIO' });
    expect(log.syncs).toBe(1);
    expect(() => writer.take(Buffer.from('more'))).toThrow(/EIO/);
  });

  it('abandon() waits for the write in flight before the file may be closed', async () => {
    const held = gate();
    const writer = new BatchWriter(wrap(handle, { beforeWrite: held.wait }), 0);
    writer.take(randomBytes(BATCH));
    let abandoned = false;
    const done = writer.abandon().then(() => (abandoned = true));
    await turns(10);
    expect(abandoned).toBe(false);
    held.open();
    await done;
    expect(abandoned).toBe(true);
    expect(() => writer.take(Buffer.from('x'))).toThrow(/abandoned/);
  });
});
