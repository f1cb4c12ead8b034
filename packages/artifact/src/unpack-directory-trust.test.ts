/**
 * Directory layers as hostile content and as users see the result (issue 13 items 11 and 12,
 * issue 16 item 12): modes go through the umask, a small layer cannot expand without bound, and
 * the reproducible epoch does not become the files' date.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  Annotation,
  EmptyJson,
  MediaType,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from '@ferry/oci';
import { pack as tarPack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTarGzip } from './tar-extract.js';
import { EXPANSION_FLOOR, expansionLimit } from './tar-limits.js';
import type { Fetcher } from './target.js';
import { unpack } from './unpack.js';

let dir: string;
let out: string;
let umask: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-dir-trust-'));
  out = join(dir, 'out');
  await mkdir(out);
  umask = process.umask();
});
afterEach(async () => {
  process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;

interface Entry {
  header: Partial<Header> & { name: string };
  /** Bytes of a file entry, or a count of zero bytes streamed without holding them. */
  body?: Buffer | { zeros: number };
}

/** A gzipped tar of `entries`, made in memory (zeros streamed, so 200 MB costs no memory). */
async function tarGz(entries: Entry[]): Promise<Buffer> {
  const packer = tarPack();
  const chunks: Buffer[] = [];
  const gzipped = pipeline(packer, createGzip({ level: 9 }), async (source) => {
    for await (const chunk of source) chunks.push(chunk as Buffer);
  });
  for (const { header, body } of entries) {
    if (body === undefined || Buffer.isBuffer(body)) {
      await new Promise<void>((resolve, reject) =>
        packer.entry(header, body ?? Buffer.alloc(0), (e) => (e ? reject(e) : resolve())),
      );
      continue;
    }
    const zero = Buffer.alloc(1024 * 1024);
    await new Promise<void>((resolve, reject) => {
      const sink = packer.entry({ ...header, size: body.zeros }, (e) =>
        e ? reject(e) : resolve(),
      ) as unknown as NodeJS.WritableStream;
      void (async () => {
        for (let left = body.zeros; left > 0; left -= zero.byteLength) {
          const piece = left >= zero.byteLength ? zero : zero.subarray(0, left);
          if (!sink.write(piece)) await new Promise((r) => sink.once('drain', () => r(undefined)));
        }
        sink.end();
      })().catch(reject);
    });
  }
  packer.finalize();
  await gzipped;
  return Buffer.concat(chunks);
}

function directoryLayer(title: string, bytes: Buffer): Descriptor {
  return {
    mediaType: MediaType.OciLayerGzip,
    digest: sha256(bytes),
    size: bytes.byteLength,
    annotations: { [Annotation.Title]: title, [Annotation.OrasContentUnpack]: 'true' },
  };
}

function fetcherOf(bytes: Buffer): Fetcher {
  return { fetch: async () => Readable.from([bytes]) };
}

function manifestOf(layer: Descriptor): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: EmptyJson,
    layers: [layer],
  };
}

const mode = async (path: string) => (await stat(path)).mode & 0o7777;

describe('directory layers apply the umask (issue 13 item 11)', () => {
  const entries: Entry[] = [
    { header: { name: 'd/', type: 'directory', mode: 0o777 } },
    { header: { name: 'd/sub/', type: 'directory', mode: 0o777 } },
    { header: { name: 'd/sub/run.sh', mode: 0o777 }, body: Buffer.from('#!/bin/sh\n') },
    { header: { name: 'd/open.txt', mode: 0o666 }, body: Buffer.from('open\n') },
    { header: { name: 'd/private', mode: 0o600 }, body: Buffer.from('mine\n') },
  ];

  it.each([
    [0o022, { d: 0o755, sub: 0o755, run: 0o755, open: 0o644, priv: 0o600 }],
    [0o077, { d: 0o700, sub: 0o700, run: 0o700, open: 0o600, priv: 0o600 }],
    [0o002, { d: 0o775, sub: 0o775, run: 0o775, open: 0o664, priv: 0o600 }],
  ])('takes the umask %o away from archive modes, as tar does for a user', async (mask, want) => {
    process.umask(mask);
    const bytes = await tarGz(entries);
    await unpack(manifestOf(directoryLayer('d', bytes)), fetcherOf(bytes), { outputDir: out });
    expect(await mode(join(out, 'd'))).toBe(want.d);
    expect(await mode(join(out, 'd', 'sub'))).toBe(want.sub);
    expect(await mode(join(out, 'd', 'sub', 'run.sh'))).toBe(want.run);
    expect(await mode(join(out, 'd', 'open.txt'))).toBe(want.open);
    expect(await mode(join(out, 'd', 'private'))).toBe(want.priv);
  });
});

describe('directory layers keep real times, not the reproducible epoch (issue 16 item 12)', () => {
  it('gives entries stamped 1970-01-01 the extraction time, and keeps any other mtime', async () => {
    const kept = new Date('2021-06-01T12:00:00Z');
    const bytes = await tarGz([
      { header: { name: 'd/', type: 'directory', mode: 0o755, mtime: new Date(0) } },
      { header: { name: 'd/epoch.txt', mode: 0o644, mtime: new Date(0) }, body: Buffer.from('e') },
      { header: { name: 'd/dated.txt', mode: 0o644, mtime: kept }, body: Buffer.from('k') },
      {
        header: { name: 'd/link', type: 'symlink', linkname: 'epoch.txt', mtime: new Date(0) },
      },
      { header: { name: 'd/old/', type: 'directory', mode: 0o755, mtime: kept } },
    ]);
    const before = Date.now() - 2000;
    await unpack(manifestOf(directoryLayer('d', bytes)), fetcherOf(bytes), { outputDir: out });
    expect((await stat(join(out, 'd', 'epoch.txt'))).mtimeMs).toBeGreaterThan(before);
    expect((await stat(join(out, 'd'))).mtimeMs).toBeGreaterThan(before);
    expect((await lstat(join(out, 'd', 'link'))).mtimeMs).toBeGreaterThan(before);
    expect((await stat(join(out, 'd', 'dated.txt'))).mtime.toISOString()).toBe(kept.toISOString());
    expect((await stat(join(out, 'd', 'old'))).mtime.toISOString()).toBe(kept.toISOString());
  });
});

describe('directory layers cannot expand without bound (issue 13 item 12)', () => {
  it('bounds expansion at 100 MiB, or 100 times the compressed size when that is more', () => {
    expect(EXPANSION_FLOOR).toBe(100 * 1024 * 1024);
    expect(expansionLimit(200_000)).toBe(EXPANSION_FLOOR);
    expect(expansionLimit(10 * 1024 * 1024 * 1024)).toBe(100 * 10 * 1024 * 1024 * 1024);
  });

  it('refuses a ~200 KB layer that expands to 200 MB, writing nothing, and names the flag', async () => {
    const bytes = await tarGz([
      { header: { name: 'bomb/', type: 'directory', mode: 0o755 } },
      { header: { name: 'bomb/zeros', mode: 0o644 }, body: { zeros: 200 * 1000 * 1000 } },
    ]);
    expect(bytes.byteLength).toBeLessThan(250_000);
    const error = await unpack(manifestOf(directoryLayer('bomb', bytes)), fetcherOf(bytes), {
      outputDir: out,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_EXPANSION_TOO_LARGE' });
    expect((error as Error).message).toContain('"bomb"');
    expect((error as Error).message).toContain('--allow-large-expansion');
    expect(await readdir(out)).toEqual([]);
  });

  it('expands it with allowLargeExpansion', async () => {
    const size = EXPANSION_FLOOR + 1024 * 1024;
    const bytes = await tarGz([
      { header: { name: 'big/', type: 'directory', mode: 0o755 } },
      { header: { name: 'big/zeros', mode: 0o644 }, body: { zeros: size } },
    ]);
    const layer = directoryLayer('big', bytes);
    await expect(
      unpack(manifestOf(layer), fetcherOf(bytes), { outputDir: out }),
    ).rejects.toMatchObject({ code: 'ERR_EXPANSION_TOO_LARGE' });
    await unpack(manifestOf(layer), fetcherOf(bytes), {
      outputDir: out,
      allowLargeExpansion: true,
    });
    expect((await stat(join(out, 'big', 'zeros'))).size).toBe(size);
  });

  it('counts the tar itself too: entries that declare no bytes still cannot pile up', async () => {
    const entries: Entry[] = [{ header: { name: 'many/', type: 'directory', mode: 0o755 } }];
    for (let i = 0; i < 400; i++) entries.push({ header: { name: `many/f${i}`, mode: 0o644 } });
    const bytes = await tarGz(entries);
    const staging = join(dir, 'staging');
    await mkdir(staging);
    await expect(
      extractTarGzip(Readable.from([bytes]), staging, 'many', { maxExpandedSize: 100 * 1024 }),
    ).rejects.toMatchObject({ code: 'ERR_EXPANSION_TOO_LARGE' });
  });
});
