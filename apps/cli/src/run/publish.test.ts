import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  pack,
  LARGE_TRANSFER_MIN_SIZE,
  type Content,
  type PackedArtifact,
  type PushOptions,
  type Target,
} from '@ferry/artifact';
import { EmptyJson, isDigest, MediaType, type Descriptor } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../context.js';
import { Progress } from '../progress.js';
import { uploadPacked } from './publish.js';

const KiB = 1024;
const SMALL = 4 * KiB;
const LARGE = 256 * KiB + 1;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** An in-memory target that records every call in order. */
class FakeTarget implements Target {
  readonly name = 'fake.example/repo';
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  readonly tagged = new Map<string, string>();
  /** `exists <digest>`, `push <digest>`, `tag <reference>`, in call order. */
  events: string[] = [];
  existsCalls: string[] = [];
  pushCalls: string[] = [];

  resetCalls(): void {
    this.events = [];
    this.existsCalls = [];
    this.pushCalls = [];
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    this.events.push(`exists ${descriptor.digest}`);
    this.existsCalls.push(descriptor.digest);
    return this.blobs.has(descriptor.digest) || this.manifests.has(descriptor.digest);
  }

  async push(descriptor: Descriptor, content: Content, options?: PushOptions): Promise<void> {
    this.events.push(`push ${descriptor.digest}`);
    this.pushCalls.push(descriptor.digest);
    const bytes = content instanceof Uint8Array ? Buffer.from(content) : await readAll(content());
    if (bytes.byteLength !== descriptor.size || sha256(bytes) !== descriptor.digest) {
      throw new Error(`content does not match ${descriptor.digest}`);
    }
    options?.onProgress?.(bytes.byteLength);
    const store = descriptor.mediaType === MediaType.OciManifest ? this.manifests : this.blobs;
    store.set(descriptor.digest, bytes);
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    const bytes = this.blobs.get(descriptor.digest) ?? this.manifests.get(descriptor.digest);
    if (!bytes) throw new Error(`not found: ${descriptor.digest}`);
    return Readable.from([bytes]);
  }

  async resolve(reference: string): Promise<Descriptor> {
    const digest = this.tagged.get(reference) ?? reference;
    const bytes = this.manifests.get(digest);
    if (!bytes || !isDigest(digest)) throw new Error(`not found: ${reference}`);
    return { mediaType: MediaType.OciManifest, digest, size: bytes.byteLength };
  }

  async tag(descriptor: Descriptor, reference: string): Promise<void> {
    this.events.push(`tag ${reference}`);
    if (!this.manifests.has(descriptor.digest)) throw new Error('tagging a missing manifest');
    this.tagged.set(reference, descriptor.digest);
  }

  async referrers(): Promise<Descriptor[]> {
    return [];
  }

  async tags(): Promise<string[]> {
    return [...this.tagged.keys()];
  }
}

/** A fake target that can push a manifest and tag it in one request. */
class TaggingTarget extends FakeTarget {
  async pushTagged(descriptor: Descriptor, content: Uint8Array, tag: string): Promise<void> {
    this.events.push(`pushTagged ${descriptor.digest} ${tag}`);
    this.manifests.set(descriptor.digest, Buffer.from(content));
    this.tagged.set(tag, descriptor.digest);
  }
}

function fakeContext(format: 'text' | 'json' = 'text') {
  const out: string[] = [];
  const err: string[] = [];
  const context: Context = {
    io: { stdout: (text) => void out.push(text), stderr: (text) => void err.push(text) },
    args: { format },
    readStdin: async () => '',
  };
  return { context, out, err, lines: () => out.join('').split('\n').filter(Boolean) };
}

const short = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-publish-test-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes one file per size (distinct random bytes) and packs them as a v1.1 artifact. */
async function packFiles(name: string, sizes: number[]) {
  const sub = await mkdtemp(join(dir, `${name}-`));
  const contents: Buffer[] = [];
  const inputs = [];
  for (const [index, size] of sizes.entries()) {
    const bytes = randomBytes(size);
    const path = join(sub, `f${String(index).padStart(2, '0')}.bin`);
    await writeFile(path, bytes);
    contents.push(bytes);
    inputs.push({ path, title: `f${String(index).padStart(2, '0')}.bin` });
  }
  const packed = await pack(inputs);
  expect(packed.layers.map((layer) => layer.descriptor.digest)).toEqual(contents.map(sha256));
  return { packed, contents };
}

/** Digests in push order: config first, then the layers. */
const blobDigests = (packed: PackedArtifact) => [
  packed.config.descriptor.digest,
  ...packed.layers.map((layer) => layer.descriptor.digest),
];

const upload = (
  context: Context,
  target: Target,
  packed: PackedArtifact,
  concurrency = 1,
  tag?: string,
) =>
  uploadPacked(context, target, packed, {
    concurrency,
    progress: new Progress(false),
    ...(tag ? { tag } : {}),
  });

describe('uploadPacked: skipping existence checks on a first push', () => {
  it('checks the config and the first layers, then only every 16th small blob', async () => {
    const { packed, contents } = await packFiles('new', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    expect(blobs).toHaveLength(41);
    expect(blobs[0]).toBe(EmptyJson.digest);
    const target = new FakeTarget();
    const { context, lines } = fakeContext();

    await upload(context, target, packed);

    // Warm-up: the config and layers 0–6 (8 absent answers); then the 16th and 32nd small blob
    // after it (blob indexes 8 + 15 = 23 and 8 + 31 = 39). Index 40 is the 33rd: skipped.
    const checked = [0, 1, 2, 3, 4, 5, 6, 7, 23, 39];
    expect(target.existsCalls).toEqual(checked.map((index) => blobs[index]));
    expect(target.existsCalls).toHaveLength(10);

    // Every blob pushed once, in order, then the manifest, last.
    expect(target.pushCalls).toEqual([...blobs, packed.descriptor.digest]);
    expect(target.events.at(-1)).toBe(`push ${packed.descriptor.digest}`);
    // Each check comes right before that blob's push (concurrency 1).
    for (const index of checked) {
      const at = target.events.indexOf(`exists ${blobs[index]}`);
      expect(target.events[at + 1]).toBe(`push ${blobs[index]}`);
    }

    // Exactly the right bytes arrived.
    expect(target.blobs.get(EmptyJson.digest)?.toString()).toBe('{}');
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
    expect(target.blobs.size).toBe(41);
    expect(target.manifests.get(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
    expect(target.manifests.size).toBe(1);

    // Output: one "Uploaded" line per blob, in order, and the manifest last.
    const output = lines();
    expect(output).toHaveLength(42);
    expect(output[0]).toBe(`Uploaded   ${MediaType.OciEmpty}  ${short(EmptyJson.digest)}`);
    for (const [index, bytes] of contents.entries()) {
      const title = `f${String(index).padStart(2, '0')}.bin`;
      expect(output[index + 1]).toBe(`Uploaded   ${title}  ${short(sha256(bytes))}`);
    }
    expect(output[41]).toBe(
      `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
    );
    expect(output.some((line) => line.startsWith('Exists'))).toBe(false);
  });

  it('with concurrency 5, still checks the first 8 blobs, skips some, and pushes every blob once', async () => {
    const { packed, contents } = await packFiles('concurrent', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new FakeTarget();
    const { context, lines } = fakeContext();

    await upload(context, target, packed, 5);

    // A blob taken before 8 checks have answered is always checked.
    expect(target.existsCalls.slice(0, 8).sort()).toEqual(blobs.slice(0, 8).sort());
    expect(target.existsCalls.length).toBeGreaterThanOrEqual(10);
    expect(target.existsCalls.length).toBeLessThan(blobs.length);
    expect(new Set(target.existsCalls).size).toBe(target.existsCalls.length);

    const blobPushes = target.pushCalls.slice(0, -1);
    expect(blobPushes.sort()).toEqual([...blobs].sort());
    expect(target.pushCalls.at(-1)).toBe(packed.descriptor.digest);
    expect(target.events.at(-1)).toBe(`push ${packed.descriptor.digest}`);
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
    expect(lines()).toHaveLength(42);
    expect(lines().at(-1)).toBe(
      `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
    );
  });
});

describe('uploadPacked: a re-push', () => {
  it('checks every blob, pushes only the manifest, and says "Exists"', async () => {
    const { packed, contents } = await packFiles('again', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new FakeTarget();
    await upload(fakeContext().context, target, packed);
    target.resetCalls();
    const stored = new Map(target.blobs);

    const { context, lines } = fakeContext();
    await upload(context, target, packed);

    expect(target.existsCalls).toEqual(blobs);
    expect(target.pushCalls).toEqual([packed.descriptor.digest]);
    expect(target.events).toEqual([
      ...blobs.map((digest) => `exists ${digest}`),
      `push ${packed.descriptor.digest}`,
    ]);
    expect(target.blobs).toEqual(stored);

    const output = lines();
    expect(output).toHaveLength(42);
    expect(output[0]).toBe(`Exists     ${MediaType.OciEmpty}  ${short(EmptyJson.digest)}`);
    for (const [index, bytes] of contents.entries()) {
      const title = `f${String(index).padStart(2, '0')}.bin`;
      expect(output[index + 1]).toBe(`Exists     ${title}  ${short(sha256(bytes))}`);
    }
    expect(output[41]).toBe(
      `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
    );
  });

  it('with concurrency 5, still checks every blob and pushes none', async () => {
    const { packed } = await packFiles('again-concurrent', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new FakeTarget();
    await upload(fakeContext().context, target, packed, 5);
    target.resetCalls();

    const { context, lines } = fakeContext();
    await upload(context, target, packed, 5);

    expect([...target.existsCalls].sort()).toEqual([...blobs].sort());
    expect(target.pushCalls).toEqual([packed.descriptor.digest]);
    expect(lines().filter((line) => line.startsWith('Exists     '))).toHaveLength(41);
  });

  it('notices a re-push whose first blobs are new through a sampled check', async () => {
    const { packed, contents } = await packFiles('partly', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new FakeTarget();
    // The target already holds blob indexes 20 and up (layers 19–39).
    for (const bytes of contents.slice(19)) target.blobs.set(sha256(bytes), bytes);

    const { context, lines } = fakeContext();
    await upload(context, target, packed);

    // Warm-up 0–7 (absent), 8–22 skipped, 23 sampled (present), then 24–40 all checked.
    const checked = [0, 1, 2, 3, 4, 5, 6, 7, 23, ...Array.from({ length: 17 }, (_, i) => 24 + i)];
    expect(target.existsCalls).toEqual(checked.map((index) => blobs[index]));
    expect(target.existsCalls).toHaveLength(26);
    // 0–22 uploaded (20–22 again, harmlessly, as they were skipped), nothing after.
    expect(target.pushCalls).toEqual([...blobs.slice(0, 23), packed.descriptor.digest]);
    const output = lines();
    expect(output.filter((line) => line.startsWith('Uploaded   '))).toHaveLength(24);
    expect(output.filter((line) => line.startsWith('Exists     '))).toHaveLength(18);
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
  });
});

describe('uploadPacked: large blobs', () => {
  it('checks every blob above 256 KiB, however many answers were "absent"', async () => {
    const { packed, contents } = await packFiles('large', Array(12).fill(LARGE));
    const blobs = blobDigests(packed);
    const target = new FakeTarget();
    const { context, lines } = fakeContext();

    await upload(context, target, packed);

    expect(target.existsCalls).toEqual(blobs);
    expect(target.pushCalls).toEqual([...blobs, packed.descriptor.digest]);
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
    expect(lines().filter((line) => line.startsWith('Uploaded   '))).toHaveLength(14);
  });

  it('checks large blobs among small ones while small ones are skipped', async () => {
    // Layer i is large when i % 5 === 4 (layers 4, 9, …, 39), else 4 KiB.
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 5 === 4 ? LARGE : SMALL));
    const { packed, contents } = await packFiles('mixed', sizes);
    const blobs = blobDigests(packed);
    const target = new FakeTarget();

    await upload(fakeContext().context, target, packed);

    // Layer i is blob index i + 1. Warm-up: config and layers 0–6. Then every large layer
    // (9, 14, …, 39), and the 16th small layer after the warm-up (7, 8, 10, 11, 12, 13, 15, 16,
    // 17, 18, 20, 21, 22, 23, 25, 26 → layer 26); the 26 small layers left give no 32nd.
    const checkedLayers = [0, 1, 2, 3, 4, 5, 6, 9, 14, 19, 24, 26, 29, 34, 39];
    expect(target.existsCalls).toEqual([blobs[0], ...checkedLayers.map((i) => blobs[i + 1])]);
    expect(target.existsCalls).toHaveLength(16);
    expect(target.pushCalls).toEqual([...blobs, packed.descriptor.digest]);
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
  });
});

describe('uploadPacked: the manifest', () => {
  it('pushes the manifest and then tags it when the target cannot push by tag', async () => {
    const { packed } = await packFiles('tag', [SMALL, SMALL]);
    const target = new FakeTarget();
    await upload(fakeContext().context, target, packed, 1, 'v1');
    expect(target.events.slice(-2)).toEqual([`push ${packed.descriptor.digest}`, 'tag v1']);
    expect(target.tagged.get('v1')).toBe(packed.descriptor.digest);
    expect(target.manifests.get(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
  });

  it('pushes by tag in one step when the target can', async () => {
    const { packed } = await packFiles('push-tagged', [SMALL, SMALL]);
    const target = new TaggingTarget();
    await upload(fakeContext().context, target, packed, 1, 'v2');
    expect(target.pushCalls).toEqual(blobDigests(packed));
    expect(target.events.at(-1)).toBe(`pushTagged ${packed.descriptor.digest} v2`);
    expect(target.tagged.get('v2')).toBe(packed.descriptor.digest);
    expect(target.manifests.get(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
  });

  it('uploads a blob shared by two layers once', async () => {
    const sub = await mkdtemp(join(dir, 'dup-'));
    const bytes = randomBytes(SMALL);
    await writeFile(join(sub, 'a.bin'), bytes);
    await writeFile(join(sub, 'b.bin'), bytes);
    const packed = await pack([
      { path: join(sub, 'a.bin'), title: 'a.bin' },
      { path: join(sub, 'b.bin'), title: 'b.bin' },
    ]);
    const target = new FakeTarget();
    const { context, lines } = fakeContext();
    await upload(context, target, packed, 3);
    expect(target.existsCalls.sort()).toEqual([EmptyJson.digest, sha256(bytes)].sort());
    expect(target.pushCalls.slice(0, -1).sort()).toEqual([EmptyJson.digest, sha256(bytes)].sort());
    expect(target.pushCalls.at(-1)).toBe(packed.descriptor.digest);
    expect(lines()).toHaveLength(3);
  });

  it('prints nothing with --format json', async () => {
    const { packed } = await packFiles('json', [SMALL]);
    const target = new FakeTarget();
    const { context, out } = fakeContext('json');
    await upload(context, target, packed);
    expect(out).toEqual([]);
    expect(target.pushCalls).toEqual([...blobDigests(packed), packed.descriptor.digest]);
  });
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

/**
 * A fake target whose blob pushes wait until the test releases them, then store (and verify) the
 * bytes as FakeTarget does. Manifests go straight through.
 */
class BlockingTarget extends FakeTarget {
  readonly inFlight = new Map<
    string,
    { size: number; gate: Deferred<void>; done: Promise<void> }
  >();
  /** Blob digests in the order their pushes began. */
  readonly started: string[] = [];
  maxInFlight = 0;
  maxLarge = 0;

  override push(descriptor: Descriptor, content: Content, options?: PushOptions): Promise<void> {
    if (descriptor.mediaType === MediaType.OciManifest)
      return super.push(descriptor, content, options);
    const { digest, size } = descriptor;
    if (this.inFlight.has(digest)) throw new Error(`${digest} pushed twice at once`);
    const gate = deferred<void>();
    const done = (async () => {
      await gate.promise;
      try {
        await super.push(descriptor, content, options);
      } finally {
        this.inFlight.delete(digest);
      }
    })();
    this.inFlight.set(digest, { size, gate, done });
    this.started.push(digest);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    this.maxLarge = Math.max(this.maxLarge, this.large().length);
    return done;
  }

  /** Digests of the large blobs in flight, in the order they began. */
  large(): string[] {
    return [...this.inFlight].filter(([, p]) => p.size >= LARGE_TRANSFER_MIN_SIZE).map(([d]) => d);
  }

  /** Digests of the small blobs in flight, in the order they began. */
  small(): string[] {
    return [...this.inFlight].filter(([, p]) => p.size < LARGE_TRANSFER_MIN_SIZE).map(([d]) => d);
  }

  /** Lets one push go on, and waits until it has stored its blob and uploadPacked moved on. */
  async release(digest: string): Promise<void> {
    const pending = this.inFlight.get(digest);
    if (!pending) throw new Error(`${digest} is not in flight`);
    pending.gate.resolve();
    await pending.done;
    await flush();
  }
}

/**
 * Runs an upload to its end, releasing one push at a time (`pick` chooses which; the oldest by
 * default) and calling `check` whenever the pushes in flight have settled.
 */
async function drive(
  target: BlockingTarget,
  uploading: Promise<void>,
  check: () => void,
  pick: () => string | undefined = () => target.inFlight.keys().next().value,
): Promise<void> {
  let finished = false;
  const outcome = uploading.finally(() => void (finished = true));
  for (let rounds = 0; ; rounds++) {
    await flush();
    check();
    if (finished) break;
    const next = pick();
    if (next === undefined) throw new Error('the upload stalled with nothing in flight');
    if (rounds > 1000) throw new Error('too many rounds');
    await target.release(next);
  }
  await outcome;
}

/** What every upload must have done in the end: each blob stored once, exactly, manifest last. */
function expectComplete(
  target: BlockingTarget,
  packed: PackedArtifact,
  contents: Buffer[],
  lines: () => string[],
) {
  const blobs = blobDigests(packed);
  expect([...target.started].sort()).toEqual([...blobs].sort());
  expect(target.pushCalls.slice(0, -1).sort()).toEqual([...blobs].sort());
  expect(target.pushCalls.at(-1)).toBe(packed.descriptor.digest);
  expect(target.inFlight.size).toBe(0);
  expect(target.blobs.size).toBe(blobs.length);
  expect(target.blobs.get(EmptyJson.digest)?.toString()).toBe('{}');
  for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
  expect(target.manifests.get(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
  const output = lines();
  expect(output).toHaveLength(blobs.length + 1);
  expect(output.every((line) => line.startsWith('Uploaded   '))).toBe(true);
  expect(output.at(-1)).toBe(
    `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
  );
}

describe('uploadPacked: small blobs beside large ones (total)', () => {
  const limits = (concurrency: number, total?: number) => ({
    concurrency,
    ...(total !== undefined ? { total } : {}),
    progress: new Progress(false),
  });

  it('uploads `total` small blobs at once', async () => {
    const { packed, contents } = await packFiles('total-small', Array(10).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(2, 6));
    await flush();
    // The config and the first five layers, though `concurrency` is 2.
    expect(target.started).toEqual(blobs.slice(0, 6));
    expect(target.inFlight.size).toBe(6);
    // Nothing else starts until one ends; then the next blob takes its place.
    await target.release(blobs[0] as string);
    expect([...target.inFlight.keys()]).toEqual(blobs.slice(1, 7));

    await drive(target, uploading, () => expect(target.inFlight.size).toBeLessThanOrEqual(6));
    expect(target.maxInFlight).toBe(6);
    expect(target.started).toEqual(blobs);
    // A first push: the first 8 blobs were checked, the small ones after them skipped.
    expect([...target.existsCalls].sort()).toEqual(blobs.slice(0, 8).sort());
    expectComplete(target, packed, contents, lines);
  });

  it('uploads only `concurrency` blobs of 1 MiB or more at once', async () => {
    const sizes = Array(10).fill(LARGE_TRANSFER_MIN_SIZE);
    const { packed, contents } = await packFiles('total-large', sizes);
    const blobs = blobDigests(packed);
    const large = blobs.slice(1);
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(2, 6));
    await flush();
    // The small config, and two of the large layers; the others wait for a large slot.
    expect(target.small()).toEqual([EmptyJson.digest]);
    expect(target.large()).toEqual(large.slice(0, 2));
    await target.release(EmptyJson.digest);
    expect(target.inFlight.size).toBe(2);
    await target.release(large[0] as string);
    // Large blobs start in order.
    expect(target.large()).toEqual(large.slice(1, 3));

    await drive(target, uploading, () => {
      expect(target.large().length).toBeLessThanOrEqual(2);
      expect(target.small()).toEqual([]);
    });
    expect(target.maxLarge).toBe(2);
    expect(target.maxInFlight).toBe(3);
    expect(target.started).toEqual(blobs);
    // Blobs above 256 KiB are always checked.
    expect([...target.existsCalls].sort()).toEqual([...blobs].sort());
    expectComplete(target, packed, contents, lines);
  });

  it('counts a blob of 1 MiB less one byte as small', async () => {
    const sizes = Array(4).fill(LARGE_TRANSFER_MIN_SIZE - 1);
    const { packed, contents } = await packFiles('total-boundary', sizes);
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(1, 6));
    await flush();
    expect(target.started).toEqual(blobs);
    expect(target.large()).toEqual([]);
    await drive(target, uploading, () => {});
    expect(target.maxInFlight).toBe(5);
    expectComplete(target, packed, contents, lines);
  });

  it('with a mix, keeps large blobs to `concurrency` and all to `total`; small ones go on', async () => {
    // Layers 0–3 and 12–13 are large, 4–11 small: blob i + 1 is layer i, blob 0 the config.
    const sizes = [...Array(4).fill(LARGE_TRANSFER_MIN_SIZE), ...Array(8).fill(SMALL)];
    sizes.push(LARGE_TRANSFER_MIN_SIZE + 1, LARGE_TRANSFER_MIN_SIZE);
    const { packed, contents } = await packFiles('total-mixed', sizes);
    const blobs = blobDigests(packed);
    const at = (index: number) => blobs[index] as string;
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(2, 6));
    await flush();
    // Six workers took the config, layers 0–3 and layer 4: two large ones wait for a slot.
    expect(target.large()).toEqual([at(1), at(2)]);
    expect(target.small()).toEqual([at(0), at(5)]);

    // Small blobs keep flowing while layers 2 and 3 wait.
    await target.release(at(0));
    expect(target.small()).toEqual([at(5), at(6)]);
    await target.release(at(5));
    await target.release(at(6));
    expect(target.small()).toEqual([at(7), at(8)]);
    expect(target.large()).toEqual([at(1), at(2)]);

    // A large slot freed goes to the next large blob, in order.
    await target.release(at(1));
    expect(target.large()).toEqual([at(2), at(3)]);

    // Release the smalls first whenever there are any, to let large ones pile up.
    await drive(
      target,
      uploading,
      () => {
        expect(target.large().length).toBeLessThanOrEqual(2);
        expect(target.inFlight.size).toBeLessThanOrEqual(6);
      },
      () => target.small()[0] ?? target.large()[0],
    );
    expect(target.maxLarge).toBe(2);
    expect(target.maxInFlight).toBeLessThanOrEqual(6);
    expect(target.maxInFlight).toBeGreaterThanOrEqual(4);
    // Large blobs began in their order, small ones in theirs.
    const largeIndexes = [1, 2, 3, 4, 13, 14];
    const isLarge = (digest: string) => largeIndexes.includes(blobs.findIndex((d) => d === digest));
    expect(target.started.filter(isLarge)).toEqual(largeIndexes.map(at));
    expect(target.started.filter((digest) => !isLarge(digest))).toEqual(
      blobs.filter((digest) => !isLarge(digest)),
    );
    expectComplete(target, packed, contents, lines);
  });

  it('without `total`, `concurrency` bounds small blobs too', async () => {
    const { packed, contents } = await packFiles('no-total', Array(10).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(3));
    await flush();
    expect(target.started).toEqual(blobs.slice(0, 3));
    await drive(target, uploading, () => expect(target.inFlight.size).toBeLessThanOrEqual(3));
    expect(target.maxInFlight).toBe(3);
    expect(target.started).toEqual(blobs);
    expectComplete(target, packed, contents, lines);
  });

  it('without `total`, `concurrency` bounds a mix of small and large blobs', async () => {
    const sizes = [
      LARGE_TRANSFER_MIN_SIZE,
      SMALL,
      LARGE_TRANSFER_MIN_SIZE,
      SMALL,
      SMALL,
      LARGE_TRANSFER_MIN_SIZE,
    ];
    const { packed, contents } = await packFiles('no-total-mixed', sizes);
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(2));
    await flush();
    expect(target.started).toEqual(blobs.slice(0, 2));
    // Small ones released first, so that two large ones come to be in flight together.
    await drive(
      target,
      uploading,
      () => expect(target.inFlight.size).toBeLessThanOrEqual(2),
      () => target.small()[0] ?? target.large()[0],
    );
    expect(target.maxInFlight).toBe(2);
    expect(target.maxLarge).toBe(2);
    expect(target.started).toEqual(blobs);
    expectComplete(target, packed, contents, lines);
  });

  it('never lets `total` below `concurrency` shrink the pool', async () => {
    const { packed, contents } = await packFiles('total-below', Array(10).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { context, lines } = fakeContext();

    const uploading = uploadPacked(context, target, packed, limits(4, 2));
    await flush();
    expect(target.started).toEqual(blobs.slice(0, 4));
    await drive(target, uploading, () => expect(target.inFlight.size).toBeLessThanOrEqual(4));
    expect(target.maxInFlight).toBe(4);
    expectComplete(target, packed, contents, lines);
  });
});
