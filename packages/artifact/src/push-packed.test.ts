// pushPacked: the push sequence of `ferry push` (moved here from the CLI), against memory targets
// that record every call: which blobs are checked, which pushed, in what order, and what is stored.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmptyJson, EMPTY_JSON_BYTES, MediaType } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from './pack.js';
import { pushFiles, pushHasher, pushPacked, type PushPackedEvent } from './push-packed.js';
import {
  blobDigests,
  KiB,
  LARGE,
  packFiles,
  recordPush,
  RecordingTarget,
  sha256,
  short,
  SMALL,
  statusLines,
  StreamingTarget,
  TaggingTarget,
} from './testing/push-fixtures.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-push-packed-test-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pushPacked: skipping existence checks on a first push', () => {
  it('checks the config and the first layers, then only every 16th small blob', async () => {
    const { packed, contents } = await packFiles(dir, 'new', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    expect(blobs).toHaveLength(41);
    expect(blobs[0]).toBe(EmptyJson.digest);
    const target = new RecordingTarget();
    const { done, lines } = recordPush(target, packed, { concurrency: 1 });

    await done;

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
    const { packed, contents } = await packFiles(dir, 'concurrent', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new RecordingTarget();
    const { done, lines } = recordPush(target, packed, { concurrency: 5 });

    await done;

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

describe('pushPacked: a re-push', () => {
  it('checks every blob, pushes only the manifest, and says "Exists"', async () => {
    const { packed, contents } = await packFiles(dir, 'again', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new RecordingTarget();
    await recordPush(target, packed, { concurrency: 1 }).done;
    target.resetCalls();
    const stored = new Map(target.blobs);

    const { done, lines } = recordPush(target, packed, { concurrency: 1 });
    await done;

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
    const { packed } = await packFiles(dir, 'again-concurrent', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new RecordingTarget();
    await recordPush(target, packed, { concurrency: 5 }).done;
    target.resetCalls();

    const { done, lines } = recordPush(target, packed, { concurrency: 5 });
    await done;

    expect([...target.existsCalls].sort()).toEqual([...blobs].sort());
    expect(target.pushCalls).toEqual([packed.descriptor.digest]);
    expect(lines().filter((line) => line.startsWith('Exists     '))).toHaveLength(41);
  });

  it('notices a re-push whose first blobs are new through a sampled check', async () => {
    const { packed, contents } = await packFiles(dir, 'partly', Array(40).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new RecordingTarget();
    // The target already holds blob indexes 20 and up (layers 19–39).
    for (const bytes of contents.slice(19)) await target.add(bytes);
    target.resetCalls();

    const { done, lines } = recordPush(target, packed, { concurrency: 1 });
    await done;

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

describe('pushPacked: large blobs', () => {
  it('checks every blob above 256 KiB, however many answers were "absent"', async () => {
    const { packed, contents } = await packFiles(dir, 'large', Array(12).fill(LARGE));
    const blobs = blobDigests(packed);
    const target = new RecordingTarget();
    const { done, lines } = recordPush(target, packed, { concurrency: 1 });

    await done;

    expect(target.existsCalls).toEqual(blobs);
    expect(target.pushCalls).toEqual([...blobs, packed.descriptor.digest]);
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
    expect(lines().filter((line) => line.startsWith('Uploaded   '))).toHaveLength(14);
  });

  it('checks large blobs among small ones while small ones are skipped', async () => {
    // Layer i is large when i % 5 === 4 (layers 4, 9, …, 39), else 4 KiB.
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 5 === 4 ? LARGE : SMALL));
    const { packed, contents } = await packFiles(dir, 'mixed', sizes);
    const blobs = blobDigests(packed);
    const target = new RecordingTarget();

    await recordPush(target, packed, { concurrency: 1 }).done;

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

describe('pushPacked: the manifest', () => {
  it('pushes the manifest and then tags it when the target cannot push by tag', async () => {
    const { packed } = await packFiles(dir, 'tag', [SMALL, SMALL]);
    const target = new RecordingTarget();
    await recordPush(target, packed, { concurrency: 1, tags: ['v1'] }).done;
    expect(target.events.slice(-2)).toEqual([`push ${packed.descriptor.digest}`, 'tag v1']);
    expect((await target.resolve('v1')).digest).toBe(packed.descriptor.digest);
    expect(target.manifests.get(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
  });

  it('pushes by tag in one step when the target can', async () => {
    const { packed } = await packFiles(dir, 'push-tagged', [SMALL, SMALL]);
    const target = new TaggingTarget();
    await recordPush(target, packed, { concurrency: 1, tags: ['v2'] }).done;
    expect(target.pushCalls).toEqual(blobDigests(packed));
    expect(target.events.at(-1)).toBe(`pushTagged ${packed.descriptor.digest} v2`);
    expect((await target.resolve('v2')).digest).toBe(packed.descriptor.digest);
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
    const target = new RecordingTarget();
    const { done, lines } = recordPush(target, packed, { concurrency: 3 });
    await done;
    expect(target.existsCalls.sort()).toEqual([EmptyJson.digest, sha256(bytes)].sort());
    expect(target.pushCalls.slice(0, -1).sort()).toEqual([EmptyJson.digest, sha256(bytes)].sort());
    expect(target.pushCalls.at(-1)).toBe(packed.descriptor.digest);
    expect(lines()).toHaveLength(3);
  });
});

describe('pushPacked: tags and failures', () => {
  it('points the first tag with the manifest and the others after it', async () => {
    const { packed } = await packFiles(dir, 'tags', [SMALL]);
    const target = new TaggingTarget();
    const { done, events } = recordPush(target, packed, { tags: ['a', 'b', 'c'] });
    expect(await done).toEqual(packed.descriptor);
    expect(target.events.slice(-3)).toEqual([
      `pushTagged ${packed.descriptor.digest} a`,
      'tag b',
      'tag c',
    ]);
    for (const tag of ['a', 'b', 'c'])
      expect((await target.resolve(tag)).digest).toBe(packed.descriptor.digest);
    expect(events.at(-1)).toEqual({
      type: 'manifest',
      descriptor: packed.descriptor,
      tags: ['a', 'b', 'c'],
    });
  });

  it('a blob that fails stops the push before the manifest: no manifest, no tag', async () => {
    const { packed, contents } = await packFiles(dir, 'fail', [SMALL, SMALL, SMALL]);
    const broken = sha256(contents[1] as Buffer);
    const target = new (class extends TaggingTarget {
      override async push(...args: Parameters<TaggingTarget['push']>) {
        if (args[0].digest === broken) throw new Error('connection reset');
        return super.push(...args);
      }
    })();
    const { done, events } = recordPush(target, packed, { concurrency: 3, tags: ['v1'] });
    await expect(done).rejects.toThrow('connection reset');
    expect(target.manifests.size).toBe(0);
    expect(await target.tags()).toEqual([]);
    expect(target.events.some((e) => e.startsWith('pushTagged') || e.startsWith('tag'))).toBe(
      false,
    );
    expect(events.some((e) => e.type === 'manifest')).toBe(false);
  });

  it('reports start, progress and uploaded for each blob, exists for what is there', async () => {
    const { packed, contents } = await packFiles(dir, 'events', [LARGE]);
    const target = new RecordingTarget();
    await target.add(EMPTY_JSON_BYTES, MediaType.OciEmpty);
    target.resetCalls();
    const { done, events } = recordPush(target, packed);
    await done;
    const layer = packed.layers[0]?.descriptor;
    expect(events[0]).toEqual({ type: 'exists', descriptor: packed.config.descriptor });
    expect(events[1]).toEqual({ type: 'start', descriptor: layer });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.reduce((sum, e) => sum + e.bytes, 0)).toBe(contents[0]?.byteLength);
    expect(events.at(-2)).toEqual({ type: 'uploaded', descriptor: layer });
    expect(events.at(-1)).toEqual({ type: 'manifest', descriptor: packed.descriptor, tags: [] });
  });
});

describe('pushHasher and pushFiles: uploads started while hashing', () => {
  async function files(name: string, sizes: number[]) {
    const sub = await mkdtemp(join(dir, `${name}-`));
    const contents = sizes.map((size) => randomBytes(size));
    const inputs = await Promise.all(
      contents.map(async (bytes, index) => {
        const path = join(sub, `e${index}.bin`);
        await writeFile(path, bytes);
        return { path, title: `e${index}.bin` };
      }),
    );
    return { inputs, contents };
  }

  it('streams a large file while it is hashed, and does not push it again', async () => {
    const { inputs, contents } = await files('eager', [64 * KiB, SMALL]);
    const [big, small] = contents as [Buffer, Buffer];
    const target = new StreamingTarget();
    const early: string[] = [];
    const hashing = pushHasher(target, {
      concurrency: 2,
      eagerMinSize: 32 * KiB,
      onEarlyStart: (path) => early.push(path),
    });
    const packed = await pack(inputs, { hashFile: hashing.hashFile });
    const events: PushPackedEvent[] = [];
    await pushPacked(target, packed, {
      eager: hashing.eager,
      tags: ['v1'],
      onEvent: (e) => events.push(e),
    });
    expect(early).toEqual([inputs[0]?.path]);
    expect(target.streamed).toEqual([sha256(big)]);
    // Streamed, so neither checked nor pushed by digest; the small one went the usual way.
    expect(target.pushCalls).toEqual([EmptyJson.digest, sha256(small), packed.descriptor.digest]);
    expect(target.existsCalls).not.toContain(sha256(big));
    expect(target.blobs.get(sha256(big))?.equals(big)).toBe(true);
    const uploaded = events.find((e) => e.type === 'uploaded' && e.early);
    expect(uploaded).toMatchObject({ descriptor: { digest: sha256(big) } });
    expect(events.at(-1)?.type).toBe('manifest');
    expect(target.events.slice(-2)).toEqual([`push ${packed.descriptor.digest}`, 'tag v1']);
  });

  it('an upload started early that fails leaves no manifest and no tag', async () => {
    const { inputs } = await files('eager-fail', [64 * KiB]);
    const target = new StreamingTarget();
    target.failStreaming = true;
    const hashing = pushHasher(target, { concurrency: 1, eagerMinSize: 32 * KiB });
    const packed = await pack(inputs, { hashFile: hashing.hashFile });
    await expect(
      pushPacked(target, packed, { eager: hashing.eager, tags: ['v1'] }),
    ).rejects.toThrow('the registry closed the upload');
    await hashing.abort();
    expect(target.manifests.size).toBe(0);
    expect(await target.tags()).toEqual([]);
  });

  it('does not stream to a target that cannot', async () => {
    const hashing = pushHasher(new RecordingTarget(), { concurrency: 2, eagerMinSize: 1 });
    expect(hashing.eager).toBeUndefined();
    expect(pushHasher(undefined, { concurrency: 2 }).eager).toBeUndefined();
  });

  it('pushFiles packs and pushes as `ferry push` does, tags last, staging removed', async () => {
    const { inputs, contents } = await files('push-files', [SMALL, 64 * KiB]);
    const target = new StreamingTarget();
    const events: PushPackedEvent[] = [];
    const pushed = await pushFiles(target, inputs, {
      annotations: { 'org.example': 'yes' },
      tags: ['v1', 'latest'],
      onEvent: (e) => events.push(e),
    });
    expect(pushed.manifest.annotations?.['org.example']).toBe('yes');
    expect(target.manifests.get(pushed.descriptor.digest)?.equals(pushed.manifestBytes)).toBe(true);
    for (const bytes of contents) expect(target.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
    expect(await target.tags()).toEqual(['v1', 'latest']);
    expect(target.events.slice(-3)).toEqual([
      `push ${pushed.descriptor.digest}`,
      'tag v1',
      'tag latest',
    ]);
    expect(statusLines(events).at(-1)).toBe(
      `Uploaded   ${MediaType.OciManifest}  ${short(pushed.descriptor.digest)}`,
    );
  });
});
