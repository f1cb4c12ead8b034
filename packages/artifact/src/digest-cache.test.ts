import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { computeDigest, type Digest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DIGEST_CACHE_MIN_SIZE, DigestCache, type FileHasher } from './digest-cache.js';

const MiB = 1024 * 1024;
/** One hour ago, in whole seconds: utimes() can set whole seconds exactly (mtimeNs % 1e9 = 0). */
const AN_HOUR_AGO = Math.floor(Date.now() / 1000) - 3600;
/** A hash that "started" an hour from now: every file time is older than that, none is racy. */
const FUTURE_NS = (BigInt(Date.now()) + 3_600_000n) * 1_000_000n;

let dir: string;
let cacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-digest-cache-'));
  cacheDir = join(dir, 'cache');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** A hasher that reads the whole file, and counts how often it was asked. */
function countingHasher(): FileHasher & { calls: string[] } {
  const calls: string[] = [];
  const hasher = async (path: string) => {
    calls.push(path);
    const bytes = await readFile(path);
    return { digest: computeDigest(bytes), size: bytes.byteLength };
  };
  return Object.assign(hasher, { calls });
}

async function writeAged(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  await utimes(path, AN_HOUR_AGO, AN_HOUR_AGO);
  return path;
}

const bigStat = (path: string): Promise<BigIntStats> => stat(path, { bigint: true });

/** Records `digest` for `path` as of now, as a hash that started long after the file's times. */
async function prime(cache: DigestCache, path: string, digest: Digest): Promise<boolean> {
  const stats = await bigStat(path);
  return cache.record(path, stats, stats, digest, FUTURE_NS);
}

/** The kernel stamps ctime with a coarse clock: let a tick pass so a change moves it. */
const nextTick = () => new Promise((done) => setTimeout(done, 30));

/** Overwrites the file's bytes in place (same inode, same size). */
async function rewriteInPlace(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.byteLength, 0);
  } finally {
    await handle.close();
  }
}

/** Makes hasher() believe hashing starts an hour from now, so that it records what it hashes. */
function hashStartsInTheFuture(): void {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
}

describe('DigestCache lookups', () => {
  it('answers a hit from the cache without calling the inner hasher', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', bytes);
    const cache = await DigestCache.open(cacheDir);
    expect(await prime(cache, path, computeDigest(bytes))).toBe(true);

    const inner = countingHasher();
    const hash = cache.hasher(inner);
    expect(await hash(path)).toEqual({ digest: computeDigest(bytes), size: 2 * MiB });
    expect(await hash(path)).toEqual({ digest: computeDigest(bytes), size: 2 * MiB });
    expect(inner.calls).toEqual([]);
  });

  it('answers with what was recorded, proving the file was not read', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', bytes);
    const cache = await DigestCache.open(cacheDir);
    const recorded = computeDigest('not the bytes of the file');
    await prime(cache, path, recorded);
    const inner = countingHasher();
    expect((await cache.hasher(inner)(path)).digest).toBe(recorded);
    expect(inner.calls).toEqual([]);
  });

  it('misses after the bytes are rewritten in place with the same size, and re-hashes', async () => {
    const before = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', before);
    const cache = await DigestCache.open(cacheDir);
    await prime(cache, path, computeDigest(before));
    const old = await bigStat(path);

    await nextTick();
    const after = randomBytes(2 * MiB);
    await rewriteInPlace(path, after);
    const now = await bigStat(path);
    expect(now.ino).toBe(old.ino);
    expect(now.size).toBe(old.size);

    const inner = countingHasher();
    expect(await cache.hasher(inner)(path)).toEqual({
      digest: computeDigest(after),
      size: 2 * MiB,
    });
    expect(inner.calls).toEqual([path]);
  });

  it('misses when only the change time moved (mtime restored after a rewrite in place)', async () => {
    const before = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', before);
    const cache = await DigestCache.open(cacheDir);
    await prime(cache, path, computeDigest(before));
    const old = await bigStat(path);

    await nextTick();
    const after = randomBytes(2 * MiB);
    await rewriteInPlace(path, after);
    await utimes(path, AN_HOUR_AGO, AN_HOUR_AGO); // what `touch -r` or an archiver would do
    const now = await bigStat(path);
    expect([now.dev, now.ino, now.size, now.mtimeNs]).toEqual([
      old.dev,
      old.ino,
      old.size,
      old.mtimeNs,
    ]);
    expect(now.ctimeNs).not.toBe(old.ctimeNs);

    expect(cache.lookup(path, now)).toBeUndefined();
    const inner = countingHasher();
    expect((await cache.hasher(inner)(path)).digest).toBe(computeDigest(after));
    expect(inner.calls).toHaveLength(1);
  });

  it('misses when the path names another file (deleted and recreated: a different inode)', async () => {
    const first = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', first);
    const cache = await DigestCache.open(cacheDir);
    await prime(cache, path, computeDigest(first));
    const old = await bigStat(path);

    // Written beside the old file (so it cannot reuse its inode), then moved over it.
    await nextTick();
    const second = randomBytes(2 * MiB);
    const staged = await writeAged('big.bin.new', second);
    await rm(path);
    await rename(staged, path);
    const now = await bigStat(path);
    expect(now.ino).not.toBe(old.ino);
    expect(now.size).toBe(old.size);

    const inner = countingHasher();
    expect((await cache.hasher(inner)(path)).digest).toBe(computeDigest(second));
    expect(inner.calls).toEqual([path]);
  });

  it('keys entries by absolute path: a relative name of the file hits, another path misses', async () => {
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    const stats = await bigStat(path);
    const cache = await DigestCache.open(cacheDir);
    await prime(cache, path, computeDigest('recorded'));
    expect(cache.lookup(relative(process.cwd(), path), stats)).toBe(computeDigest('recorded'));
    // Same identity (the stats of the recorded file), another name: not the entry's file.
    expect(cache.lookup(join(dir, 'elsewhere.bin'), stats)).toBeUndefined();
  });
});

describe('DigestCache recording', () => {
  it('hasher() records what it hashed once the file is old enough, and then answers from it', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', bytes);
    hashStartsInTheFuture();
    const cache = await DigestCache.open(cacheDir);
    const inner = countingHasher();
    const hash = cache.hasher(inner);
    expect(await hash(path)).toEqual({ digest: computeDigest(bytes), size: 2 * MiB });
    expect(await hash(path)).toEqual({ digest: computeDigest(bytes), size: 2 * MiB });
    expect(inner.calls).toEqual([path]);
  });

  it('hashes a file that was just written but does not record it (racy clean)', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = join(dir, 'fresh.bin');
    await writeFile(path, bytes);
    const cache = await DigestCache.open(cacheDir);
    const inner = countingHasher();
    const hash = cache.hasher(inner);
    expect(await hash(path)).toEqual({ digest: computeDigest(bytes), size: 2 * MiB });
    expect(await hash(path)).toEqual({ digest: computeDigest(bytes), size: 2 * MiB });
    expect(inner.calls).toEqual([path, path]);
    await cache.save();
    await expect(stat(join(cacheDir, 'digests.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does not record a file whose mtime is old but whose ctime is recent (utimes just ran)', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('aged.bin', bytes); // mtime an hour ago, ctime now
    const stats = await bigStat(path);
    expect(stats.mtimeNs).toBe(BigInt(AN_HOUR_AGO) * 1_000_000_000n);
    const cache = await DigestCache.open(cacheDir);
    const inner = countingHasher();
    const hash = cache.hasher(inner);
    await hash(path);
    await hash(path);
    expect(inner.calls).toHaveLength(2);
  });

  it('record() refuses times within 2 s of the start of hashing, and accepts older ones', async () => {
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    const stats = await bigStat(path);
    const newest = stats.ctimeNs > stats.mtimeNs ? stats.ctimeNs : stats.mtimeNs;
    const digest = computeDigest('x');
    const cache = await DigestCache.open(cacheDir);
    expect(cache.record(path, stats, stats, digest, newest)).toBe(false);
    expect(cache.record(path, stats, stats, digest, newest + 1_999_999_999n)).toBe(false);
    expect(cache.lookup(path, stats)).toBeUndefined();
    expect(cache.record(path, stats, stats, digest, newest + 2_000_000_001n)).toBe(true);
    expect(cache.lookup(path, stats)).toBe(digest);
  });

  it('record() refuses a file that changed while it was hashed', async () => {
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    const before = await bigStat(path);
    await nextTick();
    await rewriteInPlace(path, randomBytes(2 * MiB));
    const after = await bigStat(path);
    const cache = await DigestCache.open(cacheDir);
    expect(cache.record(path, before, after, computeDigest('x'), FUTURE_NS)).toBe(false);
    expect(cache.lookup(path, before)).toBeUndefined();
    expect(cache.lookup(path, after)).toBeUndefined();
  });

  it('hasher() does not record when the file is rewritten while the inner hasher runs', async () => {
    const original = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', original);
    hashStartsInTheFuture();
    const cache = await DigestCache.open(cacheDir);
    let calls = 0;
    const hash = cache.hasher(async () => {
      calls++;
      await nextTick();
      await rewriteInPlace(path, randomBytes(2 * MiB));
      return { digest: computeDigest(original), size: original.byteLength };
    });
    expect((await hash(path)).digest).toBe(computeDigest(original));
    await hash(path);
    expect(calls).toBe(2);
  });

  it('does not record files smaller than 1 MiB; exactly 1 MiB is recorded', async () => {
    expect(DIGEST_CACHE_MIN_SIZE).toBe(MiB);
    const small = await writeAged('small.bin', randomBytes(MiB - 1));
    const edge = await writeAged('edge.bin', randomBytes(MiB));
    const cache = await DigestCache.open(cacheDir);
    expect(await prime(cache, small, computeDigest('small'))).toBe(false);
    expect(cache.lookup(small, await bigStat(small))).toBeUndefined();
    expect(await prime(cache, edge, computeDigest('edge'))).toBe(true);

    hashStartsInTheFuture();
    const inner = countingHasher();
    const hash = cache.hasher(inner);
    await hash(small);
    await hash(small);
    expect(inner.calls).toEqual([small, small]);
    expect((await hash(edge)).digest).toBe(computeDigest('edge'));
    expect(inner.calls).toHaveLength(2);
  });

  it('does not record when the inner hasher reports a different size than stat', async () => {
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    hashStartsInTheFuture();
    const cache = await DigestCache.open(cacheDir);
    let calls = 0;
    const hash = cache.hasher(async () => {
      calls++;
      return { digest: computeDigest('short read'), size: MiB };
    });
    expect(await hash(path)).toEqual({ digest: computeDigest('short read'), size: MiB });
    await hash(path);
    expect(calls).toBe(2);
  });

  it('passes the signal to the inner hasher and propagates its failure, recording nothing', async () => {
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    hashStartsInTheFuture();
    const cache = await DigestCache.open(cacheDir);
    const signal = new AbortController().signal;
    const seen: (AbortSignal | undefined)[] = [];
    const hash = cache.hasher(async (_path, s) => {
      seen.push(s);
      throw new Error('disk on fire');
    });
    await expect(hash(path, signal)).rejects.toThrow('disk on fire');
    expect(seen).toEqual([signal]);
    await cache.save();
    await expect(readdir(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('DigestCache persistence', () => {
  it('save() writes digests.json (mode 0600, via a rename) and a re-opened cache finds the entry', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', bytes);
    const cache = await DigestCache.open(cacheDir);
    expect(cache.file).toBe(join(cacheDir, 'digests.json'));
    await prime(cache, path, computeDigest(bytes));
    await cache.save();

    expect(await readdir(cacheDir)).toEqual(['digests.json']); // no temp file left behind
    const written = await stat(cache.file);
    expect(written.mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(cache.file, 'utf8')) as {
      format: string;
      entries: Record<string, unknown[]>;
    };
    expect(json.format).toBe('ferry-digest-cache-v1');
    expect(Object.keys(json.entries)).toEqual([resolve(path)]);
    expect(json.entries[resolve(path)]?.[5]).toBe(computeDigest(bytes));

    const reopened = await DigestCache.open(cacheDir);
    const inner = countingHasher();
    expect(await reopened.hasher(inner)(path)).toEqual({
      digest: computeDigest(bytes),
      size: 2 * MiB,
    });
    expect(inner.calls).toEqual([]);

    // The second save replaces the file by rename (a new inode): a reader that opened the old
    // one still reads a whole document, never a half-written one.
    const reader = await open(cache.file, 'r');
    try {
      const other = await writeAged('other.bin', randomBytes(2 * MiB));
      await prime(reopened, other, computeDigest('other'));
      await reopened.save();
      expect((await stat(cache.file)).ino).not.toBe(written.ino);
      expect(JSON.parse(await reader.readFile('utf8'))).toEqual(json);
    } finally {
      await reader.close();
    }
    expect(await readdir(cacheDir)).toEqual(['digests.json']);
    const again = JSON.parse(await readFile(cache.file, 'utf8')) as {
      entries: Record<string, unknown>;
    };
    expect(Object.keys(again.entries).sort()).toEqual(
      [resolve(path), resolve(join(dir, 'other.bin'))].sort(),
    );
  });

  it('save() creates a missing cache directory', async () => {
    const nested = join(dir, 'a', 'b', 'c');
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    const cache = await DigestCache.open(nested);
    await prime(cache, path, computeDigest('x'));
    await cache.save();
    expect(await readdir(nested)).toEqual(['digests.json']);
  });

  it('save() with nothing recorded and no hits writes nothing', async () => {
    const fresh = await DigestCache.open(cacheDir);
    await fresh.save();
    await expect(readdir(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });

    // An existing cache, used only for misses, is left untouched.
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    await prime(fresh, path, computeDigest('x'));
    await fresh.save();
    const saved = await stat(fresh.file, { bigint: true });
    const text = await readFile(fresh.file, 'utf8');

    const reopened = await DigestCache.open(cacheDir);
    const unknown = join(dir, 'fresh.bin');
    await writeFile(unknown, randomBytes(2 * MiB)); // racy: hashed, not recorded
    const inner = countingHasher();
    await reopened.hasher(inner)(unknown);
    expect(inner.calls).toEqual([unknown]);
    await reopened.save();
    const after = await stat(fresh.file, { bigint: true });
    expect([after.ino, after.mtimeNs]).toEqual([saved.ino, saved.mtimeNs]);
    expect(await readFile(fresh.file, 'utf8')).toBe(text);

    // A second save() right after a successful one has nothing new to write either.
    await prime(reopened, unknown, computeDigest('y')); // prime() starts the hash in the future
    await reopened.save();
    const written = await stat(fresh.file, { bigint: true });
    await reopened.save();
    const unchanged = await stat(fresh.file, { bigint: true });
    expect([unchanged.ino, unchanged.mtimeNs]).toEqual([written.ino, written.mtimeNs]);
  });

  it.each([
    ['garbage', 'this is {not json'],
    ['empty', ''],
    ['a JSON array', '[1, 2, 3]'],
    ['null', 'null'],
    ['another format', JSON.stringify({ format: 'ferry-digest-cache-v0', entries: {} })],
    [
      'entries that are not an object',
      JSON.stringify({ format: 'ferry-digest-cache-v1', entries: 7 }),
    ],
  ])('treats a corrupt digests.json (%s) as empty, without throwing', async (_name, content) => {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(join(cacheDir, 'digests.json'), content);
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', bytes);
    const cache = await DigestCache.open(cacheDir);
    const inner = countingHasher();
    expect((await cache.hasher(inner)(path)).digest).toBe(computeDigest(bytes));
    expect(inner.calls).toEqual([path]);

    // The next save replaces the damaged file with a valid one.
    await prime(cache, path, computeDigest(bytes));
    await cache.save();
    const reopened = await DigestCache.open(cacheDir);
    expect(reopened.lookup(path, await bigStat(path))).toBe(computeDigest(bytes));
  });

  it('drops malformed entries and keeps the well-formed ones', async () => {
    const bytes = randomBytes(2 * MiB);
    const path = await writeAged('big.bin', bytes);
    const stats = await bigStat(path);
    const key = [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].map(String);
    const good = [...key, computeDigest(bytes), 1];
    const other = (name: string) => resolve(join(dir, name));
    await mkdir(cacheDir, { recursive: true });
    await writeFile(
      join(cacheDir, 'digests.json'),
      JSON.stringify({
        format: 'ferry-digest-cache-v1',
        entries: {
          [resolve(path)]: good,
          [other('bad-digest')]: [...key, 'sha256:nothex', 1],
          [other('short')]: key,
          [other('negative')]: ['-1', ...key.slice(1), computeDigest(bytes), 1],
          [other('used-string')]: [...key, computeDigest(bytes), '1'],
          [other('object')]: { digest: computeDigest(bytes) },
        },
      }),
    );
    const cache = await DigestCache.open(cacheDir);
    expect(cache.lookup(path, stats)).toBe(computeDigest(bytes));
    await cache.save(); // the hit updated the entry's last use
    const saved = JSON.parse(await readFile(cache.file, 'utf8')) as {
      entries: Record<string, unknown>;
    };
    expect(Object.keys(saved.entries)).toEqual([resolve(path)]);
  });

  it('keeps the 4096 most recently used entries', async () => {
    const path = await writeAged('big.bin', randomBytes(2 * MiB));
    const stats = await bigStat(path);
    let clock = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => clock++);
    const cache = await DigestCache.open(cacheDir);
    for (let i = 0; i <= 4096; i++) {
      expect(
        cache.record(join(dir, `f${i}`), stats, stats, computeDigest(String(i)), FUTURE_NS),
      ).toBe(true);
    }
    // Using the oldest entry makes it the newest: the second oldest is the one dropped.
    expect(cache.lookup(join(dir, 'f0'), stats)).toBe(computeDigest('0'));
    await cache.save();
    const saved = JSON.parse(await readFile(cache.file, 'utf8')) as {
      entries: Record<string, unknown>;
    };
    const names = Object.keys(saved.entries);
    expect(names).toHaveLength(4096);
    expect(names).toContain(resolve(join(dir, 'f0')));
    expect(names).not.toContain(resolve(join(dir, 'f1')));
    expect(names).toContain(resolve(join(dir, 'f4096')));
  });
});
