/**
 * One lock file per blob (`<hex>.lock`), so that of all the ferry processes sharing a download
 * cache exactly one writes `<hex>.partial` at a time and the others wait for its result.
 *
 * Taken with O_CREAT|O_EXCL (atomic on every local file system, and it never follows a symlink);
 * it names its holder (host, pid, a random token) and its mtime is touched every few seconds while
 * it is held. A lock is stale, and broken, when its holder on this host is no longer running, or
 * when it has not been touched for `staleMs` (a holder on another host, or a reused pid).
 * Breaking renames the lock aside first and checks that what was moved is the stale lock that was
 * judged, so that two waiters breaking one stale lock cannot also remove the fresh lock of a third.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

export interface LockTimings {
  /** How often a holder touches its lock. Default 2 s. */
  heartbeatMs?: number | undefined;
  /** A lock untouched for this long is stale, whoever holds it. Default 60 s. */
  staleMs?: number | undefined;
  /** How often a waiter looks again. Default 100 ms. */
  pollMs?: number | undefined;
}

interface LockContent {
  host: string;
  pid: number;
  token: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return isErrno(error, 'EPERM');
  }
}

/** The lock's text and mtime; undefined when there is no lock any more. */
async function readLock(path: string): Promise<{ text: string; ageMs: number } | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, READ_FLAGS);
    const stats = await handle.stat();
    if (!stats.isFile()) return { text: '', ageMs: Infinity };
    const text = await handle.readFile('utf8');
    return { text, ageMs: Date.now() - stats.mtimeMs };
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    // A symlink (ELOOP) or anything else ferry never makes: treat as stale at once.
    if (isErrno(error, 'ELOOP', 'EMLINK', 'ENXIO')) return { text: '', ageMs: Infinity };
    throw error;
  } finally {
    await handle?.close().catch(() => {});
  }
}

function parse(text: string): LockContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    if (typeof value.host === 'string' && typeof value.pid === 'number') {
      return value as LockContent;
    }
  } catch {
    // Torn or foreign: judged by age alone.
  }
  return undefined;
}

export class CacheLock {
  readonly #heartbeatMs: number;
  readonly #staleMs: number;
  readonly #pollMs: number;

  constructor(timings: LockTimings = {}) {
    this.#heartbeatMs = timings.heartbeatMs ?? 2000;
    this.#staleMs = timings.staleMs ?? 60_000;
    this.#pollMs = timings.pollMs ?? 100;
  }

  #isStale(lock: { text: string; ageMs: number }): boolean {
    if (lock.ageMs > this.#staleMs) return true;
    const content = parse(lock.text);
    return content !== undefined && content.host === hostname() && !running(content.pid);
  }

  /**
   * Takes the lock at `path`, waiting while another live process holds it. `done()` is asked
   * between waits: when it answers true (the holder finished the work), this returns undefined
   * without taking the lock.
   */
  async acquire(
    path: string,
    done: () => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<HeldLock | undefined> {
    for (;;) {
      signal?.throwIfAborted();
      const held = await this.#tryCreate(path);
      if (held) return held;
      if (await done()) return undefined;
      const current = await readLock(path);
      if (current && this.#isStale(current)) {
        await breakStale(path, current.text);
        continue;
      }
      if (current) await delay(this.#pollMs, undefined, signal ? { signal } : {});
    }
  }

  async #tryCreate(path: string): Promise<HeldLock | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, CREATE_FLAGS, 0o600);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return undefined;
      throw error;
    }
    const text = JSON.stringify({
      host: hostname(),
      pid: process.pid,
      token: randomBytes(8).toString('hex'),
    });
    try {
      await handle.writeFile(text);
    } catch (error) {
      await handle.close();
      await unlink(path).catch(() => {});
      throw error;
    }
    // Touched through the descriptor: if the lock was broken and replaced, this touches only the
    // orphaned file, never the new holder's.
    const heartbeat = setInterval(() => {
      const now = new Date();
      handle.utimes(now, now).catch(() => {});
    }, this.#heartbeatMs);
    heartbeat.unref();
    return {
      async release() {
        clearInterval(heartbeat);
        await handle.close().catch(() => {});
        // Removed only while it is still this holder's: a lock broken meanwhile belongs to another.
        const current = await readLock(path).catch(() => undefined);
        if (current?.text === text) await unlink(path).catch(() => {});
      },
    };
  }
}

/** Removes the stale lock whose text is `stale`, and nothing else. */
async function breakStale(path: string, stale: string): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return; // another waiter broke it
    throw error;
  }
  const moved = await lstat(aside).then(
    (stats) => (stats.isFile() ? readFile(aside, 'utf8').catch(() => '') : ''),
    () => '',
  );
  if (moved !== stale) {
    // A live holder's lock was taken in a race: put it back, unless a new one is there already.
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}
