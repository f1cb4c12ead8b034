/**
 * A counting semaphore: at most `concurrency` tasks run at once; the rest wait in order. A
 * finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
 * Tasks must not wait on other limited tasks while holding a slot, or the pool can deadlock.
 */
export function limit(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  const slots = Math.max(1, Math.floor(concurrency));
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
