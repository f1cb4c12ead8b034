/**
 * fdatasync in the background while a file is still being written, for a sequential writer and
 * for many positional writers alike: every `every` bytes written in all (never two syncs at once)
 * one starts, and the writer waits for the last one before its final fsync. The disk then takes
 * the file while the rest still downloads, and the final fsync flushes only the tail. On a machine
 * with plenty of memory the kernel starts writing back only at 10% of it dirty, so without this a
 * 1 GiB pull wrote nothing to disk until its final fsync (0.6 s of a 3.4 s floor; with a sync
 * every 32 MiB: 0.02 s — BENCHMARKS.md, run K).
 */
import type { FileHandle } from 'node:fs/promises';

/** What the downloads write between two background syncs by default. */
export const DEFAULT_SYNC_EVERY = 32 * 1024 * 1024;

export class BackgroundSync {
  readonly #handle: FileHandle;
  readonly #every: number;
  readonly #onFailure: ((error: unknown) => void) | undefined;
  #unsynced = 0;
  #syncing: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  /**
   * Syncs `handle` every `every` bytes written (0 or undefined: never). `onFailure` hears of the
   * first sync that fails, as soon as it does (to stop writers that may not write again soon).
   */
  constructor(handle: FileHandle, every: number | undefined, onFailure?: (error: unknown) => void) {
    this.#handle = handle;
    this.#every = every ?? 0;
    this.#onFailure = onFailure;
  }

  /** `bytes` more were written; starts a sync when enough were since the last one began. */
  wrote(bytes: number): void {
    if (this.#every <= 0 || this.#failure) return;
    this.#unsynced += bytes;
    // With one in flight the count goes on, and the first write after it starts the next.
    if (this.#unsynced < this.#every || this.#syncing) return;
    this.#unsynced = 0;
    this.#syncing = this.#handle.datasync().then(
      () => {
        this.#syncing = undefined;
      },
      (error: unknown) => {
        this.#syncing = undefined;
        if (this.#failure) return;
        this.#failure = { error };
        this.#onFailure?.(error);
      },
    );
  }

  /** Set once a sync failed (the file's bytes may not all be on the disk): its error. */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }

  /** Throws the first sync failure, if any. */
  check(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /** Waits for the sync in flight; rejects with the first failure. */
  async settled(): Promise<void> {
    while (this.#syncing) await this.#syncing;
    this.check();
  }
}
