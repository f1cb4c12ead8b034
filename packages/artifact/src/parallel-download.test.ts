import { randomBytes } from 'node:crypto';
import {
  mkdtemp,
  open as openFile,
  readdir,
  readFile,
  rm,
  stat,
  type FileHandle,
} from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, DigestMismatchError, type Descriptor } from '@ferry/oci';
import { Registry } from '@ferry/registry';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlobCache } from './blob-cache.js';
import { canCopyTo } from './capabilities.js';
import { readAll } from './content.js';
import { cachedTarget, cacheParallelDownloads } from './cache-adapters.js';
import { RegistryTarget, type RegistryTargetOptions } from './registry-target.js';
import type { Target } from './target.js';

const MiB = 1024 * 1024;
// Three ranges at the smallest default range size (8 MiB).
const large = randomBytes(17 * MiB);
const largeDescriptor: Descriptor = {
  mediaType: 'application/octet-stream',
  digest: computeDigest(large),
  size: large.byteLength,
};
const small = randomBytes(300 * 1024);
const smallDescriptor: Descriptor = {
  mediaType: 'application/octet-stream',
  digest: computeDigest(small),
  size: small.byteLength,
};

let dir: string;
let server: Server;
let registry: Registry;
let honourRange = true;
/** Another blob the server has, set by the test that needs it. */
let served: { digest: string; body: Buffer } | undefined;
/** Serve the large blob with one byte changed. */
let corrupt = false;
const ranges: string[] = [];

function serve(request: IncomingMessage, response: ServerResponse): void {
  ranges.push(request.headers.range ?? '(none)');
  let body = request.url?.endsWith(largeDescriptor.digest)
    ? large
    : served && request.url?.endsWith(served.digest)
      ? served.body
      : small;
  if (corrupt && body === large) {
    body = Buffer.from(large);
    body.writeUInt8(body.readUInt8(12 * MiB) ^ 0xff, 12 * MiB);
  }
  const match = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  if (!match || !honourRange) {
    response.writeHead(200, { 'content-length': body.byteLength });
    return void response.end(body);
  }
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : body.byteLength - 1;
  response.writeHead(206, {
    'content-length': end - start + 1,
    'content-range': `bytes ${start}-${end}/${body.byteLength}`,
  });
  response.end(body.subarray(start, end + 1));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-parallel-'));
  honourRange = true;
  corrupt = false;
  served = undefined;
  ranges.length = 0;
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = new Registry(`127.0.0.1:${(server.address() as AddressInfo).port}`, {
    sleep: async () => {},
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await registry.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A target for `a/b` that fetches blobs from 16 MiB up in four ranges at once. */
function open(options: RegistryTargetOptions = {}): RegistryTarget {
  return new RegistryTarget(registry, 'a/b', {
    parallelThreshold: 16 * MiB,
    parallel: 4,
    ...options,
  });
}

async function place(target: Target, descriptor: Descriptor, path: string): Promise<void> {
  if (!canCopyTo(target)) throw new Error('expected a caching target');
  await target.copyTo(descriptor, path);
}

describe('parallel ranged downloads through the cache', () => {
  it('pulls a large blob in ranges into the cache and places it, leaving no progress file', async () => {
    const cache = new BlobCache(join(dir, 'cache'));
    const target = cachedTarget(open({ parallel: 4 }), cache);
    const destination = join(dir, 'out.bin');
    await place(target, largeDescriptor, destination);

    expect(Buffer.compare(await readFile(destination), large)).toBe(0);
    expect(ranges.sort()).toEqual([
      `bytes=0-${8 * MiB - 1}`,
      `bytes=${16 * MiB}-${17 * MiB - 1}`,
      `bytes=${8 * MiB}-${16 * MiB - 1}`,
    ]);
    expect(cache.stats.fetchedBytes).toBe(large.byteLength);
    expect(await readdir(join(dir, 'cache', 'blobs', 'sha256'))).toEqual([
      largeDescriptor.digest.slice(7),
    ]);
  });

  it('moves a large blob fetched in ranges to the file when the cache does not keep it', async () => {
    const cache = new BlobCache(join(dir, 'cache'), { moveMinSize: 16 * MiB });
    const target = cachedTarget(open({ parallel: 4 }), cache);
    const destination = join(dir, 'out.bin');
    await place(target, largeDescriptor, destination);

    expect(Buffer.compare(await readFile(destination), large)).toBe(0);
    expect((await stat(destination)).nlink).toBe(1);
    // No entry, no partial file, no per-range progress file: the one copy is the user's.
    expect(await readdir(join(dir, 'cache', 'blobs', 'sha256'))).toEqual([]);
  });

  it('on a digest mismatch fails and leaves nothing at the final path or in the cache', async () => {
    corrupt = true;
    const cache = new BlobCache(join(dir, 'cache'));
    const destination = join(dir, 'out.bin');
    const error: unknown = await place(
      cachedTarget(open({ parallel: 4 }), cache),
      largeDescriptor,
      destination,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(await readdir(dir)).toEqual(['cache']);
    expect(await readdir(join(dir, 'cache', 'blobs', 'sha256'))).toEqual([]);
  });

  it('a failing background fdatasync fails the pull and leaves nothing at the final path or in the cache', async () => {
    // More than the 32 MiB after which the first background sync starts.
    const big = Buffer.alloc(40 * MiB, 0x5a);
    const descriptor: Descriptor = {
      ...largeDescriptor,
      digest: computeDigest(big),
      size: 40 * MiB,
    };
    served = { digest: descriptor.digest, body: big };
    const probe = await openFile(join(dir, 'probe'), 'w');
    const handles = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    let datasyncs = 0;
    vi.spyOn(handles, 'datasync').mockImplementation(() => {
      datasyncs++;
      return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    });
    const cache = new BlobCache(join(dir, 'cache'));
    const destination = join(dir, 'out.bin');
    const error: unknown = await place(
      cachedTarget(open({ parallel: 4 }), cache),
      descriptor,
      destination,
    ).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'EIO' });
    expect(datasyncs).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['cache', 'probe']);
    expect(await readdir(join(dir, 'cache', 'blobs', 'sha256'))).toEqual([]);
  });

  it('falls back to one stream when the registry ignores Range, and stops asking', async () => {
    honourRange = false;
    const cache = new BlobCache(join(dir, 'cache'));
    const registryTarget = open({ parallel: 4 });
    const target = cachedTarget(registryTarget, cache);
    await place(target, largeDescriptor, join(dir, 'one.bin'));
    expect(Buffer.compare(await readFile(join(dir, 'one.bin')), large)).toBe(0);
    // The probe (a range, answered whole and dropped), then one plain stream.
    expect(ranges).toEqual([`bytes=0-${8 * MiB - 1}`, '(none)']);
    expect(registryTarget.downloadsInParallel(largeDescriptor)).toBe(false);
  });

  it('uses one plain stream with parallel 1 and for blobs under the threshold', async () => {
    const cache = new BlobCache(join(dir, 'cache'));
    const target = cachedTarget(open({ parallel: 1 }), cache);
    await place(target, largeDescriptor, join(dir, 'large.bin'));
    const other = cachedTarget(open(), cache);
    await place(other, smallDescriptor, join(dir, 'small.bin'));
    expect(ranges).toEqual(['(none)', '(none)']);
    expect(Buffer.compare(await readFile(join(dir, 'large.bin')), large)).toBe(0);
  });

  it('uses one stream by default for a registry on this machine (no CDN caps it)', async () => {
    const cache = new BlobCache(join(dir, 'cache'));
    const target = new RegistryTarget(registry, 'a/b', { parallelThreshold: 16 * MiB });
    expect(target.downloadsInParallel(largeDescriptor)).toBe(false);
    await place(cachedTarget(target, cache), largeDescriptor, join(dir, 'large.bin'));
    expect(ranges).toEqual(['(none)']);
    const elsewhere = new Registry('registry.example');
    const remote = new RegistryTarget(elsewhere, 'a/b');
    expect(remote.downloadsInParallel({ ...largeDescriptor, size: 64 * MiB })).toBe(true);
    expect(remote.downloadsInParallel({ ...largeDescriptor, size: 64 * MiB - 1 })).toBe(false);
    await elsewhere.close();
  });

  it('cp and blob fetch send only blobs fetched in ranges through the cache', async () => {
    const cache = new BlobCache(join(dir, 'cache'));
    const target = cacheParallelDownloads(open(), cache);
    expect(target).toBeInstanceOf(RegistryTarget);
    const bytes = await readAll(await target.fetch(largeDescriptor), large.byteLength);
    expect(Buffer.compare(bytes, large)).toBe(0);
    expect(await readAll(await target.fetch(smallDescriptor), small.byteLength)).toEqual(small);
    expect(await readdir(join(dir, 'cache', 'blobs', 'sha256'))).toEqual([
      largeDescriptor.digest.slice(7),
    ]);
    expect(ranges.filter((range) => range === '(none)')).toHaveLength(1);
  });
});
