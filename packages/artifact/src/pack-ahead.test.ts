// pack() hashes regular files ahead of its loop: small ones several at once, large ones one at a
// time; layers still come out in input order, and a failure stops the rest.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, type Digest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileHasher } from './digest-cache.js';
import { digestFile, pack } from './pack.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-pack-ahead-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A hasher whose calls wait until the test releases them, recording how many run at once. */
class HeldHasher {
  running = new Set<string>();
  peak = 0;
  peakLarge = 0;
  /** Small files that started hashing while a large one was being hashed. */
  smallBesideLarge: string[] = [];
  started: string[] = [];
  signals = new Map<string, AbortSignal | undefined>();
  #release = new Map<string, (fail?: Error) => void>();

  readonly hash: FileHasher = async (path, signal, size) => {
    const name = path.slice(dir.length + 1);
    this.started.push(name);
    this.signals.set(name, signal);
    this.running.add(name);
    this.peak = Math.max(this.peak, this.running.size);
    const large = [...this.running].filter((n) => n.startsWith('large')).length;
    if (name.startsWith('small') && large > 0) this.smallBesideLarge.push(name);
    this.peakLarge = Math.max(this.peakLarge, large);
    const fail = await new Promise<Error | undefined>((resolve) =>
      this.#release.set(name, resolve),
    );
    this.running.delete(name);
    if (fail) throw fail;
    expect(typeof size).toBe('number');
    return digestFile(path, signal, size);
  };

  release(name: string, fail?: Error): void {
    const release = this.#release.get(name);
    if (!release) throw new Error(`${name} is not waiting`);
    this.#release.delete(name);
    release(fail);
  }

  get waiting(): string[] {
    return [...this.#release.keys()];
  }
}

/** Calls `step` whenever the hasher may have new waiters (stat runs on the thread pool) until done. */
async function releaseUntil<T>(work: Promise<T>, step: () => void): Promise<T> {
  let done = false;
  void work.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    step();
  }
  return work;
}

async function files(names: string[]): Promise<{ path: string; title: string }[]> {
  const inputs = [];
  for (const name of names) {
    const path = join(dir, name);
    await writeFile(path, name);
    // "large…" files are sparse, 2 MiB: at or above the 1 MiB line.
    if (name.startsWith('large')) await truncate(path, 2 * 1024 * 1024);
    inputs.push({ path, title: name });
  }
  return inputs;
}

describe('pack: hashing ahead', () => {
  it('hashes up to 8 small files at once and keeps the input order, whatever order they finish in', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `small-${String(i).padStart(2, '0')}`);
    const hasher = new HeldHasher();
    const packing = pack(await files(names), { hashFile: hasher.hash });
    // Release in reverse order of arrival, a full batch at a time (8, or all that are left).
    let released = 0;
    const packed = await releaseUntil(packing, () => {
      if (hasher.waiting.length < Math.min(8, names.length - released)) return;
      for (const name of [...hasher.waiting].reverse()) {
        hasher.release(name);
        released++;
      }
    });
    // Eight at once, never more: the batch filled, and the ninth waited for a slot.
    expect(hasher.peak).toBe(8);
    expect(hasher.started.sort()).toEqual(names);
    expect(
      packed.layers.map((l) => l.descriptor.annotations?.['org.opencontainers.image.title']),
    ).toEqual(names);
    expect(packed.layers.map((l) => l.descriptor.digest)).toEqual(
      names.map((n) => computeDigest(n) as Digest),
    );
  });

  it('hashes files of 1 MiB and more one at a time, while small ones go on', async () => {
    const names = ['large-a', 'small-a', 'large-b', 'small-b', 'large-c', 'small-c'];
    const hasher = new HeldHasher();
    const packing = pack(await files(names), { hashFile: hasher.hash });
    const packed = await releaseUntil(packing, () => {
      const [first] = hasher.waiting.filter((n) => n.startsWith('large'));
      for (const name of hasher.waiting.filter((n) => n.startsWith('small'))) hasher.release(name);
      if (first) hasher.release(first);
    });
    expect(hasher.peakLarge).toBe(1);
    expect(hasher.smallBesideLarge).toContain('small-a');
    expect(packed.layers.map((l) => l.descriptor.size)).toEqual(
      names.map((n) => (n.startsWith('large') ? 2 * 1024 * 1024 : n.length)),
    );
  });

  it('queues files for hashing in input order, whatever order their stats come back in', async () => {
    // Stats run on the thread pool and finish in any order; the first eight hashed must still be
    // the first eight files, or pack's loop (which awaits in input order) waits on a queued file.
    const names = Array.from({ length: 64 }, (_, i) => `small-${String(i).padStart(2, '0')}`);
    for (let round = 0; round < 5; round++) {
      const hasher = new HeldHasher();
      const packing = pack(await files(names), { hashFile: hasher.hash });
      while (hasher.waiting.length < 8) await new Promise((resolve) => setTimeout(resolve, 2));
      await flush();
      expect(hasher.waiting.sort()).toEqual(names.slice(0, 8));
      const packed = await releaseUntil(packing, () => {
        for (const name of hasher.waiting) hasher.release(name);
      });
      expect(hasher.started).toEqual(names);
      expect(packed.layers).toHaveLength(64);
    }
  });

  it('fails with the first failing file in input order and aborts the hashing still going', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `small-${String(i).padStart(2, '0')}`);
    const hasher = new HeldHasher();
    const packing = pack(await files(names), { hashFile: hasher.hash });
    packing.catch(() => {});
    while (hasher.waiting.length < 8) await new Promise((resolve) => setTimeout(resolve, 2));
    await flush();
    // The ninth waits for a slot.
    expect(hasher.waiting).toHaveLength(8);
    // small-03 fails; small-05 fails too but comes later; the rest are still waiting.
    hasher.release('small-05', new Error('second failure'));
    hasher.release('small-03', new Error('first failure'));
    for (const name of ['small-00', 'small-01', 'small-02']) hasher.release(name);
    await expect(packing).rejects.toThrow('first failure');
    // What was still hashing sees its signal aborted.
    expect(hasher.signals.get('small-07')?.aborted).toBe(true);
    for (const name of hasher.waiting) hasher.release(name);
    await flush();
  });

  it('reports a missing file by name even while others hash', async () => {
    const inputs = await files(['small-a', 'small-b']);
    inputs.splice(1, 0, { path: join(dir, 'missing.bin'), title: 'missing.bin' });
    await expect(pack(inputs)).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
  });
});
