/**
 * Issue 13 item 8: every file ferry leaves at a final path went write → fsync(file) → rename →
 * fsync(directory), so that a crash right after "Pulled" leaves the whole file or none. The spies
 * on `durable` see each step; at each fsync the file already holds all its bytes.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { computeDigest, FerryError, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlobCache } from './blob-cache.js';
import { cachedTarget } from './cache-adapters.js';
import { durable } from './durable.js';
import { OciLayoutTarget } from './oci-layout.js';
import { pack } from './pack.js';
import type { Fetcher, Target } from './target.js';
import { unpack } from './unpack.js';

type Event =
  | { kind: 'sync'; path: string; size: number }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'syncDir'; path: string };

let dir: string;
let events: Event[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-durable-'));
  events = [];
  const { syncFile, rename, syncDirectory } = durable;
  vi.spyOn(durable, 'syncFile').mockImplementation(async (handle, path) => {
    // What is on disk when the sync is asked for: the write must be complete by then.
    events.push({ kind: 'sync', path, size: (await handle.stat()).size });
    return syncFile(handle, path);
  });
  vi.spyOn(durable, 'rename').mockImplementation(async (from, to) => {
    await rename(from, to);
    events.push({ kind: 'rename', from, to });
  });
  vi.spyOn(durable, 'syncDirectory').mockImplementation(async (path) => {
    events.push({ kind: 'syncDir', path });
    return syncDirectory(path);
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Asserts the four steps, in order, for the file that ends at `final` with `size` bytes. */
function expectDurable(final: string, size: number) {
  const renamed = events.findIndex((e) => e.kind === 'rename' && e.to === final);
  expect(renamed, `no rename to ${final}: ${JSON.stringify(events)}`).toBeGreaterThanOrEqual(0);
  const { from } = events[renamed] as { from: string };
  const synced = events.findIndex((e) => e.kind === 'sync' && e.path === from);
  expect(synced, `${from} renamed to ${final} before it was synced`).toBeGreaterThanOrEqual(0);
  expect(synced).toBeLessThan(renamed);
  expect((events[synced] as { size: number }).size).toBe(size);
  const dirSynced = events.findIndex(
    (e, i) => i > renamed && e.kind === 'syncDir' && e.path === dirname(final),
  );
  expect(dirSynced, `${dirname(final)} not synced after the rename to ${final}`).toBeGreaterThan(
    renamed,
  );
}

async function packed(files: Record<string, Buffer | Record<string, string>>) {
  const source = join(dir, 'source');
  await mkdir(source, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    if (Buffer.isBuffer(content)) await writeFile(join(source, name), content);
    else {
      await mkdir(join(source, name));
      for (const [inner, text] of Object.entries(content)) {
        await writeFile(join(source, name, inner), text);
      }
    }
  }
  const artifact = await pack(
    Object.keys(files).map((name) => ({ path: join(source, name), title: name })),
  );
  const blobs = new Map<string, Buffer>();
  for (const blob of [artifact.config, ...artifact.layers]) {
    const chunks: Buffer[] = [];
    for await (const chunk of blob.open()) chunks.push(chunk as Buffer);
    blobs.set(blob.descriptor.digest, Buffer.concat(chunks));
  }
  await artifact.cleanup();
  const fetcher = {
    resumable: true,
    fetch: async (descriptor: Descriptor) => {
      const bytes = blobs.get(descriptor.digest);
      if (!bytes) throw new FerryError('ERR_NOT_FOUND', descriptor.digest);
      return Readable.from([bytes]);
    },
  };
  return { manifest: artifact.manifest, fetcher };
}

describe('write → fsync(file) → rename → fsync(dir) (issue 13 item 8)', () => {
  const big = Buffer.alloc(600 * 1024, 7);
  const small = Buffer.from('small file\n');

  it('for pulled files, straight from the source', async () => {
    const { manifest, fetcher } = await packed({ 'big.bin': big, 'small.txt': small });
    const out = join(dir, 'out');
    await unpack(manifest, fetcher as Fetcher, { outputDir: out });
    expectDurable(join(out, 'big.bin'), big.byteLength);
    expectDurable(join(out, 'small.txt'), small.byteLength);
  });

  it('for pulled files and cache entries, through the download cache', async () => {
    const { manifest, fetcher } = await packed({ 'big.bin': big, 'small.txt': small });
    const cache = new BlobCache(join(dir, 'cache'));
    const target = cachedTarget(fetcher as unknown as Target, cache);
    const out = join(dir, 'out');
    await unpack(manifest, target, { outputDir: out });
    expectDurable(join(out, 'big.bin'), big.byteLength);
    expectDurable(join(out, 'small.txt'), small.byteLength);
    const entry = join(dir, 'cache', 'blobs', 'sha256', computeDigest(big).slice(7));
    expectDurable(entry, big.byteLength);
    // A second pull, from the cache: the copy is synced too.
    events = [];
    const again = join(dir, 'again');
    await unpack(manifest, target, { outputDir: again });
    expectDurable(join(again, 'big.bin'), big.byteLength);
    expect((await readFile(join(again, 'big.bin'))).equals(big)).toBe(true);
  });

  it('for small files a registry hands over whole (fetchBytes), through the download cache', async () => {
    const { manifest, fetcher } = await packed({ 'a.txt': small, 'b.txt': Buffer.from('bee\n') });
    const whole: string[] = [];
    const source = {
      ...fetcher,
      // The streaming fetch is for manifests only once small blobs come whole.
      fetch: async (descriptor: Descriptor) => {
        if (descriptor.mediaType !== manifest.mediaType && descriptor.size < 1024) {
          throw new Error(`streamed ${descriptor.digest}`);
        }
        return fetcher.fetch(descriptor);
      },
      fetchBytes: async (descriptor: Descriptor) => {
        whole.push(descriptor.digest);
        return Buffer.from(await readFile(join(dir, 'source', titleOf(descriptor))));
      },
    };
    const titleOf = (d: Descriptor) => d.annotations?.['org.opencontainers.image.title'] ?? '';
    const cache = new BlobCache(join(dir, 'cache'));
    const out = join(dir, 'out');
    await unpack(manifest, cachedTarget(source as unknown as Target, cache), { outputDir: out });
    expect(whole.sort()).toEqual(manifest.layers.map((l) => l.digest).sort());
    expectDurable(join(out, 'a.txt'), small.byteLength);
    expectDurable(join(out, 'b.txt'), 4);
    expect(await readFile(join(out, 'b.txt'), 'utf8')).toBe('bee\n');
    // Without the cache too, and still checked: bytes that do not match are refused.
    events = [];
    whole.length = 0;
    const direct = join(dir, 'direct');
    await unpack(manifest, source as unknown as Fetcher, { outputDir: direct });
    expect(whole).toHaveLength(2);
    expectDurable(join(direct, 'a.txt'), small.byteLength);
    const lying = { ...source, fetchBytes: async () => Buffer.from('not the blob') };
    await expect(
      unpack(manifest, lying as unknown as Fetcher, { outputDir: join(dir, 'lying') }),
    ).rejects.toThrow();
    await expect(readFile(join(dir, 'lying', 'a.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('for the files and directories of a directory layer', async () => {
    const { manifest, fetcher } = await packed({ tree: { 'a.txt': 'aaa', 'b.txt': 'bb' } });
    const out = join(dir, 'out');
    await unpack(manifest, fetcher as Fetcher, { outputDir: out });
    // Files are written in place in a staging directory, each synced before the tree moves.
    const synced = events.filter((e) => e.kind === 'sync').map((e) => e.path.split('/').pop());
    expect(synced.sort()).toEqual(['a.txt', 'b.txt']);
    const moved = events.findIndex((e) => e.kind === 'rename' && e.to === join(out, 'tree'));
    expect(events.findLastIndex((e) => e.kind === 'sync')).toBeLessThan(moved);
    expect(events.slice(moved)).toContainEqual({ kind: 'syncDir', path: out });
    expect(await readFile(join(out, 'tree', 'a.txt'), 'utf8')).toBe('aaa');
  });

  it('for OCI-layout blobs and index.json', async () => {
    const layout = await OciLayoutTarget.open(join(dir, 'layout'));
    events = [];
    const bytes = Buffer.from('{"hello":"layout"}');
    const descriptor: Descriptor = {
      mediaType: 'application/json',
      digest: computeDigest(bytes),
      size: bytes.byteLength,
    };
    await layout.push(descriptor, bytes);
    expectDurable(join(dir, 'layout', 'blobs', 'sha256', descriptor.digest.slice(7)), 18);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor,
        layers: [],
      }),
    );
    const manifestDescriptor: Descriptor = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: computeDigest(manifest),
      size: manifest.byteLength,
    };
    await layout.push(manifestDescriptor, manifest);
    await layout.tag(manifestDescriptor, 'v1');
    const index = join(dir, 'layout', 'index.json');
    expectDurable(index, (await stat(index)).size);
  });
});
