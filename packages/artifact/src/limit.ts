/**
 * A counting semaphore: at most `concurrency` tasks run at once; the rest wait in order. A
 * finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
 * Tasks must not wait on other limited tasks while holding a slot, or the pool can deadlock.
 */
export function limit(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  // NaN (a bad flag that slipped through) must not leave every task waiting forever; Infinity
  // means no limit.
  const slots = Number.isNaN(concurrency) ? 1 : Math.max(1, Math.floor(concurrency));
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < slots) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * Where a transfer counts as large: below this size a blob's transfer is bound by round trips
 * rather than bytes and holds no large buffers, so callers allow more of them at once (the
 * small-blob pool) than of large ones. Not to be confused with the cache's CACHE_BYPASS_MAX_SIZE.
 */
export const LARGE_TRANSFER_MIN_SIZE = 1024 * 1024;

/**
 * Two nested limits: at most `total` tasks at once, of which at most `large` are large. A large
 * task takes its large slot before a general one, and small tasks never wait for large slots, so
 * the pair cannot deadlock.
 */
export function limitBySize(
  total: number,
  large: number,
): <T>(isLarge: boolean, task: () => Promise<T>) => Promise<T> {
  const all = limit(total);
  const big = limit(Math.min(large, total));
  return (isLarge, task) => (isLarge ? big(() => all(task)) : all(task));
}
