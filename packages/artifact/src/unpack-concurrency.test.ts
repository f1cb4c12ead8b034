/**
 * How many layers unpack() fetches at once: `concurrency` in all, `largeConcurrency` of those
 * 1 MiB or more (and directories). The fetcher's streams wait until the test releases them, and
 * a layer counts as in flight from its fetch until its file is renamed into place.
 */
import { createHash, randomBytes } from 'node:crypto';
import type * as FsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import {
  Annotation,
  EmptyJson,
  MediaType,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LARGE_TRANSFER_MIN_SIZE } from './limit.js';
import { pack } from './pack.js';
import type { Fetcher } from './target.js';
import { unpack, type UnpackOptions } from './unpack.js';

/** Told of every rename unpack() makes, once it is done: a file reaching its final path. */
const renames = vi.hoisted(() => ({ done: undefined as ((to: string) => void) | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    rename: async (from: string, to: string) => {
      await actual.rename(from, to);
      renames.done?.(to);
    },
  };
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

/** Lets every pending promise callback run (setImmediate comes after all microtasks). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const sha256 = (data: Buffer) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;

const MiB = LARGE_TRANSFER_MIN_SIZE;

interface Layer {
  title: string;
  bytes: Buffer;
  descriptor: Descriptor;
}

/** A titled file layer of `size` random bytes. */
function fileLayer(title: string, size: number): Layer {
  const bytes = randomBytes(size);
  return {
    title,
    bytes,
    descriptor: {
      mediaType: MediaType.OciLayer,
      digest: sha256(bytes),
      size,
      annotations: { [Annotation.Title]: title },
    },
  };
}

function manifestOf(layers: Layer[]): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: EmptyJson,
    layers: layers.map((layer) => layer.descriptor),
  };
}

/** Serves each layer through a stream that stays empty until the test releases it. */
class GatedFetcher implements Fetcher {
  /** Titles in the order they were fetched. */
  readonly started: string[] = [];
  /** Titles fetched and not yet in place. */
  readonly inFlight = new Set<string>();
  maxInFlight = 0;
  maxLarge = 0;
  readonly #layers = new Map<string, Layer>();
  readonly #byDigest = new Map<string, Layer>();
  readonly #streams = new Map<string, PassThrough>();
  readonly #fetched = new Map<string, Deferred<void>>();
  readonly #placed = new Map<string, Deferred<void>>();

  constructor(
    readonly outputDir: string,
    layers: Layer[],
  ) {
    for (const layer of layers) {
      this.#layers.set(layer.title, layer);
      this.#byDigest.set(layer.descriptor.digest, layer);
    }
    renames.done = (to) => {
      const title = relative(resolve(this.outputDir), to);
      if (!this.#layers.has(title)) return;
      this.inFlight.delete(title);
      this.#signal(this.#placed, title);
    };
  }

  isLarge(title: string): boolean {
    const layer = this.#layers.get(title);
    return (
      layer !== undefined &&
      (layer.descriptor.size >= LARGE_TRANSFER_MIN_SIZE ||
        layer.descriptor.annotations?.[Annotation.OrasContentUnpack] === 'true')
    );
  }

  /** The large layers in flight, in the order they were fetched. */
  large(): string[] {
    return [...this.inFlight].filter((title) => this.isLarge(title));
  }

  /** The small layers in flight, in the order they were fetched. */
  small(): string[] {
    return [...this.inFlight].filter((title) => !this.isLarge(title));
  }

  /** Fetched, not yet released, in the order they were fetched. */
  held(): string[] {
    return [...this.#streams.keys()];
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    const layer = this.#byDigest.get(descriptor.digest);
    if (!layer) throw new Error(`no blob ${descriptor.digest}`);
    const { title } = layer;
    if (this.started.includes(title)) throw new Error(`${title} fetched twice`);
    this.started.push(title);
    this.inFlight.add(title);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    this.maxLarge = Math.max(this.maxLarge, this.large().length);
    const stream = new PassThrough();
    this.#streams.set(title, stream);
    this.#signal(this.#fetched, title);
    return stream;
  }

  /** Resolves once `title` has been fetched. */
  fetched(title: string): Promise<void> {
    return this.#deferred(this.#fetched, title).promise;
  }

  /** Sends a layer's bytes, and waits until its file is in place and the next fetches began. */
  async release(title: string): Promise<void> {
    const stream = this.#streams.get(title);
    const layer = this.#layers.get(title);
    if (!stream || !layer) throw new Error(`${title} is not waiting`);
    this.#streams.delete(title);
    stream.end(layer.bytes);
    await this.#deferred(this.#placed, title).promise;
    await flush();
  }

  /** Sends every layer's bytes as soon as it is fetched, from now on and for those waiting. */
  releaseAll(): void {
    for (const title of this.held()) {
      const stream = this.#streams.get(title);
      this.#streams.delete(title);
      stream?.end(this.#layers.get(title)?.bytes);
    }
  }

  #deferred(map: Map<string, Deferred<void>>, title: string): Deferred<void> {
    let entry = map.get(title);
    if (!entry) {
      entry = deferred<void>();
      map.set(title, entry);
    }
    return entry;
  }

  #signal(map: Map<string, Deferred<void>>, title: string): void {
    this.#deferred(map, title).resolve();
  }
}

let dir: string;
let out: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-unpack-concurrency-'));
  out = join(dir, 'out');
  await mkdir(out);
});

afterEach(async () => {
  renames.done = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Starts unpack() and waits until its first fetches began. */
async function start(layers: Layer[], options: Omit<UnpackOptions, 'outputDir'>) {
  const fetcher = new GatedFetcher(out, layers);
  const unpacking = unpack(manifestOf(layers), fetcher, { outputDir: out, ...options });
  const first = layers[0];
  if (first) await fetcher.fetched(first.title);
  await flush();
  return { fetcher, unpacking };
}

/**
 * Releases one held layer at a time (`pick` chooses; the first fetched by default), calling
 * `check` each time the fetches have settled, until unpack() ends.
 */
async function drive(
  fetcher: GatedFetcher,
  unpacking: Promise<unknown>,
  check: () => void,
  pick: () => string | undefined = () => fetcher.held()[0],
): Promise<void> {
  let finished = false;
  const outcome = unpacking.finally(() => void (finished = true));
  for (let rounds = 0; ; rounds++) {
    await flush();
    check();
    if (finished) break;
    const next = pick();
    if (next === undefined) {
      // Nothing left to release: unpack() ends once it has synced the directories it wrote to
      // (thread-pool work, more than one flush), or it stalled.
      await Promise.race([
        outcome,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('unpack stalled with nothing fetched')), 5000).unref(),
        ),
      ]);
      break;
    }
    if (rounds > 1000) throw new Error('too many rounds');
    await fetcher.release(next);
  }
  await outcome;
}

/** Every layer written once, with its exact bytes, and reported in manifest order. */
async function expectWritten(
  fetcher: GatedFetcher,
  layers: Layer[],
  unpacking: Promise<Awaited<ReturnType<typeof unpack>>>,
) {
  const files = await unpacking;
  expect(files.map((file) => file.title)).toEqual(layers.map((layer) => layer.title));
  for (const [index, file] of files.entries()) {
    const layer = layers[index] as Layer;
    expect(file.path).toBe(join(resolve(out), layer.title));
    expect(file.descriptor).toEqual(layer.descriptor);
    expect(file.directory).toBe(false);
    const written = await readFile(file.path);
    expect(written.byteLength).toBe(layer.bytes.byteLength);
    expect(written.equals(layer.bytes)).toBe(true);
  }
  // Nothing else is left in the directory: no temp files.
  expect((await readdir(out)).sort()).toEqual(layers.map((layer) => layer.title).sort());
  expect([...fetcher.started].sort()).toEqual(layers.map((layer) => layer.title).sort());
  expect(fetcher.inFlight.size).toBe(0);
  expect(fetcher.held()).toEqual([]);
}

describe('unpack: concurrency by size', () => {
  it('fetches at most 2 large and 6 layers in all; small ones go on while large ones wait', async () => {
    const order = ['L0', 'L1', 'L2', 'S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'L3', 'S6', 'L4', 'S7'];
    const layers = order.map((title, index) =>
      title.startsWith('L')
        ? fileLayer(title, index % 2 === 0 ? MiB : MiB + 7)
        : fileLayer(title, index * 1000),
    );
    const { fetcher, unpacking } = await start(layers, { concurrency: 6, largeConcurrency: 2 });

    // Two large (L2 waits for a large slot), and four small ones.
    expect(fetcher.started).toEqual(['L0', 'L1', 'S0', 'S1', 'S2', 'S3']);
    expect(fetcher.large()).toEqual(['L0', 'L1']);

    // A small one done: the next small one starts, not L2.
    await fetcher.release('S0');
    expect(fetcher.started.at(-1)).toBe('S4');
    expect(fetcher.large()).toEqual(['L0', 'L1']);
    expect(fetcher.small()).toEqual(['S1', 'S2', 'S3', 'S4']);

    // A large one done: its large slot goes to L2, but the general slot to S5, queued first.
    await fetcher.release('L0');
    expect(fetcher.started.at(-1)).toBe('S5');
    expect(fetcher.large()).toEqual(['L1']);
    expect(fetcher.inFlight.size).toBe(6);

    // Smalls done make room: L2, holding its large slot, starts in its turn.
    await fetcher.release('S1');
    expect(fetcher.started.at(-1)).toBe('S6');
    await fetcher.release('S2');
    expect(fetcher.started.at(-1)).toBe('S7');
    await fetcher.release('S3');
    expect(fetcher.started.at(-1)).toBe('L2');
    expect(fetcher.large()).toEqual(['L1', 'L2']);

    await drive(fetcher, unpacking, () => {
      expect(fetcher.large().length).toBeLessThanOrEqual(2);
      expect(fetcher.inFlight.size).toBeLessThanOrEqual(6);
    });
    expect(fetcher.maxLarge).toBe(2);
    expect(fetcher.maxInFlight).toBe(6);
    // Each kind started in manifest order.
    const isLarge = (title: string) => title.startsWith('L');
    expect(fetcher.started.filter(isLarge)).toEqual(order.filter(isLarge));
    expect(fetcher.started.filter((t) => !isLarge(t))).toEqual(order.filter((t) => !isLarge(t)));
    await expectWritten(fetcher, layers, unpacking);
  });

  it('never has more than 2 large or 6 in all however the layers are released', async () => {
    // 20 layers, every third large; released smalls first, so large ones pile up.
    const layers = Array.from({ length: 20 }, (_, i) =>
      i % 3 === 0 ? fileLayer(`L${i}`, MiB + i) : fileLayer(`S${i}`, 100 + i),
    );
    const { fetcher, unpacking } = await start(layers, { concurrency: 6, largeConcurrency: 2 });
    await drive(
      fetcher,
      unpacking,
      () => {
        expect(fetcher.large().length).toBeLessThanOrEqual(2);
        expect(fetcher.inFlight.size).toBeLessThanOrEqual(6);
      },
      () => fetcher.held().find((title) => !fetcher.isLarge(title)) ?? fetcher.held()[0],
    );
    expect(fetcher.maxLarge).toBe(2);
    expect(fetcher.maxInFlight).toBe(6);
    await expectWritten(fetcher, layers, unpacking);
  });

  it('counts a layer of 1 MiB less one byte as small, and one of exactly 1 MiB as large', async () => {
    const layers = [
      fileLayer('big-a', MiB),
      fileLayer('big-b', MiB),
      fileLayer('almost-a', MiB - 1),
      fileLayer('almost-b', MiB - 1),
      fileLayer('almost-c', MiB - 1),
    ];
    const { fetcher, unpacking } = await start(layers, { concurrency: 6, largeConcurrency: 1 });
    expect(fetcher.started).toEqual(['big-a', 'almost-a', 'almost-b', 'almost-c']);
    expect(fetcher.large()).toEqual(['big-a']);
    await fetcher.release('big-a');
    expect(fetcher.large()).toEqual(['big-b']);
    await drive(fetcher, unpacking, () => expect(fetcher.large().length).toBeLessThanOrEqual(1));
    expect(fetcher.maxLarge).toBe(1);
    expect(fetcher.maxInFlight).toBe(4);
    await expectWritten(fetcher, layers, unpacking);
  });

  it('without largeConcurrency, `concurrency` bounds everything alike', async () => {
    const order = ['L0', 'L1', 'L2', 'S0', 'L3', 'S1', 'S2', 'L4'];
    const layers = order.map((title, index) =>
      fileLayer(title, title.startsWith('L') ? MiB + index : 10 + index),
    );
    const { fetcher, unpacking } = await start(layers, { concurrency: 3 });
    // Three large ones at once: no separate large limit.
    expect(fetcher.started).toEqual(['L0', 'L1', 'L2']);
    expect(fetcher.large()).toEqual(['L0', 'L1', 'L2']);
    await fetcher.release('L0');
    expect(fetcher.started).toEqual(['L0', 'L1', 'L2', 'S0']);
    await drive(fetcher, unpacking, () => expect(fetcher.inFlight.size).toBeLessThanOrEqual(3));
    expect(fetcher.maxInFlight).toBe(3);
    expect(fetcher.maxLarge).toBe(3);
    // Each kind starts in manifest order (a large layer still queues for one of the 3 large
    // slots first, so small ones queued meanwhile may go before it).
    const isLarge = (title: string) => title.startsWith('L');
    expect(fetcher.started.filter(isLarge)).toEqual(order.filter(isLarge));
    expect(fetcher.started.filter((t) => !isLarge(t))).toEqual(order.filter((t) => !isLarge(t)));
    await expectWritten(fetcher, layers, unpacking);
  });

  it('without largeConcurrency, small layers are bound by `concurrency` too', async () => {
    const layers = Array.from({ length: 10 }, (_, i) => fileLayer(`s${i}`, 50 + i));
    const { fetcher, unpacking } = await start(layers, { concurrency: 2 });
    expect(fetcher.started).toEqual(['s0', 's1']);
    await drive(fetcher, unpacking, () => expect(fetcher.inFlight.size).toBeLessThanOrEqual(2));
    expect(fetcher.maxInFlight).toBe(2);
    expect(fetcher.started).toEqual(layers.map((layer) => layer.title));
    await expectWritten(fetcher, layers, unpacking);
  });

  it('fetches 4 layers at once by default', async () => {
    const layers = Array.from({ length: 9 }, (_, i) => fileLayer(`s${i}`, 64 + i));
    const { fetcher, unpacking } = await start(layers, {});
    expect(fetcher.started).toEqual(['s0', 's1', 's2', 's3']);
    await drive(fetcher, unpacking, () => expect(fetcher.inFlight.size).toBeLessThanOrEqual(4));
    expect(fetcher.maxInFlight).toBe(4);
    await expectWritten(fetcher, layers, unpacking);
  });

  it('caps largeConcurrency at concurrency', async () => {
    const layers = Array.from({ length: 6 }, (_, i) => fileLayer(`L${i}`, MiB + i));
    const { fetcher, unpacking } = await start(layers, { concurrency: 2, largeConcurrency: 8 });
    expect(fetcher.started).toEqual(['L0', 'L1']);
    await drive(fetcher, unpacking, () => expect(fetcher.inFlight.size).toBeLessThanOrEqual(2));
    expect(fetcher.maxInFlight).toBe(2);
    expect(fetcher.maxLarge).toBe(2);
    await expectWritten(fetcher, layers, unpacking);
  });

  it('treats a directory layer as large, however small', async () => {
    const source = join(dir, 'source');
    const files: { path: string; title: string }[] = [];
    for (const name of ['d0', 'd1']) {
      await mkdir(join(source, name), { recursive: true });
      await writeFile(join(source, name, 'inside.txt'), `${name} inside\n`);
      files.push({ path: join(source, name), title: name });
    }
    for (const name of ['f0', 'f1', 'f2']) {
      await writeFile(join(source, name), `${name} bytes\n`);
      files.push({ path: join(source, name), title: name });
    }
    const packed = await pack(files);
    const layers: Layer[] = [];
    for (const blob of packed.layers) {
      const chunks: Buffer[] = [];
      for await (const chunk of blob.open()) chunks.push(chunk as Buffer);
      const title = blob.descriptor.annotations?.[Annotation.Title] ?? '';
      layers.push({ title, bytes: Buffer.concat(chunks), descriptor: blob.descriptor });
    }
    expect(layers.map((layer) => layer.title)).toEqual(['d0', 'd1', 'f0', 'f1', 'f2']);
    expect(layers[0]?.descriptor.size).toBeLessThan(LARGE_TRANSFER_MIN_SIZE);

    const { fetcher, unpacking } = await start(layers, { concurrency: 4, largeConcurrency: 1 });
    // d1 waits for d0's large slot, though both are tiny; the files go ahead.
    expect(fetcher.started).toEqual(['d0', 'f0', 'f1', 'f2']);
    expect(fetcher.large()).toEqual(['d0']);
    const d1 = fetcher.fetched('d1');
    await fetcher.release('d0');
    await d1;
    expect(fetcher.started).toEqual(['d0', 'f0', 'f1', 'f2', 'd1']);
    expect(fetcher.maxLarge).toBe(1);

    fetcher.releaseAll();
    const unpacked = await unpacking;
    expect(unpacked.map((file) => [file.title, file.directory])).toEqual([
      ['d0', true],
      ['d1', true],
      ['f0', false],
      ['f1', false],
      ['f2', false],
    ]);
    for (const name of ['d0', 'd1']) {
      expect(await readFile(join(out, name, 'inside.txt'), 'utf8')).toBe(`${name} inside\n`);
    }
    for (const name of ['f0', 'f1', 'f2']) {
      expect(await readFile(join(out, name), 'utf8')).toBe(`${name} bytes\n`);
    }
    expect((await readdir(out)).sort()).toEqual(['d0', 'd1', 'f0', 'f1', 'f2']);
  });
});
