import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DigestMismatchError,
  MediaType,
  SizeMismatchError,
  computeDigest,
  parseDigest,
  type Descriptor,
} from '@ferry/oci';
import { readAll } from './content.js';
import { OciLayoutTarget } from './oci-layout.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-oci-layout-'));
  dirs.push(dir);
  return dir;
}

async function layout(): Promise<OciLayoutTarget> {
  return OciLayoutTarget.open(join(await tempDir(), 'layout'));
}

function describeBytes(
  bytes: Uint8Array,
  mediaType: string = MediaType.OctetStream,
  algorithm: 'sha256' | 'sha512' = 'sha256',
): Descriptor {
  return { mediaType, digest: computeDigest(bytes, algorithm), size: bytes.byteLength };
}

async function fetchBytes(target: OciLayoutTarget, descriptor: Descriptor): Promise<Buffer> {
  return readAll(await target.fetch(descriptor), 16 << 20);
}

function blobPath(target: OciLayoutTarget, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(target.dir, 'blobs', algorithm, hex);
}

/** Every file under blobs/ (temp files included), for proving nothing was left behind. */
async function blobFiles(target: OciLayoutTarget): Promise<string[]> {
  const entries = await readdir(join(target.dir, 'blobs'), { recursive: true });
  return entries.filter((entry) => entry.includes('/')).sort();
}

describe('OciLayoutTarget.open', () => {
  it('creates the directory, oci-layout, index.json and blobs/', async () => {
    const dir = join(await tempDir(), 'a', 'b');
    const target = await OciLayoutTarget.open(dir);
    expect(target.name).toBe(`oci-layout:${dir}`);
    expect(await readFile(join(dir, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
    expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
    );
    expect(await readdir(join(dir, 'blobs'))).toEqual([]);
    expect(await target.tags()).toEqual([]);
  });

  it('turns a non-empty directory into a layout without touching its files, as ORAS does', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    await OciLayoutTarget.open(dir);
    expect((await readdir(dir)).sort()).toEqual(['blobs', 'index.json', 'notes.txt', 'oci-layout']);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('two opens of one new directory at the same time both succeed on one valid layout', async () => {
    const dir = join(await tempDir(), 'twice');
    const [a, b] = await Promise.all([OciLayoutTarget.open(dir), OciLayoutTarget.open(dir)]);
    expect(await a.tags()).toEqual(await b.tags());
    expect((await readdir(dir)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('with create: false, refuses a missing directory and a directory that is no layout', async () => {
    const dir = await tempDir();
    await expect(OciLayoutTarget.open(join(dir, 'nope'), { create: false })).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    });
    await expect(OciLayoutTarget.open(dir, { create: false })).rejects.toMatchObject({
      code: 'ERR_LAYOUT_INVALID',
      message: expect.stringContaining('oci-layout'),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an oci-layout file of another version or not JSON', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    await expect(OciLayoutTarget.open(dir)).rejects.toMatchObject({
      code: 'ERR_LAYOUT_INVALID',
      message: expect.stringContaining('"2.0.0"'),
    });
    await writeFile(join(dir, 'oci-layout'), 'imageLayoutVersion');
    await expect(OciLayoutTarget.open(dir)).rejects.toMatchObject({ code: 'ERR_LAYOUT_INVALID' });
  });

  it('refuses an invalid index.json, naming the file and the JSON path', async () => {
    const dir = await tempDir();
    await OciLayoutTarget.open(dir);
    const entry = { mediaType: MediaType.OciManifest, digest: 'sha256:abc', size: 1 };
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [entry] }),
    );
    const error = await OciLayoutTarget.open(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_LAYOUT_INVALID' });
    expect((error as Error).message).toMatch(/index\.json: manifests\[0\]\.digest/);

    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[');
    await expect(OciLayoutTarget.open(dir)).rejects.toMatchObject({ code: 'ERR_LAYOUT_INVALID' });
  });
});

describe('blobs', () => {
  it('round-trips bytes and stream factories, verified, with progress', async () => {
    const target = await layout();
    const bytes = Buffer.from('hello, layout');
    const descriptor = describeBytes(bytes);
    expect(await target.exists(descriptor)).toBe(false);
    const pushed: number[] = [];
    await target.push(descriptor, bytes, { onProgress: (n) => pushed.push(n) });
    expect(pushed.reduce((a, b) => a + b, 0)).toBe(bytes.byteLength);
    expect(await target.exists(descriptor)).toBe(true);
    expect(await readFile(blobPath(target, descriptor.digest))).toEqual(bytes);

    const fetched: number[] = [];
    const stream = await target.fetch(descriptor, { onProgress: (n) => fetched.push(n) });
    expect(await readAll(stream, 1 << 20)).toEqual(bytes);
    expect(fetched.reduce((a, b) => a + b, 0)).toBe(bytes.byteLength);

    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const bigDescriptor = describeBytes(big);
    await target.push(bigDescriptor, () =>
      Readable.from([big.subarray(0, 1000), big.subarray(1000)]),
    );
    expect((await fetchBytes(target, bigDescriptor)).equals(big)).toBe(true);
  });

  it('stores sha512 blobs under blobs/sha512', async () => {
    const target = await layout();
    const bytes = Buffer.from('five-twelve');
    const descriptor = describeBytes(bytes, MediaType.OctetStream, 'sha512');
    await target.push(descriptor, bytes);
    expect(await blobFiles(target)).toEqual([`sha512/${parseDigest(descriptor.digest).hex}`]);
    expect(await fetchBytes(target, descriptor)).toEqual(bytes);
  });

  it('lets concurrent pushes of one blob all succeed', async () => {
    const target = await layout();
    const bytes = Buffer.alloc(512 * 1024, 3);
    const descriptor = describeBytes(bytes);
    await Promise.all(Array.from({ length: 5 }, () => target.push(descriptor, bytes)));
    expect(await blobFiles(target)).toEqual([`sha256/${parseDigest(descriptor.digest).hex}`]);
    expect((await fetchBytes(target, descriptor)).equals(bytes)).toBe(true);
  });

  it('does nothing when the blob already exists', async () => {
    const target = await layout();
    const bytes = Buffer.from('once');
    await target.push(describeBytes(bytes), bytes);
    let opened = false;
    await target.push(describeBytes(bytes), () => {
      opened = true;
      return Readable.from([bytes]);
    });
    expect(opened).toBe(false);
  });

  it('refuses content that does not match the descriptor, leaving no file', async () => {
    const target = await layout();
    const bytes = Buffer.from('expected');
    const descriptor = describeBytes(bytes);
    const wrong = Buffer.from('EXPECTED');
    await expect(target.push(descriptor, wrong)).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(target.push(descriptor, Buffer.from('expected!'))).rejects.toBeInstanceOf(
      SizeMismatchError,
    );
    await expect(target.push(descriptor, Buffer.from('expecte'))).rejects.toBeInstanceOf(
      SizeMismatchError,
    );
    expect(await blobFiles(target)).toEqual([]);
    expect(await target.exists(descriptor)).toBe(false);
  });

  it('leaves neither the blob nor a temp file when the content stream fails midway', async () => {
    const target = await layout();
    const bytes = Buffer.alloc(256 * 1024, 1);
    const descriptor = describeBytes(bytes);
    const failing = () =>
      new Readable({
        read() {
          this.push(bytes.subarray(0, 64 * 1024));
          this.destroy(new Error('connection reset'));
        },
      });
    await expect(target.push(descriptor, failing)).rejects.toThrow('connection reset');
    expect(await blobFiles(target)).toEqual([]);

    const controller = new AbortController();
    const endless = () => new Readable({ read() {} });
    const pushing = target.push(descriptor, endless, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pushing).rejects.toMatchObject({ name: 'AbortError' });
    expect(await blobFiles(target)).toEqual([]);
  });

  it('fails a fetch of a missing blob with ERR_NOT_FOUND naming the digest and the layout', async () => {
    const target = await layout();
    const descriptor = describeBytes(Buffer.from('absent'));
    const error = await target.fetch(descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect((error as Error).message).toContain(descriptor.digest);
    expect((error as Error).message).toContain(target.name);
  });

  it('stops a fetch when its signal aborts', async () => {
    const target = await layout();
    const bytes = Buffer.alloc(1024 * 1024, 5);
    const descriptor = describeBytes(bytes);
    await target.push(descriptor, bytes);
    const controller = new AbortController();
    const stream = await target.fetch(descriptor, { signal: controller.signal });
    controller.abort();
    await expect(readAll(stream, 16 << 20)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('errors the fetch stream when the file on disk is corrupt or truncated', async () => {
    const target = await layout();
    const bytes = Buffer.from('pristine content');
    const descriptor = describeBytes(bytes);
    await target.push(descriptor, bytes);
    await writeFile(blobPath(target, descriptor.digest), 'PRISTINE CONTENT');
    await expect(fetchBytes(target, descriptor)).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
    await writeFile(blobPath(target, descriptor.digest), 'pristine');
    await expect(fetchBytes(target, descriptor)).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
  });
});
