// pushPacked's worker pool: how many blobs are in flight at once (small ones up to `total`,
// large ones up to `concurrency`), in what order they start, and that every push still ends
// complete with the manifest last. Pushes are held back by the target until the test releases them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmptyJson, MediaType, type Descriptor } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_TRANSFER_MIN_SIZE } from './limit.js';
import type { PackedArtifact } from './pack.js';
import type { Content, PushOptions } from './target.js';
import {
  blobDigests,
  BlockingTarget,
  flush,
  packFiles,
  RecordingTarget,
  recordPush,
  sha256,
  short,
  SMALL,
} from './testing/push-fixtures.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-push-pool-test-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Runs an upload to its end, releasing one push at a time (`pick` chooses which; the oldest by
 * default) and calling `check` whenever the pushes in flight have settled.
 */
async function drive(
  target: BlockingTarget,
  uploading: Promise<unknown>,
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

describe('pushPacked: small blobs beside large ones (total)', () => {
  const limits = (concurrency: number, total?: number) => ({
    concurrency,
    ...(total !== undefined ? { total } : {}),
  });

  it('uploads `total` small blobs at once', async () => {
    const { packed, contents } = await packFiles(dir, 'total-small', Array(10).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(2, 6));
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
    const { packed, contents } = await packFiles(dir, 'total-large', sizes);
    const blobs = blobDigests(packed);
    const large = blobs.slice(1);
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(2, 6));
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
    const { packed, contents } = await packFiles(dir, 'total-boundary', sizes);
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(1, 6));
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
    const { packed, contents } = await packFiles(dir, 'total-mixed', sizes);
    const blobs = blobDigests(packed);
    const at = (index: number) => blobs[index] as string;
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(2, 6));
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
    const { packed, contents } = await packFiles(dir, 'no-total', Array(10).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(3));
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
    const { packed, contents } = await packFiles(dir, 'no-total-mixed', sizes);
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(2));
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
    const { packed, contents } = await packFiles(dir, 'total-below', Array(10).fill(SMALL));
    const blobs = blobDigests(packed);
    const target = new BlockingTarget();
    const { done: uploading, lines } = recordPush(target, packed, limits(4, 2));
    await flush();
    expect(target.started).toEqual(blobs.slice(0, 4));
    await drive(target, uploading, () => expect(target.inFlight.size).toBeLessThanOrEqual(4));
    expect(target.maxInFlight).toBe(4);
    expectComplete(target, packed, contents, lines);
  });
});

/** Holds every blob push until its signal aborts; the one named `bad` fails once others wait. */
class FailFastTarget extends RecordingTarget {
  readonly started: string[] = [];
  readonly aborted: string[] = [];
  #waiting = 0;
  constructor(readonly bad: string) {
    super();
  }

  override async push(descriptor: Descriptor, content: Content, options?: PushOptions) {
    if (descriptor.mediaType === MediaType.OciManifest)
      return super.push(descriptor, content, options);
    this.started.push(descriptor.digest);
    if (descriptor.digest === this.bad) {
      // Fail only once the other workers have their pushes in flight.
      while (this.#waiting < 3) await flush();
      throw new Error('upload refused by the registry');
    }
    this.#waiting++;
    const signal = options?.signal;
    await new Promise<void>((resolve, reject) => {
      // Never released: without the fail-fast stop the push hangs here and the test times out.
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', () => {
        this.aborted.push(descriptor.digest);
        reject(signal.reason);
      });
    });
  }
}

describe('pushPacked stops the other uploads when one fails', () => {
  it('aborts the pushes in flight, starts no more, writes no manifest, and reports the first failure', async () => {
    const { packed } = await packFiles(dir, 'fail-fast', Array(12).fill(SMALL));
    const digests = blobDigests(packed);
    const target = new FailFastTarget(digests[1]!);
    const { done } = recordPush(target, packed, { concurrency: 3, total: 4 });
    await expect(done).rejects.toThrow('upload refused by the registry');
    await flush();
    // Four workers: the bad blob and three others began; the three were stopped, none began later.
    expect(target.started).toHaveLength(4);
    expect(target.aborted.sort()).toEqual(target.started.filter((d) => d !== digests[1]).sort());
    expect(target.pushCalls.filter((d) => !(digests as string[]).includes(d))).toEqual([]);
    expect(await target.tags()).toEqual([]);
  });
});
