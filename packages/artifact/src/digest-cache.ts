/**
 * Digests of files ferry has hashed, so that pushing an unchanged file again does not read it
 * again (1 GiB costs 0.7 s of SHA-256 here, the whole of a re-push). An entry is keyed by what
 * identifies a file's content without reading it: device, inode, size, and the modification and
 * status-change times in nanoseconds, the key Bazel's digest cache and git's index use. The
 * change time cannot be set from user space: every write, truncate, chmod, rename or utimes
 * moves it, so an entry can only match bytes that were hashed.
 *
 * The one gap is the timestamp granularity (the kernel's clock tick): a write in the same tick
 * as the hash leaves both times unchanged. Like git's "racy clean" rule, a file whose times are
 * that recent when hashing starts is hashed but not remembered. The registry checks the digest
 * of every byte ferry uploads anyway; only a blob the registry already holds is trusted to the
 * cache, and `--no-digest-cache` (or FERRY_DIGEST_CACHE=0) turns it off.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { isDigest, type Digest } from '@ferry/oci';

/**
 * What pack() calls to learn a file's digest and size. `size` is what stat() just said, a hint for
 * sizing read buffers; the result's size is what was actually read.
 */
export type FileHasher = (
  path: string,
  signal?: AbortSignal,
  size?: number,
) => Promise<{ digest: Digest; size: number }>;

/** Files smaller than this are hashed every time: reading them costs no more than a lookup. */
export const DIGEST_CACHE_MIN_SIZE = 1024 * 1024;
/** Entries kept, the most recently used first. */
const MAX_ENTRIES = 4096;
/** Times this close to the start of hashing are too recent to trust (see above). */
const RACY_NS = 2_000_000_000n;
const FORMAT = 'ferry-digest-cache-v1';

/** [dev, ino, size, mtimeNs, ctimeNs, digest, last used (ms)] */
type Entry = [string, string, string, string, string, Digest, number];

function identity(stats: BigIntStats): string[] {
  return [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].map(String);
}

function sameIdentity(a: BigIntStats, b: BigIntStats): boolean {
  return identity(a).join() === identity(b).join();
}

export class DigestCache {
  readonly file: string;
  readonly #entries: Map<string, Entry>;
  #changed = false;

  private constructor(file: string, entries: Map<string, Entry>) {
    this.file = file;
    this.#entries = entries;
  }

  /** Loads `<cacheDir>/digests.json`; a missing or unreadable file is an empty cache. */
  static async open(cacheDir: string): Promise<DigestCache> {
    const file = join(cacheDir, 'digests.json');
    const entries = new Map<string, Entry>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as {
        format?: unknown;
        entries?: unknown;
      };
      if (parsed.format === FORMAT && typeof parsed.entries === 'object' && parsed.entries) {
        for (const [path, entry] of Object.entries(parsed.entries)) {
          if (isEntry(entry)) entries.set(path, entry);
        }
      }
    } catch {
      // No cache yet, or a damaged one: start empty (it is only ever a shortcut).
    }
    return new DigestCache(file, entries);
  }

  /** The digest remembered for this file, if its identity is unchanged. */
  lookup(path: string, stats: BigIntStats): Digest | undefined {
    const entry = this.#entries.get(resolve(path));
    if (!entry || entry.slice(0, 5).join() !== identity(stats).join()) return undefined;
    entry[6] = Date.now();
    this.#changed = true;
    return entry[5];
  }

  /**
   * Remembers a digest computed from the file between `before` and `after` (stat results taken
   * around the hashing), unless the file changed meanwhile or its times are too recent to trust.
   */
  record(
    path: string,
    before: BigIntStats,
    after: BigIntStats,
    digest: Digest,
    hashStartedNs: bigint,
  ): boolean {
    if (!sameIdentity(before, after)) return false;
    if (before.size < BigInt(DIGEST_CACHE_MIN_SIZE)) return false;
    const newest = before.mtimeNs > before.ctimeNs ? before.mtimeNs : before.ctimeNs;
    if (newest > hashStartedNs - RACY_NS) return false;
    const [dev, ino, size, mtimeNs, ctimeNs] = identity(before) as [
      string,
      string,
      string,
      string,
      string,
    ];
    this.#entries.set(resolve(path), [dev, ino, size, mtimeNs, ctimeNs, digest, Date.now()]);
    this.#changed = true;
    return true;
  }

  /** A hasher that answers from the cache and remembers what `inner` computes. */
  hasher(inner: FileHasher): FileHasher {
    return async (path, signal) => {
      const before = await stat(path, { bigint: true });
      const known = before.isFile() ? this.lookup(path, before) : undefined;
      if (known) return { digest: known, size: Number(before.size) };
      const startedNs = BigInt(Date.now()) * 1_000_000n;
      const result = await inner(path, signal, Number(before.size));
      // Small files are never recorded: no second stat for each of a thousand 4 KiB files.
      const recordable = before.size >= BigInt(DIGEST_CACHE_MIN_SIZE);
      if (recordable && before.isFile() && BigInt(result.size) === before.size) {
        this.record(path, before, await stat(path, { bigint: true }), result.digest, startedNs);
      }
      return result;
    };
  }

  /**
   * Writes the cache back if anything changed: to a temp file renamed into place, so a reader
   * never sees half of it. Concurrent ferry processes may each drop the other's new entries;
   * that costs a hash later, never a wrong digest.
   */
  async save(): Promise<void> {
    if (!this.#changed) return;
    const newest = [...this.#entries].sort((a, b) => b[1][6] - a[1][6]).slice(0, MAX_ENTRIES);
    const text = JSON.stringify({ format: FORMAT, entries: Object.fromEntries(newest) });
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, this.file);
      this.#changed = false;
    } finally {
      await rm(temp, { force: true });
    }
  }
}

function isEntry(value: unknown): value is Entry {
  return (
    Array.isArray(value) &&
    value.length === 7 &&
    value.slice(0, 5).every((part) => typeof part === 'string' && /^\d+$/.test(part)) &&
    typeof value[5] === 'string' &&
    isDigest(value[5]) &&
    typeof value[6] === 'number'
  );
}
