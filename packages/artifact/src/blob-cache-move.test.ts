// What the cache keeps of a large blob it downloads for a file: by default the download is moved
// to the file when a copy would cost a second write (no reflinks); `keep: 'always'` keeps a copy.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeDigest, Digester, DigestMismatchError, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from './blob-cache.js';
import { defaultFileMode } from './durable.js';
import type { FetchOptions } from './target.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cache-move-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Above the 256 KiB bypass, and at the `moveMinSize` the tests give the cache. */
const MOVE_MIN = 400_000;
const large = randomBytes(500_000);
const small = randomBytes(300_000);
const describeBytes = (bytes: Buffer): Descriptor => ({
  mediaType: 'application/octet-stream',
  digest: computeDigest(bytes),
  size: bytes.byteLength,
});
const largeBlob = describeBytes(large);
const smallBlob = describeBytes(small);

/** A remote serving `bytes`, verified like a registry stream; `gate` holds each stream's end. */
function remote(bytes: Buffer, gate?: Promise<void>) {
  let requests = 0;
  const fetch = async (descriptor: Descriptor, options: FetchOptions = {}) => {
    requests++;
    const offset = options.resume?.offset ?? 0;
    const digester = options.resume?.digester ?? new Digester();
    const rest = bytes.subarray(offset);
    digester.update(rest);
    const actual = digester.digest();
    return Readable.from(
      (async function* () {
        yield rest.subarray(0, 1000);
        await gate;
        yield rest.subarray(1000);
        if (actual !== descriptor.digest) throw new DigestMismatchError(descriptor.digest, actual);
      })(),
    );
  };
  return {
    fetch,
    resumable: true,
    get requests() {
      return requests;
    },
  };
}

const entryPath = (descriptor: Descriptor) =>
  join(dir, 'cache', 'blobs', 'sha256', descriptor.digest.slice(7));
const cacheFiles = () => readdir(join(dir, 'cache', 'blobs', 'sha256'));
const exists = (path: string) =>
  access(path, constants.F_OK).then(
    () => true,
    () => false,
  );

describe('BlobCache placing a large blob just downloaded', () => {
  it('moves it to the file by default: one write, a plain file of the user, no cache entry left', async () => {
    const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: MOVE_MIN });
    const source = remote(large);
    const out = join(dir, 'out.bin');
    await cache.copyTo(source, largeBlob, out);
    expect((await readFile(out)).equals(large)).toBe(true);
    const stats = await stat(out);
    expect(stats.nlink).toBe(1);
    expect(stats.mode & 0o777).toBe(defaultFileMode());
    // Neither an entry nor a partial file: the one copy is the user's.
    expect(await cacheFiles()).toEqual([]);
    // The next pull of it downloads it again.
    await cache.copyTo(source, largeBlob, join(dir, 'again.bin'));
    expect((await readFile(join(dir, 'again.bin'))).equals(large)).toBe(true);
    expect(source.requests).toBe(2);
  });

  it("keeps its own copy with keep: 'always', and the pulled file stays independent of it", async () => {
    const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: MOVE_MIN, keep: 'always' });
    const source = remote(large);
    const out = join(dir, 'out.bin');
    await cache.copyTo(source, largeBlob, out);
    const [placed, entry] = await Promise.all([stat(out), stat(entryPath(largeBlob))]);
    expect(placed.ino).not.toBe(entry.ino);
    await chmod(out, 0o600);
    await writeFile(out, 'edited');
    expect((await readFile(entryPath(largeBlob))).equals(large)).toBe(true);
    // A second pull is served from the cache.
    await cache.copyTo(source, largeBlob, join(dir, 'again.bin'));
    expect((await readFile(join(dir, 'again.bin'))).equals(large)).toBe(true);
    expect(source.requests).toBe(1);
  });

  it('keeps blobs under the move size, as before', async () => {
    const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: MOVE_MIN });
    const source = remote(small);
    await cache.copyTo(source, smallBlob, join(dir, 'out.bin'));
    expect(await cacheFiles()).toEqual([smallBlob.digest.slice(7)]);
    expect((await readFile(join(dir, 'out.bin'))).equals(small)).toBe(true);
  });

  it('keeps it when another placement in this process waits for the same download', async () => {
    const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: MOVE_MIN });
    let open!: () => void;
    const source = remote(
      large,
      new Promise<void>((resolve) => {
        open = resolve;
      }),
    );
    const first = cache.copyTo(source, largeBlob, join(dir, 'a.bin'));
    // Let the first download start and take the lock before the second asks.
    while (source.requests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = cache.copyTo(source, largeBlob, join(dir, 'b.bin'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    open();
    await Promise.all([first, second]);
    expect(source.requests).toBe(1);
    expect((await readFile(join(dir, 'a.bin'))).equals(large)).toBe(true);
    expect((await readFile(join(dir, 'b.bin'))).equals(large)).toBe(true);
    expect(await cacheFiles()).toEqual([largeBlob.digest.slice(7)]);
    const [a, b, entry] = await Promise.all(
      [join(dir, 'a.bin'), join(dir, 'b.bin'), entryPath(largeBlob)].map((path) => stat(path)),
    );
    expect(new Set([a?.ino, b?.ino, entry?.ino]).size).toBe(3);
  });

  it('never replaces an existing file: the placement fails and the checked blob stays cached', async () => {
    const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: MOVE_MIN });
    const source = remote(large);
    const out = join(dir, 'out.bin');
    await writeFile(out, 'the user’s file');
    await expect(cache.copyTo(source, largeBlob, out)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(out, 'utf8')).toBe('the user’s file');
    expect(await cacheFiles()).toEqual([largeBlob.digest.slice(7)]);
    expect((await readFile(entryPath(largeBlob))).equals(large)).toBe(true);
  });

  // Across file systems link() cannot move it: the blob is copied and the cache keeps it.
  const shm = '/dev/shm';
  it.skipIf(!(process.platform === 'linux'))(
    'copies, and keeps the entry, when the file is on another file system',
    async () => {
      if (!(await exists(shm)) || (await stat(shm)).dev === (await stat(dir)).dev) return;
      const elsewhere = await mkdtemp(join(shm, 'ferry-move-'));
      try {
        const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: MOVE_MIN });
        await cache.copyTo(remote(large), largeBlob, join(elsewhere, 'out.bin'));
        expect((await readFile(join(elsewhere, 'out.bin'))).equals(large)).toBe(true);
        expect(await cacheFiles()).toEqual([largeBlob.digest.slice(7)]);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    },
  );
});
