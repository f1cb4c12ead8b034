import { describe, expect, it } from 'vitest';
import { limit, limitBySize, LARGE_TRANSFER_MIN_SIZE } from './limit.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (setImmediate comes after all microtasks). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Tasks that start, record themselves and then wait until the test releases them. Names starting
 * with `L` are large, others small.
 */
class Probe {
  readonly running = new Set<string>();
  readonly started: string[] = [];
  readonly finished: string[] = [];
  maxRunning = 0;
  maxLarge = 0;
  readonly #gates = new Map<string, Deferred<string>>();

  static isLarge(name: string): boolean {
    return name.startsWith('L');
  }

  get large(): string[] {
    return [...this.running].filter(Probe.isLarge).sort();
  }

  get small(): string[] {
    return [...this.running].filter((name) => !Probe.isLarge(name)).sort();
  }

  task(name: string): () => Promise<string> {
    return async () => {
      if (this.started.includes(name)) throw new Error(`${name} started twice`);
      this.started.push(name);
      this.running.add(name);
      this.maxRunning = Math.max(this.maxRunning, this.running.size);
      this.maxLarge = Math.max(this.maxLarge, this.large.length);
      const gate = deferred<string>();
      this.#gates.set(name, gate);
      try {
        return await gate.promise;
      } finally {
        this.running.delete(name);
        this.finished.push(name);
      }
    };
  }

  #gate(name: string): Deferred<string> {
    const gate = this.#gates.get(name);
    if (!gate || !this.running.has(name)) throw new Error(`${name} is not running`);
    return gate;
  }

  release(name: string): void {
    this.#gate(name).resolve(`${name} done`);
  }

  fail(name: string, error: Error): void {
    this.#gate(name).reject(error);
  }
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('limit', () => {
  it('runs tasks one at a time for NaN, instead of never', async () => {
    const run = limit(Number.NaN);
    const probe = new Probe();
    const results = ['a', 'b'].map((name) => run(probe.task(name)));
    await flush();
    expect([...probe.running]).toEqual(['a']);
    probe.release('a');
    await flush();
    expect([...probe.running]).toEqual(['b']);
    probe.release('b');
    await Promise.all(results);
  });

  it('runs every task at once for Infinity (no limit)', async () => {
    const run = limit(Number.POSITIVE_INFINITY);
    const probe = new Probe();
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const results = names.map((name) => run(probe.task(name)));
    await flush();
    expect([...probe.running]).toEqual(names);
    for (const name of names) probe.release(name);
    await Promise.all(results);
  });

  it('never runs more than n tasks at once, and starts a waiter as each one ends', async () => {
    const run = limit(2);
    const probe = new Probe();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const results = names.map((name) => run(probe.task(name)));
    await flush();
    expect([...probe.running]).toEqual(['a', 'b']);
    expect(probe.started).toEqual(['a', 'b']);

    probe.release('a');
    await flush();
    expect([...probe.running].sort()).toEqual(['b', 'c']);

    probe.release('c');
    await flush();
    expect([...probe.running].sort()).toEqual(['b', 'd']);

    probe.release('b');
    probe.release('d');
    await flush();
    expect([...probe.running]).toEqual(['e']);

    probe.release('e');
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.maxRunning).toBe(2);
    expect(probe.started).toEqual(names);
    expect(probe.running.size).toBe(0);
  });

  it('starts waiters in the order they came, whichever running task ends first', async () => {
    const run = limit(2);
    const probe = new Probe();
    const names = ['t0', 't1', 't2', 't3', 't4', 't5'];
    const results = names.map((name) => run(probe.task(name)));
    await flush();
    expect(probe.started).toEqual(['t0', 't1']);

    // End the newest running task each time: the waiters still start oldest first.
    for (const next of ['t2', 't3', 't4', 't5']) {
      const newest = probe.started.filter((name) => probe.running.has(name)).at(-1);
      probe.release(newest as string);
      await flush();
      expect(probe.started.at(-1)).toBe(next);
      expect(probe.running.size).toBe(2);
    }
    for (const name of [...probe.running]) probe.release(name);
    await Promise.all(results);
    expect(probe.started).toEqual(names);
    expect(probe.maxRunning).toBe(2);
  });

  it('with one slot, runs tasks strictly one after another in order', async () => {
    const run = limit(1);
    const probe = new Probe();
    const names = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const results = names.map((name) => run(probe.task(name)));
    for (const name of names) {
      await flush();
      expect([...probe.running]).toEqual([name]);
      probe.release(name);
    }
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.finished).toEqual(names);
    expect(probe.maxRunning).toBe(1);
  });

  it('hands a freed slot to the waiter, not to a task queued after it ended', async () => {
    const run = limit(1);
    const probe = new Probe();
    const first = run(probe.task('first'));
    const waiter = run(probe.task('waiter'));
    await flush();
    probe.release('first');
    expect(await first).toBe('first done');
    // The slot is on its way to `waiter`; a newcomer must queue behind it.
    const newcomer = run(probe.task('newcomer'));
    await flush();
    expect([...probe.running]).toEqual(['waiter']);
    probe.release('waiter');
    await flush();
    expect([...probe.running]).toEqual(['newcomer']);
    probe.release('newcomer');
    expect(await Promise.all([waiter, newcomer])).toEqual(['waiter done', 'newcomer done']);
    expect(probe.started).toEqual(['first', 'waiter', 'newcomer']);
    expect(probe.maxRunning).toBe(1);
  });

  it('frees the slot of a task that rejects, and passes the rejection to its caller', async () => {
    const run = limit(1);
    const probe = new Probe();
    const failing = run(probe.task('bad'));
    const after = run(probe.task('good'));
    await flush();
    expect([...probe.running]).toEqual(['bad']);
    const boom = new Error('boom');
    probe.fail('bad', boom);
    await expect(failing).rejects.toBe(boom);
    await flush();
    expect([...probe.running]).toEqual(['good']);
    probe.release('good');
    expect(await after).toBe('good done');
    expect(probe.maxRunning).toBe(1);
  });

  it('frees the slot of a task that throws before returning a promise', async () => {
    const run = limit(1);
    const probe = new Probe();
    const thrown = new Error('sync');
    const failing = run((): Promise<string> => {
      throw thrown;
    });
    const after = run(probe.task('next'));
    await expect(failing).rejects.toBe(thrown);
    await flush();
    expect([...probe.running]).toEqual(['next']);
    probe.release('next');
    expect(await after).toBe('next done');
  });

  it('keeps running after many failures: every slot comes back', async () => {
    const run = limit(3);
    const probe = new Probe();
    const names = Array.from({ length: 9 }, (_, i) => `t${i}`);
    const settled = Promise.allSettled(names.map((name) => run(probe.task(name))));
    for (let round = 0; round < 3; round++) {
      await flush();
      expect(probe.running.size).toBe(3);
      for (const name of [...probe.running]) probe.fail(name, new Error(name));
    }
    const outcomes = await settled;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(names.map(() => 'rejected'));
    expect(probe.started).toEqual(names);
    expect(probe.maxRunning).toBe(3);
    // And the limiter still works afterwards.
    const later = run(probe.task('later'));
    await flush();
    expect([...probe.running]).toEqual(['later']);
    probe.release('later');
    expect(await later).toBe('later done');
  });

  it.each([
    [0, 1],
    [-3, 1],
    [0.5, 1],
    [2.7, 2],
    [3, 3],
  ])('limit(%s) runs %s at once', async (concurrency, expected) => {
    const run = limit(concurrency);
    const probe = new Probe();
    const names = Array.from({ length: 6 }, (_, i) => `t${i}`);
    const results = names.map((name) => run(probe.task(name)));
    await flush();
    expect(probe.running.size).toBe(expected);
    expect(probe.started).toEqual(names.slice(0, expected));
    while (probe.finished.length < names.length) {
      for (const name of [...probe.running]) probe.release(name);
      await flush();
      expect(probe.running.size).toBeLessThanOrEqual(expected);
    }
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.maxRunning).toBe(expected);
  });

  it('gives each limiter its own slots', async () => {
    const one = limit(1);
    const two = limit(1);
    const probe = new Probe();
    const a = one(probe.task('a'));
    const b = two(probe.task('b'));
    await flush();
    expect([...probe.running].sort()).toEqual(['a', 'b']);
    probe.release('a');
    probe.release('b');
    expect(await Promise.all([a, b])).toEqual(['a done', 'b done']);
  });
});

describe('limitBySize', () => {
  it('puts the small-blob boundary at 1 MiB', () => {
    expect(LARGE_TRANSFER_MIN_SIZE).toBe(1024 * 1024);
  });

  it('lets small tasks run while large ones wait for the one large slot', async () => {
    const run = limitBySize(4, 1);
    const probe = new Probe();
    const names = ['L0', 'L1', 'L2', 'S0', 'S1', 'S2'];
    const results = names.map((name) => run(Probe.isLarge(name), probe.task(name)));
    await flush();
    expect(probe.large).toEqual(['L0']);
    expect(probe.small).toEqual(['S0', 'S1', 'S2']);
    expect(probe.running.size).toBe(4);

    // A small one ending frees a general slot, but the large ones still wait for theirs.
    probe.release('S0');
    await flush();
    expect(probe.large).toEqual(['L0']);
    expect(probe.small).toEqual(['S1', 'S2']);

    // The large slot passes to the next large task, in order.
    probe.release('L0');
    await flush();
    expect(probe.large).toEqual(['L1']);
    probe.release('L1');
    await flush();
    expect(probe.large).toEqual(['L2']);

    for (const name of ['L2', 'S1', 'S2']) probe.release(name);
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.maxLarge).toBe(1);
    expect(probe.maxRunning).toBe(4);
    expect(probe.started.filter(Probe.isLarge)).toEqual(['L0', 'L1', 'L2']);
  });

  it('runs at most `total` tasks in all, small ones included', async () => {
    const run = limitBySize(3, 2);
    const probe = new Probe();
    const names = ['S0', 'S1', 'S2', 'S3', 'S4', 'L0', 'L1'];
    const results = names.map((name) => run(Probe.isLarge(name), probe.task(name)));
    await flush();
    expect(probe.small).toEqual(['S0', 'S1', 'S2']);
    expect(probe.large).toEqual([]);

    // Freed general slots go to the tasks waiting for one, in order: S3, then S4.
    probe.release('S0');
    await flush();
    expect(probe.small).toEqual(['S1', 'S2', 'S3']);
    probe.release('S1');
    probe.release('S2');
    await flush();
    expect(probe.small).toEqual(['S3', 'S4']);
    expect(probe.large).toEqual(['L0']);
    expect(probe.running.size).toBe(3);

    probe.release('S3');
    await flush();
    expect(probe.large).toEqual(['L0', 'L1']);
    expect(probe.running.size).toBe(3);

    for (const name of ['S4', 'L0', 'L1']) probe.release(name);
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.maxRunning).toBe(3);
    expect(probe.maxLarge).toBe(2);
  });

  it('runs a large task once a general slot frees, when small ones filled them all', async () => {
    const run = limitBySize(2, 2);
    const probe = new Probe();
    const s0 = run(false, probe.task('S0'));
    const s1 = run(false, probe.task('S1'));
    const l0 = run(true, probe.task('L0'));
    await flush();
    expect(probe.small).toEqual(['S0', 'S1']);
    expect(probe.large).toEqual([]);
    probe.release('S0');
    await flush();
    expect(probe.large).toEqual(['L0']);
    expect(probe.small).toEqual(['S1']);
    probe.release('S1');
    probe.release('L0');
    expect(await Promise.all([s0, s1, l0])).toEqual(['S0 done', 'S1 done', 'L0 done']);
    expect(probe.maxRunning).toBe(2);
  });

  it('caps `large` at `total`', async () => {
    const run = limitBySize(2, 10);
    const probe = new Probe();
    const names = ['L0', 'L1', 'L2', 'L3', 'L4'];
    const results = names.map((name) => run(true, probe.task(name)));
    await flush();
    expect(probe.large).toEqual(['L0', 'L1']);
    while (probe.finished.length < names.length) {
      for (const name of [...probe.running]) probe.release(name);
      await flush();
      expect(probe.running.size).toBeLessThanOrEqual(2);
    }
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.maxLarge).toBe(2);
    expect(probe.maxRunning).toBe(2);
    expect(probe.started).toEqual(names);
  });

  it('with `large` equal to `total`, treats both kinds alike', async () => {
    const run = limitBySize(3, 3);
    const probe = new Probe();
    const names = ['L0', 'S0', 'L1', 'S1', 'L2', 'S2'];
    const results = names.map((name) => run(Probe.isLarge(name), probe.task(name)));
    await flush();
    expect(probe.started).toEqual(['L0', 'S0', 'L1']);
    for (const name of ['L0', 'S0', 'L1']) probe.release(name);
    await flush();
    expect(probe.started).toEqual(names);
    for (const name of ['S1', 'L2', 'S2']) probe.release(name);
    expect(await Promise.all(results)).toEqual(names.map((name) => `${name} done`));
    expect(probe.maxRunning).toBe(3);
  });

  it('frees both slots of a large task that rejects', async () => {
    const run = limitBySize(2, 1);
    const probe = new Probe();
    const bad = run(true, probe.task('L0'));
    const next = run(true, probe.task('L1'));
    const small = run(false, probe.task('S0'));
    const waiting = run(false, probe.task('S1'));
    await flush();
    expect(probe.large).toEqual(['L0']);
    expect(probe.small).toEqual(['S0']);
    const boom = new Error('large failed');
    probe.fail('L0', boom);
    await expect(bad).rejects.toBe(boom);
    await flush();
    // Its general slot went to S1, queued there first; its large slot to L1, which now waits
    // for a general one.
    expect(probe.small).toEqual(['S0', 'S1']);
    expect(probe.large).toEqual([]);
    probe.release('S0');
    await flush();
    expect(probe.large).toEqual(['L1']);
    expect(probe.small).toEqual(['S1']);
    probe.release('L1');
    probe.release('S1');
    expect(await Promise.all([next, small, waiting])).toEqual(['L1 done', 'S0 done', 'S1 done']);
    expect(probe.maxLarge).toBe(1);
    expect(probe.maxRunning).toBe(2);
  });

  it.each([1, 2, 3])(
    'finishes 50 mixed tasks released in random order without deadlock (seed %s)',
    async (seed) => {
      const next = random(seed);
      const total = 4;
      const largeSlots = 2;
      const run = limitBySize(total, largeSlots);
      const probe = new Probe();
      const names = Array.from({ length: 50 }, (_, i) => `${next() < 0.5 ? 'L' : 'S'}${i}`);
      // Settled from the start, so that the rejections of failed tasks are always handled.
      const settled = Promise.allSettled(
        names.map((name) => run(Probe.isLarge(name), probe.task(name))),
      );
      let rounds = 0;
      while (probe.finished.length < names.length) {
        await flush();
        // Never over either limit, and never idle while something still waits.
        expect(probe.running.size).toBeLessThanOrEqual(total);
        expect(probe.large.length).toBeLessThanOrEqual(largeSlots);
        const waiting = names.filter((name) => !probe.started.includes(name));
        const canStart = waiting.some(
          (name) => !Probe.isLarge(name) || probe.large.length < largeSlots,
        );
        if (canStart) expect(probe.running.size).toBe(total);
        const running = [...probe.running];
        if (running.length === 0) {
          expect(probe.finished.length).toBe(names.length);
          break;
        }
        // Release one or two running tasks, picked at random.
        const releases = Math.min(running.length, 1 + Math.floor(next() * 2));
        for (let i = 0; i < releases; i++) {
          const pick = running.splice(Math.floor(next() * running.length), 1)[0] as string;
          if (next() < 0.1) probe.fail(pick, new Error(pick));
          else probe.release(pick);
        }
        rounds++;
        expect(rounds).toBeLessThan(200);
      }
      const outcomes = await settled;
      expect(probe.finished).toHaveLength(50);
      expect(new Set(probe.started).size).toBe(50);
      expect(probe.maxRunning).toBe(total);
      expect(probe.maxLarge).toBe(largeSlots);
      for (const [index, outcome] of outcomes.entries()) {
        const name = names[index] as string;
        if (outcome.status === 'fulfilled') expect(outcome.value).toBe(`${name} done`);
        else expect((outcome.reason as Error).message).toBe(name);
      }
      // Each kind still starts in the order it was queued.
      expect(probe.started.filter(Probe.isLarge)).toEqual(names.filter(Probe.isLarge));
      const isSmall = (name: string) => !Probe.isLarge(name);
      expect(probe.started.filter(isSmall)).toEqual(names.filter(isSmall));
    },
  );
});
