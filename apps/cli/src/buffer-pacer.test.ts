import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { paceBufferCollection, youngCollector } from './buffer-pacer.js';

describe('paceBufferCollection', () => {
  it('collects at each look while Buffers hold more than the limit, and not otherwise', () => {
    vi.useFakeTimers();
    try {
      const held = [4, 20, 20, 8, 17];
      let look = 0;
      const collect = vi.fn();
      const stop = paceBufferCollection({
        limitBytes: 16,
        intervalMs: 50,
        arrayBuffers: () => held[look++] ?? 0,
        collect,
      });
      vi.advanceTimersByTime(49);
      expect(look).toBe(0);
      vi.advanceTimersByTime(1);
      expect(collect).toHaveBeenCalledTimes(0); // 4 ≤ 16
      vi.advanceTimersByTime(100);
      expect(collect).toHaveBeenCalledTimes(2); // 20, 20
      vi.advanceTimersByTime(100);
      expect(collect).toHaveBeenCalledTimes(3); // 8, then 17
      stop();
      vi.advanceTimersByTime(1000);
      expect(look).toBe(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not keep the process alive', () => {
    const timers: NodeJS.Timeout[] = [];
    const original = globalThis.setInterval;
    const spy = vi.spyOn(globalThis, 'setInterval').mockImplementation(((
      handler: () => void,
      ms: number,
    ) => {
      const timer = original(handler, ms);
      timers.push(timer);
      return timer;
    }) as typeof setInterval);
    try {
      const stop = paceBufferCollection({ collect: () => {} });
      expect(timers).toHaveLength(1);
      expect(timers[0]?.hasRef()).toBe(false);
      stop();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('youngCollector', () => {
  it("runs V8's young-generation collection (a scavenge), without leaving a global gc", async () => {
    const collect = youngCollector();
    expect(collect).toBeTypeOf('function');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const seen = new Promise<number[]>((resolve) => {
      const observer = new PerformanceObserver((list) => {
        observer.disconnect();
        resolve(
          list
            .getEntries()
            .map((entry) => (entry as PerformanceEntry & { detail: { kind: number } }).detail.kind),
        );
      });
      observer.observe({ entryTypes: ['gc'] });
    });
    collect?.();
    expect(await seen).toContain(constants.NODE_PERFORMANCE_GC_MINOR);
  });
});
