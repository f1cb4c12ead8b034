import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { computeDigest, type Digest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileHasher } from './digest-cache.js';
import { EAGER_UPLOAD_MIN_SIZE, EagerUploads } from './eager-upload.js';
import type {
  PushOptions,
  StreamingOutcome,
  StreamingPushOptions,
  StreamingPusher,
} from './target.js';

const MIN = 1000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-eager-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Reads and hashes the file, counting calls (what pack() would do). */
function readingHasher(): FileHasher & { calls: string[] } {
  const calls: string[] = [];
  const hasher: FileHasher = async (path) => {
    calls.push(path);
    const bytes = await readFile(path);
    return { digest: computeDigest(bytes), size: bytes.byteLength };
  };
  return Object.assign(hasher, { calls });
}

interface PushCall {
  size: number;
  signal: AbortSignal | undefined;
  /** The bytes read from open(), once the stream ended. */
  bytes?: Buffer;
  /** What the digest promise resolved to. */
  digest?: Digest;
  /** Or what it rejected with. */
  digestError?: unknown;
  progress: number;
  /** What the upload was told about holding until the digest is known. */
  hold: StreamingPushOptions['holdUntilKnown'];
}

interface FakePusher extends StreamingPusher {
  calls: PushCall[];
  /** Resolves once the first upload has read its whole stream. */
  drained: Promise<void>;
}

async function drain(stream: Readable, call: PushCall, options?: PushOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    call.progress += chunk.byteLength;
    options?.onProgress?.(chunk.byteLength);
  }
  return Buffer.concat(chunks);
}

/**
 * A target that takes the whole stream, then waits for the digest, as a registry upload does.
 * `hold` (when given) is awaited before answering: an upload that is still running. With
 * `watchDigest`, it handles the digest promise at once (as the registry client does, which
 * awaits it before its first request returns); without, only once it has read the stream.
 */
function fakePusher(
  answer: StreamingOutcome | ((call: PushCall) => Promise<StreamingOutcome>) = 'uploaded',
  hold?: Promise<void>,
  watchDigest = false,
): FakePusher {
  const calls: PushCall[] = [];
  const drained = deferred();
  return {
    calls,
    drained: drained.promise,
    async pushWhileHashing(open, size, digest, options) {
      const call: PushCall = {
        size,
        signal: options?.signal,
        progress: 0,
        hold: options?.holdUntilKnown,
      };
      calls.push(call);
      if (watchDigest) digest.catch(() => {});
      call.bytes = await drain(open(), call, options);
      drained.resolve();
      try {
        call.digest = await digest;
      } catch (error) {
        call.digestError = error;
        throw error;
      }
      await hold;
      return typeof answer === 'function' ? answer(call) : answer;
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('EagerUploads', () => {
  it('defaults to 16 MiB', () => {
    expect(EAGER_UPLOAD_MIN_SIZE).toBe(16 * 1024 * 1024);
  });

  it('only hashes files below minSize: no upload starts', async () => {
    const bytes = randomBytes(MIN - 1);
    const path = await write('small.bin', bytes);
    const target = fakePusher();
    const starts: string[] = [];
    const eager = new EagerUploads(target, {
      concurrency: 4,
      minSize: MIN,
      onStart: (p) => starts.push(p),
    });
    const inner = readingHasher();
    expect(await eager.hasher(inner)(path)).toEqual({
      digest: computeDigest(bytes),
      size: MIN - 1,
    });
    expect(inner.calls).toEqual([path]);
    expect(target.calls).toEqual([]);
    expect(starts).toEqual([]);
    expect(eager.started(computeDigest(bytes))).toBeUndefined();
    await expect(eager.settle()).resolves.toBeUndefined();
  });

  it('starts one upload for a large file: the file’s bytes, and its sha256 as the digest', async () => {
    const bytes = randomBytes(MIN * 5 + 7);
    const path = await write('large.bin', bytes);
    const target = fakePusher();
    const starts: [string, number][] = [];
    const progress = new Map<string, number>();
    const eager = new EagerUploads(target, {
      concurrency: 2,
      minSize: MIN,
      onStart: (p, size) => starts.push([p, size]),
      onProgress: (p, n) => progress.set(p, (progress.get(p) ?? 0) + n),
    });
    const inner = readingHasher();
    const result = await eager.hasher(inner)(path);
    expect(result).toEqual({ digest: computeDigest(bytes), size: bytes.byteLength });
    expect(inner.calls).toEqual([path]);

    const upload = eager.started(result.digest);
    expect(upload).toMatchObject({ path, size: bytes.byteLength });
    expect(await upload?.outcome).toBe('uploaded');
    await eager.settle();

    expect(target.calls).toHaveLength(1);
    const [call] = target.calls;
    expect(call?.size).toBe(bytes.byteLength);
    expect(call?.bytes?.equals(bytes)).toBe(true);
    expect(call?.digest).toBe(computeDigest(bytes));
    expect(starts).toEqual([[path, bytes.byteLength]]);
    expect(progress.get(path)).toBe(bytes.byteLength);
  });

  it('tells each upload to hold until the digest is known when likelyPresent guesses its size', async () => {
    const present = await write('present.bin', randomBytes(MIN * 2));
    const other = await write('other.bin', randomBytes(MIN * 3));
    const target = fakePusher();
    const asked: number[] = [];
    const eager = new EagerUploads(target, {
      concurrency: 2,
      minSize: MIN,
      likelyPresent: async (size) => {
        asked.push(size);
        return size === MIN * 2;
      },
    });
    const hash = eager.hasher(readingHasher());
    await hash(present);
    await hash(other);
    await eager.settle();
    expect(asked).toEqual([MIN * 2, MIN * 3]);
    expect(await Promise.all(target.calls.map((call) => call.hold))).toEqual([true, false]);
  });

  it('a likelyPresent that throws is a guess of no, and the upload goes ahead', async () => {
    const bytes = randomBytes(MIN * 2);
    const path = await write('large.bin', bytes);
    const target = fakePusher();
    const eager = new EagerUploads(target, {
      concurrency: 1,
      minSize: MIN,
      likelyPresent: () => {
        throw new Error('no tag');
      },
    });
    await eager.hasher(readingHasher())(path);
    await eager.settle();
    expect(await target.calls[0]?.hold).toBe(false);
    expect(target.calls[0]?.bytes?.equals(bytes)).toBe(true);
  });

  it('without likelyPresent, uploads are not told to hold', async () => {
    const path = await write('large.bin', randomBytes(MIN * 2));
    const target = fakePusher();
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    await eager.hasher(readingHasher())(path);
    await eager.settle();
    expect(target.calls[0]?.hold).toBeUndefined();
  });

  it('starts an upload for a file of exactly minSize', async () => {
    const path = await write('edge.bin', randomBytes(MIN));
    const target = fakePusher();
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    await eager.hasher(readingHasher())(path);
    await eager.settle();
    expect(target.calls.map((c) => c.size)).toEqual([MIN]);
  });

  it('reports an upload the target already held as exists', async () => {
    const bytes = randomBytes(MIN * 2);
    const path = await write('large.bin', bytes);
    const eager = new EagerUploads(fakePusher('exists'), { concurrency: 1, minSize: MIN });
    const { digest } = await eager.hasher(readingHasher())(path);
    expect(await eager.started(digest)?.outcome).toBe('exists');
  });

  it('started() knows only digests it uploaded; the first of two identical files wins', async () => {
    const bytes = randomBytes(MIN * 2);
    const first = await write('first.bin', bytes);
    const second = await write('second.bin', bytes);
    const target = fakePusher();
    const eager = new EagerUploads(target, { concurrency: 2, minSize: MIN });
    const hash = eager.hasher(readingHasher());
    await hash(first);
    await hash(second);
    await eager.settle();
    expect(eager.started(computeDigest(bytes))?.path).toBe(first);
    expect(eager.started(computeDigest('something else'))).toBeUndefined();
    expect(target.calls).toHaveLength(2); // both streamed; settle() waited for the second too
  });

  it('with concurrency 1, two large files hashed at once start only one early upload', async () => {
    const a = randomBytes(MIN * 3);
    const b = randomBytes(MIN * 4);
    const pathA = await write('a.bin', a);
    const pathB = await write('b.bin', b);
    const gate = deferred();
    const target = fakePusher('uploaded', gate.promise);
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const inner = readingHasher();
    const hash = eager.hasher(inner);

    const [ra, rb] = await Promise.all([hash(pathA), hash(pathB)]);
    expect(ra.digest).toBe(computeDigest(a));
    expect(rb.digest).toBe(computeDigest(b));
    expect(inner.calls.sort()).toEqual([pathA, pathB].sort());
    expect(target.calls).toHaveLength(1);
    // Which file took the slot is a race; exactly one of them did. (The fake records the digest
    // only once it has drained the stream, which may come after hashing returns.)
    const begun = [ra.digest, rb.digest].filter((digest) => eager.started(digest) !== undefined);
    expect(begun).toHaveLength(1);

    // Once the upload ends its slot is free again.
    gate.resolve();
    await eager.settle();
    expect(target.calls[0]?.digest).toBe(begun[0]);
    const c = randomBytes(MIN * 2);
    const { digest } = await hash(await write('c.bin', c));
    expect(await eager.started(digest)?.outcome).toBe('uploaded');
    expect(target.calls).toHaveLength(2);
    expect(target.calls[1]?.bytes?.equals(c)).toBe(true);
  });

  it('frees the slot of a failed upload', async () => {
    const target = fakePusher(async () => {
      throw new Error('first fails');
    });
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const hash = eager.hasher(readingHasher());
    const first = await hash(await write('a.bin', randomBytes(MIN * 2)));
    await expect(eager.started(first.digest)?.outcome).rejects.toThrow('first fails');
    await hash(await write('b.bin', randomBytes(MIN * 2)));
    expect(target.calls).toHaveLength(2);
  });

  it('settle() rethrows an upload failure', async () => {
    const bytes = randomBytes(MIN * 2);
    const path = await write('large.bin', bytes);
    const failure = new Error('registry said no');
    const target = fakePusher(async () => {
      throw failure;
    });
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    // Hashing itself succeeds: the failure belongs to the upload.
    const result = await eager.hasher(readingHasher())(path);
    expect(result.digest).toBe(computeDigest(bytes));
    await expect(eager.settle()).rejects.toBe(failure);
    await expect(eager.started(result.digest)?.outcome).rejects.toBe(failure);
  });

  it('abort() aborts the signal given to pushWhileHashing and waits for the upload to end', async () => {
    const path = await write('large.bin', randomBytes(MIN * 2));
    const waiting = deferred();
    let cleanedUp = false;
    const target = fakePusher(
      (call) =>
        new Promise<StreamingOutcome>((_resolve, reject) => {
          call.signal?.addEventListener('abort', () => {
            // Deleting the session takes a moment; abort() must wait for it.
            setTimeout(() => {
              cleanedUp = true;
              reject(call.signal?.reason as Error);
            }, 20);
          });
          waiting.resolve();
        }),
    );
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const hash = eager.hasher(readingHasher());
    const { digest } = await hash(path);
    await waiting.promise; // the upload has its bytes and digest, and has not finished
    const signal = target.calls[0]?.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);

    await eager.abort();
    expect(signal?.aborted).toBe(true);
    expect(cleanedUp).toBe(true);
    await expect(eager.started(digest)?.outcome).rejects.toMatchObject({ name: 'AbortError' });

    // After abort(), hashing goes on (pack() may still be running) but starts no upload.
    const later = randomBytes(MIN * 2);
    expect((await hash(await write('later.bin', later))).digest).toBe(computeDigest(later));
    expect(target.calls).toHaveLength(1);
  });

  it('passes the caller’s signal through: aborting it aborts the upload', async () => {
    const path = await write('large.bin', randomBytes(MIN * 2));
    const waiting = deferred();
    const target = fakePusher(
      (call) =>
        new Promise<StreamingOutcome>((_resolve, reject) => {
          call.signal?.addEventListener('abort', () => reject(new Error('stopped by caller')));
          waiting.resolve();
        }),
    );
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const caller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const inner: FileHasher = async (p, signal) => {
      seen.push(signal);
      const bytes = await readFile(p);
      return { digest: computeDigest(bytes), size: bytes.byteLength };
    };
    await eager.hasher(inner)(path, caller.signal);
    expect(seen).toEqual([caller.signal]);
    await waiting.promise;
    expect(target.calls[0]?.signal?.aborted).toBe(false);
    caller.abort();
    expect(target.calls[0]?.signal?.aborted).toBe(true);
    await expect(eager.settle()).rejects.toThrow('stopped by caller');
  });

  it('a hashing failure propagates from the hasher, and the upload is told through its digest', async () => {
    const path = await write('large.bin', randomBytes(MIN * 2));
    const target = fakePusher('uploaded', undefined, true);
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const failure = new Error('read error');
    const hash = eager.hasher(async () => {
      throw failure;
    });
    await expect(hash(path)).rejects.toBe(failure);
    await expect(eager.settle()).rejects.toBe(failure);
    expect(target.calls).toHaveLength(1);
    expect(target.calls[0]?.digestError).toBe(failure);
  });

  it('a hashing failure after the upload took its bytes propagates the same way', async () => {
    const path = await write('large.bin', randomBytes(MIN * 2));
    const target = fakePusher();
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const failure = new Error('late read error');
    const hash = eager.hasher(async () => {
      await target.drained; // the upload has taken every byte before the hash fails
      throw failure;
    });
    await expect(hash(path)).rejects.toBe(failure);
    await expect(eager.settle()).rejects.toBe(failure);
    expect(target.calls[0]?.bytes?.byteLength).toBe(MIN * 2);
    expect(target.calls[0]?.digestError).toBe(failure);
  });

  it('a hashing failure is no unhandled rejection while the target is still reading the stream', async () => {
    // StreamingPusher does not promise to look at `digest` before its first await; a target
    // that streams first and awaits the digest after (like fakePusher()) is a valid one.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const path = await write('large.bin', randomBytes(MIN * 2));
      const target = fakePusher();
      const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
      const failure = new Error('read error while streaming');
      const hash = eager.hasher(async () => {
        throw failure;
      });
      await expect(hash(path)).rejects.toBe(failure);
      await expect(eager.settle()).rejects.toBe(failure);
      expect(target.calls[0]?.digestError).toBe(failure);
      await new Promise((done) => setTimeout(done, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails with ERR_FILE_CHANGED when the file’s size changed between stat and hash', async () => {
    const path = await write('growing.bin', randomBytes(MIN * 2));
    const target = fakePusher();
    const eager = new EagerUploads(target, { concurrency: 1, minSize: MIN });
    const hash = eager.hasher(async () => ({ digest: computeDigest('x'), size: MIN * 3 }));
    await expect(hash(path)).rejects.toMatchObject({ code: 'ERR_FILE_CHANGED' });
    expect(eager.started(computeDigest('x'))).toBeUndefined();
    await eager.settle();
  });
});
