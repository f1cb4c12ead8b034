/**
 * The download cache as a second process or an attacker with a foothold in it would see it
 * (issue 13, items 5–7): concurrent users of one cache, pulled files as independent copies, and
 * symlinks or links planted under the cache's names.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeDigest, Digester, DigestMismatchError, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from './blob-cache.js';
import type { FetchOptions } from './target.js';

let dir: string;
let cacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cache-trust-'));
  cacheDir = join(dir, 'cache');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const blob = randomBytes(1024 * 1024 + 17);
const descriptor: Descriptor = {
  mediaType: 'application/octet-stream',
  digest: computeDigest(blob),
  size: blob.byteLength,
};
const hex = descriptor.digest.slice('sha256:'.length);
const entryPath = () => join(cacheDir, 'blobs', 'sha256', hex);
const partialPath = () => `${entryPath()}.partial`;
const lockPath = () => `${entryPath()}.lock`;

/**
 * A registry stand-in that verifies what it serves as RegistryTarget does. With `gated`, each
 * response stops after its first 64 KiB until `open()` is called: a slow blob, under the test's
 * control rather than the clock's.
 */
function remote(options: { gated?: boolean } = {}) {
  const requests: { offset: number }[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const firstRequest = new Promise<void>((resolve) => (started = resolve));
  const fetch = async (_d: Descriptor, fetchOptions: FetchOptions = {}) => {
    const offset = fetchOptions.resume?.offset ?? 0;
    requests.push({ offset });
    started();
    const digester = fetchOptions.resume?.digester ?? new Digester();
    const rest = blob.subarray(offset);
    // Like a registry stream: every byte is sent, and only the end says whether they matched.
    return Readable.from(
      (async function* () {
        const head = rest.subarray(0, 64 * 1024);
        digester.update(head);
        yield head;
        if (options.gated) await gate;
        const tail = rest.subarray(64 * 1024);
        digester.update(tail);
        fetchOptions.onProgress?.(rest.byteLength);
        yield tail;
        const actual = digester.digest();
        if (actual !== descriptor.digest) throw new DigestMismatchError(descriptor.digest, actual);
      })(),
    );
  };
  return { fetch, requests, release, firstRequest, resumable: true };
}

const sha = async (path: string) => computeDigest(await readFile(path));

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('two users of one cache (issue 13 item 5)', () => {
  it('two caches on one directory download the blob once and both place verified bytes', async () => {
    // Two BlobCache objects share no in-process state: they stand for two ferry processes.
    const first = new BlobCache(cacheDir, { pollMs: 5 });
    const second = new BlobCache(cacheDir, { pollMs: 5 });
    const source = remote({ gated: true });
    const a = first.copyTo(source, descriptor, join(dir, 'a.bin'));
    await source.firstRequest;
    const b = second.copyTo(source, descriptor, join(dir, 'b.bin'));
    // The second waits on the lock while the first's download is held open.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(source.requests).toHaveLength(1);
    source.release();
    await Promise.all([a, b]);
    expect((await readFile(join(dir, 'a.bin'))).equals(blob)).toBe(true);
    expect((await readFile(join(dir, 'b.bin'))).equals(blob)).toBe(true);
    expect(await sha(entryPath())).toBe(descriptor.digest);
    expect(source.requests).toEqual([{ offset: 0 }]);
    expect((await readdir(join(cacheDir, 'blobs', 'sha256'))).sort()).toEqual([hex]);
  });

  it('many concurrent fetches and copies through separate caches all get the blob', async () => {
    const source = remote();
    const users = Array.from({ length: 6 }, () => new BlobCache(cacheDir, { pollMs: 2 }));
    const results = await Promise.all(
      users.map(async (cache, i) => {
        if (i % 2) {
          const chunks: Buffer[] = [];
          for await (const chunk of await cache.fetch(source, descriptor)) chunks.push(chunk);
          return Buffer.concat(chunks);
        }
        await cache.copyTo(source, descriptor, join(dir, `out-${i}`));
        return readFile(join(dir, `out-${i}`));
      }),
    );
    for (const bytes of results) expect(computeDigest(bytes)).toBe(descriptor.digest);
    expect(source.requests).toHaveLength(1);
  });

  it('breaks the lock of a process that died, and resumes its partial file', async () => {
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(partialPath(), blob.subarray(0, 300_000));
    await writeFile(lockPath(), JSON.stringify({ host: hostname(), pid: deadPid(), token: 'x' }));
    const source = remote();
    await new BlobCache(cacheDir).copyTo(source, descriptor, join(dir, 'out'));
    expect(await sha(join(dir, 'out'))).toBe(descriptor.digest);
    expect(source.requests).toEqual([{ offset: 300_000 }]);
    expect(await readdir(join(cacheDir, 'blobs', 'sha256'))).toEqual([hex]);
  });

  it('breaks a lock nobody has touched for longer than the stale age (another host)', async () => {
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(lockPath(), JSON.stringify({ host: 'elsewhere', pid: 1, token: 'x' }));
    const old = new Date(Date.now() - 120_000);
    await utimes(lockPath(), old, old);
    const source = remote();
    await new BlobCache(cacheDir).copyTo(source, descriptor, join(dir, 'out'));
    expect(await sha(join(dir, 'out'))).toBe(descriptor.digest);
  });

  it('waits for a live holder (this very process) instead of writing beside it', async () => {
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(lockPath(), JSON.stringify({ host: hostname(), pid: process.pid, token: 'y' }));
    const source = remote();
    let done = false;
    const waiting = new BlobCache(cacheDir, { pollMs: 5 })
      .copyTo(source, descriptor, join(dir, 'out'))
      .then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    expect(source.requests).toEqual([]);
    await rm(lockPath()); // the holder finishes without a result: the waiter takes over
    await waiting;
    expect(await sha(join(dir, 'out'))).toBe(descriptor.digest);
  });
});

describe('pulled files are independent copies (issue 13 item 6)', () => {
  it('editing, truncating or chmod-ing one pulled file changes neither the cache nor another pull', async () => {
    const cache = new BlobCache(cacheDir);
    const source = remote();
    const a = join(dir, 'a.bin');
    const b = join(dir, 'b.bin');
    await cache.copyTo(source, descriptor, a);
    await cache.copyTo(source, descriptor, b);
    expect(source.requests).toHaveLength(1);
    const entryMode = (await stat(entryPath())).mode & 0o777;
    for (const path of [a, b, entryPath()]) expect((await stat(path)).nlink).toBe(1);
    expect((await stat(a)).ino).not.toBe((await stat(entryPath())).ino);

    await writeFile(a, 'edited in place', { flag: 'r+' });
    expect(await sha(b)).toBe(descriptor.digest);
    expect(await sha(entryPath())).toBe(descriptor.digest);
    await truncate(a, 10);
    await chmod(a, 0o777);
    expect(await sha(b)).toBe(descriptor.digest);
    expect(await sha(entryPath())).toBe(descriptor.digest);
    expect((await stat(entryPath())).mode & 0o777).toBe(entryMode);
    expect((await stat(b)).mode & 0o777).not.toBe(0o777);
  });

  it('gives a pulled file the mode of a new file under the umask, not the cache entry’s 0600', async () => {
    const cache = new BlobCache(cacheDir);
    await cache.copyTo(remote(), descriptor, join(dir, 'a.bin'));
    await cache.copyTo(remote(), descriptor, join(dir, 'b.bin'));
    const expected = 0o666 & ~process.umask();
    expect((await stat(join(dir, 'a.bin'))).mode & 0o777).toBe(expected);
    expect((await stat(join(dir, 'b.bin'))).mode & 0o777).toBe(expected);
  });
});

describe.skipIf(process.platform === 'win32')('the cache is not a way in (issue 13 item 7)', () => {
  it('creates the cache 0700 and its entries 0600', async () => {
    await new BlobCache(cacheDir).copyTo(remote(), descriptor, join(dir, 'out'));
    for (const path of [cacheDir, join(cacheDir, 'blobs'), join(cacheDir, 'blobs', 'sha256')]) {
      expect((await stat(path)).mode & 0o777).toBe(0o700);
    }
    expect((await stat(entryPath())).mode & 0o777).toBe(0o600);
  });

  it('does not append to a victim through a symlink planted as <hex>.partial', async () => {
    // The victim starts like the blob (its first bytes are public): resuming from it would
    // succeed, and append the rest of the blob to the victim.
    const victim = join(dir, 'victim.bin');
    await writeFile(victim, blob.subarray(0, 1000));
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await symlink(victim, partialPath());
    await new BlobCache(cacheDir).copyTo(remote(), descriptor, join(dir, 'out'));
    expect((await readFile(victim)).equals(blob.subarray(0, 1000))).toBe(true);
    expect(await sha(join(dir, 'out'))).toBe(descriptor.digest);
    expect((await lstat(entryPath())).isFile()).toBe(true);
  });

  it('does not append to a victim hard-linked as <hex>.partial', async () => {
    const victim = join(dir, 'victim.bin');
    await writeFile(victim, blob.subarray(0, 1000));
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await link(victim, partialPath());
    await new BlobCache(cacheDir).copyTo(remote(), descriptor, join(dir, 'out'));
    expect((await readFile(victim)).equals(blob.subarray(0, 1000))).toBe(true);
    expect(await sha(join(dir, 'out'))).toBe(descriptor.digest);
  });

  it('replaces a complete entry planted as a symlink to an attacker’s file, never following it', async () => {
    const attacker = join(dir, 'attacker.bin');
    // Same size as the blob, so that a size check alone would take it.
    await writeFile(attacker, Buffer.alloc(blob.byteLength, 0x41));
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await symlink(attacker, entryPath());
    const source = remote();
    const out = join(dir, 'out');
    await new BlobCache(cacheDir).copyTo(source, descriptor, out);
    expect((await lstat(out)).isSymbolicLink()).toBe(false);
    expect(await sha(out)).toBe(descriptor.digest);
    expect((await lstat(entryPath())).isSymbolicLink()).toBe(false);
    expect(await sha(attacker)).toBe(computeDigest(Buffer.alloc(blob.byteLength, 0x41)));
    expect(source.requests).toHaveLength(1);
  });

  it('never makes a pulled file a link to an attacker’s file that holds the right bytes for now', async () => {
    const attacker = join(dir, 'attacker.bin');
    await writeFile(attacker, blob);
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await symlink(attacker, entryPath());
    const out = join(dir, 'out');
    await new BlobCache(cacheDir).copyTo(remote(), descriptor, out);
    expect((await lstat(out)).isSymbolicLink()).toBe(false);
    // The attacker changes their file later: the pulled file does not follow.
    await writeFile(attacker, 'gotcha');
    expect(await sha(out)).toBe(descriptor.digest);
  });

  it('drops a complete entry hard-linked to another name (as older ferry linked pulled files)', async () => {
    const cache = new BlobCache(cacheDir);
    const source = remote();
    await cache.copyTo(source, descriptor, join(dir, 'first'));
    const legacy = join(dir, 'legacy-pull.bin');
    await link(entryPath(), legacy);
    await writeFile(legacy, Buffer.alloc(blob.byteLength, 0x42)); // edited in place
    const chunks: Buffer[] = [];
    for await (const chunk of await cache.fetch(source, descriptor)) chunks.push(chunk as Buffer);
    expect(computeDigest(Buffer.concat(chunks))).toBe(descriptor.digest);
    expect(source.requests).toHaveLength(2);
    expect((await stat(entryPath())).nlink).toBe(1);
    expect(await sha(legacy)).toBe(computeDigest(Buffer.alloc(blob.byteLength, 0x42)));
  });

  it('reads no planted symlink or FIFO through fetch() either', async () => {
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    execFileSync('mkfifo', [entryPath()]);
    const chunks: Buffer[] = [];
    for await (const chunk of await new BlobCache(cacheDir).fetch(remote(), descriptor)) {
      chunks.push(chunk as Buffer);
    }
    expect(computeDigest(Buffer.concat(chunks))).toBe(descriptor.digest);
    expect((await lstat(entryPath())).isFile()).toBe(true);
  });

  it('removes a lock planted as a symlink without touching its target', async () => {
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await mkdir(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
    await symlink(victim, lockPath());
    await new BlobCache(cacheDir).copyTo(remote(), descriptor, join(dir, 'out'));
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(await sha(join(dir, 'out'))).toBe(descriptor.digest);
  });

  it('refuses a cache whose blobs directory is a symlink', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await mkdir(cacheDir);
    await symlink(elsewhere, join(cacheDir, 'blobs'));
    await expect(
      new BlobCache(cacheDir).copyTo(remote(), descriptor, join(dir, 'out')),
    ).rejects.toMatchObject({ code: 'ERR_CACHE_UNSAFE' });
    expect(await readdir(elsewhere)).toEqual([]);
  });
});
