// `ferry push` of large files against registry:2: the upload that streams while the file is hashed
// (POST, one PATCH without Content-Range, PUT ?digest=), and the digest cache in FERRY_CACHE that
// lets an unchanged file skip both the hash and the upload.
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MANIFEST,
  digestLine,
  digestOf,
  linesOf,
  statusNames,
  useCliFixture,
  type Manifest,
} from './support/cli-fixture.js';

const MiB = 1024 * 1024;
/** Above EagerUploads' 16 MiB: such a file starts uploading while it is hashed. */
const LARGE = 20 * MiB;

const fx = useCliFixture('anonymous');

interface Traced {
  method: string;
  url: string;
  /** The request headers as the trace prints them (`name: value; …`). */
  headers: string;
}

/** The requests a `--debug` run sent (`[debug] > METHOD URL headers`). */
function requestsOf(stderr: string): Traced[] {
  const requests: Traced[] = [];
  for (const line of linesOf(stderr)) {
    const match = /^\[debug\] > (\S+) (\S+) ?(.*)$/.exec(line);
    if (match)
      requests.push({ method: match[1] ?? '', url: match[2] ?? '', headers: match[3] ?? '' });
  }
  return requests;
}

const isUpload = (r: Traced) => r.url.includes('/blobs/uploads/');

/** A fresh FERRY_CACHE under the test's directory (not created: ferry makes it when it saves). */
const cacheEnv = (name: string) => ({ FERRY_CACHE: join(fx.dir, name) });

/** Writes `size` random bytes to `name` under the test's directory. */
async function writeRandom(name: string, size: number): Promise<{ path: string; bytes: Buffer }> {
  const bytes = randomBytes(size);
  return { path: await fx.write(name, bytes), bytes };
}

/**
 * Waits until the file's times are more than 2 s old, so that the digest cache trusts them (its
 * "racy clean" rule does not record a file modified just before it was hashed).
 */
async function settle(path: string): Promise<void> {
  const { mtimeMs, ctimeMs } = await stat(path);
  const wait = Math.max(mtimeMs, ctimeMs) + 2_200 - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
}

/** Overwrites a file's bytes in place: same inode, same size. */
async function rewriteInPlace(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.byteLength, 0);
  } finally {
    await handle.close();
  }
}

async function readDigestCache(
  cacheDir: string,
): Promise<Record<string, [string, string, string, string, string, string, number]>> {
  const json = JSON.parse(await readFile(join(cacheDir, 'digests.json'), 'utf8')) as {
    format: string;
    entries: Record<string, [string, string, string, string, string, string, number]>;
  };
  expect(json.format).toBe('ferry-digest-cache-v1');
  return json.entries;
}

async function listing(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * What is left of upload sessions under a repository's `_uploads` (paths relative to it), except
 * `hashstates/`: registry:2 (2.8) leaves `<uuid>/hashstates/sha256/0` (108 bytes) even after a
 * DELETE it answered 204, but removes `startedat` and `data`. A session nobody cancelled keeps
 * both, and `data` holds the bytes the PATCH had sent.
 */
async function sessionLeftovers(uploadsDir: string): Promise<string[]> {
  const left: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    })) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'hashstates') await walk(join(dir, entry.name), `${name}/`);
      } else {
        left.push(`${name} (${(await stat(join(dir, entry.name))).size} bytes)`);
      }
    }
  };
  await walk(uploadsDir, '');
  return left.sort();
}

async function manifestOf(reference: string): Promise<Manifest> {
  const fetched = await fx.ok(['manifest', 'fetch', reference]);
  return JSON.parse(fetched.stdout) as Manifest;
}

/** Pulls `reference` into a new directory (with a download cache of its own); returns the file. */
async function pulledFile(reference: string, name: string, out: string): Promise<Buffer> {
  await fx.ok(['pull', reference, '-o', out], { env: cacheEnv(`${out}-cache`) });
  return readFile(join(fx.dir, out, name));
}

describe('ferry push: large files stream while hashed, and the digest cache', () => {
  it('streams a 40 MiB file (POST, one PATCH, PUT ?digest=) and pull returns the same bytes', async () => {
    const { bytes } = await writeRandom('big.bin', 40 * MiB);
    const digest = digestOf(bytes);
    const repo = fx.repo('stream');
    const pushed = await fx.ok(['push', `${repo}:v1`, 'big.bin', '--debug', '--no-tty'], {
      env: cacheEnv('cache'),
    });
    expect(statusNames(pushed.stdout, 'Uploaded')).toContain('big.bin');
    expect(pushed.stdout).toContain(`big.bin  ${digest.slice(7, 19)}`);

    const uploads = requestsOf(pushed.stderr).filter(isUpload);
    const patches = uploads.filter((r) => r.method === 'PATCH');
    // One PATCH for the whole file, sent before the digest was known: no Content-Range.
    expect(patches).toHaveLength(1);
    // Chunked, without Content-Length, so that it can be ended early and cleanly.
    expect(patches[0]?.headers).not.toMatch(/content-length|content-range/i);
    // Closed by a PUT that names the digest and carries no further bytes.
    const session = patches[0]?.url.split('?')[0] ?? '';
    const closing = uploads.filter((r) => r.method === 'PUT' && r.url.startsWith(`${session}?`));
    expect(closing).toHaveLength(1);
    expect(closing[0]?.url).toContain(`digest=${encodeURIComponent(digest)}`);
    expect(closing[0]?.headers).toContain('content-length: 0');
    // No monolithic PUT carried the file itself.
    expect(
      uploads.some((r) => r.method === 'PUT' && r.headers.includes(`content-length: ${40 * MiB}`)),
    ).toBe(false);

    const manifest = await manifestOf(`${repo}:v1`);
    expect(manifest.mediaType).toBe(MANIFEST);
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]).toMatchObject({ digest, size: 40 * MiB });
    expect(manifest.layers[0]?.annotations?.['org.opencontainers.image.title']).toBe('big.bin');
    expect(
      (await pulledFile(`${repo}@${digestLine(pushed)}`, 'big.bin', 'out')).equals(bytes),
    ).toBe(true);
  });

  it('pushing an unchanged file again with the same FERRY_CACHE says Exists and uploads nothing', async () => {
    const { path, bytes } = await writeRandom('big.bin', LARGE);
    const digest = digestOf(bytes);
    await settle(path); // old enough for the digest cache to record it
    const repo = fx.repo('again');
    const first = await fx.ok(['push', `${repo}:v1`, 'big.bin', '--no-tty'], {
      env: cacheEnv('cache'),
    });
    expect(statusNames(first.stdout, 'Uploaded')).toContain('big.bin');
    const entries = await readDigestCache(join(fx.dir, 'cache'));
    expect(entries[resolve(path)]?.[5]).toBe(digest);

    const second = await fx.ok(['push', `${repo}:v2`, 'big.bin', '--debug', '--no-tty'], {
      env: cacheEnv('cache'),
    });
    expect(statusNames(second.stdout, 'Exists')).toContain('big.bin');
    expect(statusNames(second.stdout, 'Uploaded')).not.toContain('big.bin');
    const requests = requestsOf(second.stderr);
    expect(requests.filter(isUpload)).toEqual([]);
    // The digest came from the cache: the registry was only asked whether it has the blob.
    expect(requests.some((r) => r.method === 'HEAD' && r.url.endsWith(`/blobs/${digest}`))).toBe(
      true,
    );
    expect(digestLine(second)).toBe(digestLine(first));
    expect((await manifestOf(`${repo}:v2`)).layers[0]?.digest).toBe(digest);
  });

  it('after the file is rewritten in place (same size, same mtime), a push sends the new bytes', async () => {
    const { path, bytes: before } = await writeRandom('big.bin', LARGE);
    // A whole-second mtime can be put back exactly after the rewrite: only the ctime then differs.
    const mtime = Math.floor(Date.now() / 1000) - 3600;
    await utimes(path, mtime, mtime);
    await settle(path);
    const repo = fx.repo('rewrite');
    const first = await fx.ok(['push', `${repo}:v1`, 'big.bin', '--no-tty'], {
      env: cacheEnv('cache'),
    });
    expect((await readDigestCache(join(fx.dir, 'cache')))[resolve(path)]?.[5]).toBe(
      digestOf(before),
    );
    const old = await stat(path, { bigint: true });

    const after = randomBytes(LARGE);
    await rewriteInPlace(path, after);
    await utimes(path, mtime, mtime);
    const now = await stat(path, { bigint: true });
    expect([now.ino, now.size, now.mtimeNs]).toEqual([old.ino, old.size, old.mtimeNs]);

    const second = await fx.ok(['push', `${repo}:v2`, 'big.bin', '--no-tty'], {
      env: cacheEnv('cache'),
    });
    expect(statusNames(second.stdout, 'Uploaded')).toContain('big.bin');
    expect(second.stdout).toContain(`big.bin  ${digestOf(after).slice(7, 19)}`);
    expect(digestLine(second)).not.toBe(digestLine(first));
    const manifest = await manifestOf(`${repo}:v2`);
    expect(manifest.layers[0]).toMatchObject({ digest: digestOf(after), size: LARGE });
    expect((await pulledFile(`${repo}:v2`, 'big.bin', 'v2')).equals(after)).toBe(true);
    expect((await pulledFile(`${repo}:v1`, 'big.bin', 'v1')).equals(before)).toBe(true);
  });

  it('--no-digest-cache and FERRY_DIGEST_CACHE=0 leave no digests.json in FERRY_CACHE', async () => {
    const { path, bytes } = await writeRandom('big.bin', LARGE);
    await settle(path);
    const repo = fx.repo('nocache');

    const flag = await fx.ok(['push', `${repo}:flag`, 'big.bin', '--no-digest-cache', '--no-tty'], {
      env: cacheEnv('flag-cache'),
    });
    const env = await fx.ok(['push', `${repo}:env`, 'big.bin', '--no-tty'], {
      env: { ...cacheEnv('env-cache'), FERRY_DIGEST_CACHE: '0' },
    });
    for (const result of [flag, env]) {
      expect(result.stdout).toContain(`big.bin  ${digestOf(bytes).slice(7, 19)}`);
    }
    expect(await listing(join(fx.dir, 'flag-cache'))).not.toContain('digests.json');
    expect(await listing(join(fx.dir, 'env-cache'))).not.toContain('digests.json');

    // The same push without either does record the file (so the two above were not vacuous).
    await fx.ok(['push', `${repo}:cached`, 'big.bin', '--no-tty'], {
      env: cacheEnv('control-cache'),
    });
    expect((await readDigestCache(join(fx.dir, 'control-cache')))[resolve(path)]?.[5]).toBe(
      digestOf(bytes),
    );
  });

  it('a blob the repository holds, with a cold digest cache: Exists, and no upload session left', async () => {
    const { bytes } = await writeRandom('big.bin', LARGE);
    const digest = digestOf(bytes);
    const repo = fx.repo('exists');
    const uploadsDir = join(
      fx.reg.storageDir,
      'docker/registry/v2/repositories',
      repo.slice(fx.host.length + 1),
      '_uploads',
    );
    await fx.ok(['push', `${repo}:v1`, 'big.bin', '--no-tty'], { env: cacheEnv('first-cache') });
    expect(await listing(uploadsDir)).toEqual([]); // a completed upload leaves nothing

    const again = await fx.ok(['push', `${repo}:v2`, 'big.bin', '--debug', '--no-tty'], {
      env: cacheEnv('cold-cache'),
    });
    expect(statusNames(again.stdout, 'Exists')).toContain('big.bin');
    expect(statusNames(again.stdout, 'Uploaded')).not.toContain('big.bin');
    // The file was uploading while it was hashed; no PUT may have completed that upload.
    const closing = requestsOf(again.stderr).filter(
      (r) => r.method === 'PUT' && isUpload(r) && r.url.includes(encodeURIComponent(digest)),
    );
    expect(closing).toEqual([]);
    expect((await manifestOf(`${repo}:v2`)).layers[0]?.digest).toBe(digest);
    // The session the streamed upload opened must be gone (DELETEd), not left with its bytes.
    const sessionTrace = linesOf(again.stderr)
      .filter((line) => / (POST|PATCH|DELETE) \S+\/blobs\/uploads\//.test(line))
      .map((line) => line.slice(0, 160))
      .join('\n');
    expect(
      await sessionLeftovers(uploadsDir),
      `upload sessions left behind; trace:\n${sessionTrace}`,
    ).toEqual([]);
  });

  it('the same file to the same tag again, with a cold digest cache: hashed first, not a byte sent', async () => {
    const { bytes } = await writeRandom('big.bin', LARGE);
    const digest = digestOf(bytes);
    const repo = fx.repo('repush');
    const uploadsDir = join(
      fx.reg.storageDir,
      'docker/registry/v2/repositories',
      repo.slice(fx.host.length + 1),
      '_uploads',
    );
    await fx.ok(['push', `${repo}:v1`, 'big.bin', '--no-tty'], { env: cacheEnv('first-cache') });

    const again = await fx.ok(['push', `${repo}:v1`, 'big.bin', '--debug', '--no-tty'], {
      env: cacheEnv('cold-cache'),
    });
    expect(statusNames(again.stdout, 'Exists')).toContain('big.bin');
    const requests = requestsOf(again.stderr);
    // The tag lists a blob of this size: the upload waited for the digest, which was there.
    expect(requests.some((r) => r.method === 'GET' && r.url.endsWith('/manifests/v1'))).toBe(true);
    expect(requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(requests.filter((r) => r.method === 'DELETE' && isUpload(r))).toHaveLength(1);
    expect(await sessionLeftovers(uploadsDir)).toEqual([]);
    expect((await manifestOf(`${repo}:v1`)).layers[0]?.digest).toBe(digest);
  });

  it('new bytes of the same size to the same tag: hashed first, then uploaded whole', async () => {
    const { path } = await writeRandom('big.bin', LARGE);
    const repo = fx.repo('same-size');
    await fx.ok(['push', `${repo}:v1`, 'big.bin', '--no-tty'], { env: cacheEnv('first-cache') });
    const changed = randomBytes(LARGE);
    await rewriteInPlace(path, changed);

    const again = await fx.ok(['push', `${repo}:v1`, 'big.bin', '--debug', '--no-tty'], {
      env: cacheEnv('cold-cache'),
    });
    expect(statusNames(again.stdout, 'Uploaded')).toContain('big.bin');
    const requests = requestsOf(again.stderr);
    const head = requests.findIndex(
      (r) => r.method === 'HEAD' && r.url.endsWith(`/blobs/${digestOf(changed)}`),
    );
    const patch = requests.findIndex((r) => r.method === 'PATCH');
    expect(head).toBeGreaterThanOrEqual(0);
    expect(patch).toBeGreaterThan(head);
    expect((await manifestOf(`${repo}:v1`)).layers[0]?.digest).toBe(digestOf(changed));
    expect((await pulledFile(`${repo}:v1`, 'big.bin', 'out')).equals(changed)).toBe(true);
  });
});
