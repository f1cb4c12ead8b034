import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Annotation, MediaType } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFile, pack } from './pack.js';
import { LARGE_READ, readOptions } from './read-options.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('readOptions', () => {
  it('reads 1 MiB at a time by default', () => {
    expect(LARGE_READ).toBe(MiB);
  });

  it.each([
    ['undefined', undefined, MiB],
    ['0', 0, 16 * KiB],
    ['100', 100, 16 * KiB],
    ['16 KiB - 1', 16 * KiB - 1, 16 * KiB],
    ['16 KiB', 16 * KiB, 16 * KiB],
    ['16 KiB + 1', 16 * KiB + 1, 16 * KiB + 1],
    ['100 KiB', 100 * KiB, 100 * KiB],
    ['1 MiB - 1', MiB - 1, MiB - 1],
    ['1 MiB', MiB, MiB],
    ['1 MiB + 1', MiB + 1, MiB],
    ['1 GiB', 1024 * MiB, MiB],
    ['NaN', Number.NaN, MiB],
    ['Infinity', Number.POSITIVE_INFINITY, MiB],
    ['-1', -1, 16 * KiB],
  ])('size %s → highWaterMark %d', (_name, size, highWaterMark) => {
    expect(readOptions(size)).toEqual({ highWaterMark });
  });
});

describe('digestFile', () => {
  let dir: string;
  const files = new Map<number, { path: string; bytes: Buffer }>();
  const sizes = [0, 1, 16 * KiB - 1, 16 * KiB, 16 * KiB + 1, MiB + 7];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-read-options-'));
    for (const size of sizes) {
      const bytes = randomBytes(size);
      const path = join(dir, `file-${size}`);
      await writeFile(path, bytes);
      files.set(size, { path, bytes });
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const file = (size: number) => {
    const found = files.get(size);
    if (!found) throw new Error(`no file of ${size} bytes`);
    return found;
  };

  it('the test files hold the bytes they should', () => {
    for (const size of sizes) expect(file(size).bytes.byteLength).toBe(size);
  });

  it.each(sizes)('hashes a %d-byte file with the correct size hint', async (size) => {
    const { path, bytes } = file(size);
    expect(await digestFile(path, undefined, size)).toEqual({ digest: sha256(bytes), size });
  });

  it.each(sizes)('hashes a %d-byte file with no size hint', async (size) => {
    const { path, bytes } = file(size);
    expect(await digestFile(path)).toEqual({ digest: sha256(bytes), size });
  });

  it.each(sizes)('hashes a %d-byte file with a smaller (wrong) size hint', async (size) => {
    const { path, bytes } = file(size);
    const expected = { digest: sha256(bytes), size };
    for (const hint of [0, 1, Math.floor(size / 2), Math.max(0, size - 1), -1]) {
      expect(await digestFile(path, undefined, hint)).toEqual(expected);
    }
  });

  it.each(sizes)('hashes a %d-byte file with a larger (wrong) size hint', async (size) => {
    const { path, bytes } = file(size);
    const expected = { digest: sha256(bytes), size };
    for (const hint of [size + 1, size * 2 + 100, 16 * KiB + 1, 10 * MiB, Number.NaN]) {
      expect(await digestFile(path, undefined, hint)).toEqual(expected);
    }
  });

  it('the empty file has the well-known empty sha256', async () => {
    expect(await digestFile(file(0).path, undefined, 0)).toEqual({
      digest: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      size: 0,
    });
  });

  it('honours an aborted signal', async () => {
    await expect(digestFile(file(MiB + 7).path, AbortSignal.abort(), MiB + 7)).rejects.toThrow(
      /abort/i,
    );
  });
});

describe('pack() file layers', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-read-options-pack-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('describes each file with its digest and size, and open() yields exactly its bytes', async () => {
    const contents: [string, Buffer][] = [
      ['empty.txt', Buffer.alloc(0)],
      ['one.bin', Buffer.from([0x2a])],
      ['hello.txt', Buffer.from('hello\n')],
      ['small.bin', randomBytes(4 * KiB)],
      ['edge.bin', randomBytes(16 * KiB + 1)],
      ['big.bin', randomBytes(300 * KiB + 3)],
    ];
    const inputs = [];
    for (const [name, bytes] of contents) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      inputs.push({ path, title: name });
    }
    const packed = await pack(inputs);
    try {
      expect(packed.layers).toHaveLength(contents.length);
      for (const [index, [name, bytes]] of contents.entries()) {
        const layer = packed.layers[index];
        if (!layer) throw new Error(`layer ${index} missing`);
        expect(layer.descriptor).toEqual({
          mediaType: MediaType.OciLayer,
          digest: sha256(bytes),
          size: bytes.byteLength,
          annotations: { [Annotation.Title]: name },
        });
        expect(packed.manifest.layers[index]).toEqual(layer.descriptor);
        const read = await readAll(layer.open());
        expect(read.equals(bytes)).toBe(true);
        // open() can be called again (a retry) and reads the same bytes.
        expect((await readAll(layer.open())).equals(bytes)).toBe(true);
      }
    } finally {
      await packed.cleanup();
    }
  });

  it('passes the stat size to the hasher as the hint', async () => {
    const bytes = randomBytes(20 * KiB);
    const path = join(dir, 'hinted.bin');
    await writeFile(path, bytes);
    const hints: (number | undefined)[] = [];
    const packed = await pack([{ path, title: 'hinted.bin' }], {
      hashFile: (file, signal, size) => {
        hints.push(size);
        return digestFile(file, signal, size);
      },
    });
    expect(hints).toEqual([bytes.byteLength]);
    expect(packed.layers[0]?.descriptor.digest).toBe(sha256(bytes));
    expect((await readAll(packed.layers[0]!.open())).equals(bytes)).toBe(true);
  });
});
