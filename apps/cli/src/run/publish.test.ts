import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  pack,
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
