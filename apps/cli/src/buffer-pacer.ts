/**
 * Frees the Buffers a transfer has finished with sooner than V8 would on its own.
 *
 * A push reads its file in 1 MiB Buffers and a pull receives 64 KiB ones from the socket; each is
 * garbage once written, but its memory (outside the JS heap) is freed only when a garbage
 * collection finds its small JS object dead. The JS heap fills slowly during a transfer, so V8
 * collects mostly when the Buffers' own total has grown by 64 MiB, and a 512 MiB push peaked at
 * 112 MiB RSS with 23–35 MiB of dead Buffers. A young-generation collection (a scavenge: about a
 * millisecond for ferry's heap) whenever they hold more than `limitBytes` takes it to 98–100 MiB
 * (pull: 108 → 101–105) with no more CPU (BENCHMARKS.md, run J). Tried and left out: full
 * collections (83–91 MiB, but 30–60% more CPU), collecting only on growth beyond what the last
 * collection left (106–109 MiB), a 24 MiB limit (108), and `--semi-space-growth-factor=1`
 * (a further 4–10 MiB, but two of three 1 GiB pulls took 50% more CPU).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface BufferPacerOptions {
  /** Collect when Buffers (ArrayBuffers) hold more than this. Default 16 MiB. */
  limitBytes?: number;
  /** How often to look. Default 50 ms: at 150 MB/s, 7.5 MB between looks. */
  intervalMs?: number;
  /** Bytes held by ArrayBuffers now (default: process.memoryUsage().arrayBuffers). */
  arrayBuffers?: () => number;
  /** Runs a young-generation collection (default: V8's, see youngCollector). */
  collect?: () => void;
}

export const BUFFER_PACER_LIMIT = 16 * 1024 * 1024;
export const BUFFER_PACER_INTERVAL_MS = 50;

/**
 * V8's `gc({ type: 'minor' })`, taken from a fresh context with --expose-gc set for that moment
 * only, so that the process's own global has no `gc`. Undefined if this V8 does not offer it.
 */
export function youngCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return undefined;
    return () => (gc as (options: { type: string }) => void)({ type: 'minor' });
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Starts looking every `intervalMs` and collecting when Buffers hold more than `limitBytes`.
 * The timer does not keep the process alive. Returns a function that stops it.
 */
export function paceBufferCollection(options: BufferPacerOptions = {}): () => void {
  const collect = options.collect ?? youngCollector();
  if (!collect) return () => {};
  const limit = options.limitBytes ?? BUFFER_PACER_LIMIT;
  const arrayBuffers = options.arrayBuffers ?? (() => process.memoryUsage().arrayBuffers);
  const timer = setInterval(() => {
    if (arrayBuffers() > limit) collect();
  }, options.intervalMs ?? BUFFER_PACER_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
