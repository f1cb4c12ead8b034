import type { FileHandle } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BackgroundSync } from './background-sync.js';

/** A stand-in handle whose fdatasyncs are held until the test settles them, one by one. */
function heldHandle() {
  const calls: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let pending = 0;
  let mostAtOnce = 0;
  const handle = {
    datasync: () =>
      new Promise<void>((resolve, reject) => {
        mostAtOnce = Math.max(mostAtOnce, ++pending);
        calls.push({
          resolve: () => {
            pending--;
            resolve();
          },
          reject: (error) => {
            pending--;
            reject(error);
          },
        });
      }),
  } as unknown as FileHandle;
  return {
    handle,
    calls,
    get pending() {
      return pending;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
  };
}

const eio = () => Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
const settledState = (promise: Promise<void>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  return () => state;
};

describe('BackgroundSync', () => {
  it('starts a sync each time `every` bytes were written, counting writes of any size', () => {
    const held = heldHandle();
    const sync = new BackgroundSync(held.handle, 100);
    sync.wrote(60);
    expect(held.calls).toHaveLength(0);
    sync.wrote(40);
    expect(held.calls).toHaveLength(1);
    held.calls[0]?.resolve();
  });

  it('never runs two at once: bytes written meanwhile start the next one on the first write after', async () => {
    const held = heldHandle();
    const sync = new BackgroundSync(held.handle, 100);
    sync.wrote(100);
    sync.wrote(250);
    sync.wrote(10);
    expect(held.calls).toHaveLength(1);
    held.calls[0]?.resolve();
    await sync.settled();
    // 260 bytes waited: one more write starts the second sync at once.
    sync.wrote(1);
    expect(held.calls).toHaveLength(2);
    held.calls[1]?.resolve();
    await sync.settled();
    expect(held.mostAtOnce).toBe(1);
  });

  it('settled() waits for the sync in flight', async () => {
    const held = heldHandle();
    const sync = new BackgroundSync(held.handle, 10);
    sync.wrote(10);
    const state = settledState(sync.settled());
    await new Promise((resolve) => setImmediate(resolve));
    expect(state()).toBe('pending');
    held.calls[0]?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(state()).toBe('resolved');
    expect(held.pending).toBe(0);
  });

  it('a failed sync is reported once, to onFailure at once and by settled() and check(), and no other starts', async () => {
    const held = heldHandle();
    const heard: unknown[] = [];
    const sync = new BackgroundSync(held.handle, 10, (error) => heard.push(error));
    sync.wrote(10);
    const error = eio();
    held.calls[0]?.reject(error);
    await expect(sync.settled()).rejects.toBe(error);
    expect(heard).toEqual([error]);
    expect(sync.failure).toEqual({ error });
    expect(() => sync.check()).toThrow(error);
    sync.wrote(100);
    expect(held.calls).toHaveLength(1);
  });

  it('with every 0 or undefined never syncs', async () => {
    const held = heldHandle();
    for (const every of [0, undefined]) {
      const sync = new BackgroundSync(held.handle, every);
      sync.wrote(1e12);
      await sync.settled();
    }
    expect(held.calls).toHaveLength(0);
  });
});
