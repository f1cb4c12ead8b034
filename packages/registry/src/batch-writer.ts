/**
 * Writes a stream of short-lived slices (valid only while they are handed over: socket reads into
 * one fixed buffer) to a file at consecutive positions: each slice is copied into one of two
 * 4 MiB batches, and a full batch is written while the other fills. When both are busy the taker
 * is told to wait; what it hands over anyway is copied aside, never lost.
 */
import type { FileHandle } from 'node:fs/promises';
import { BackgroundSync } from './background-sync.js';
import { writeFully } from './ranged-file.js';

const DEFAULT_BATCH = 4 * 1024 * 1024;
/** Room kept for one more socket read before the taker is asked to wait. */
const SLACK = 256 * 1024;

export interface BatchWriterOptions {
  /** Bytes written between two background fdatasyncs (0 or unset: none). */
  syncEvery?: number | undefined;
  /** Bytes per batch. Default 4 MiB. */
  batchSize?: number | undefined;
  /** Called after each batch is written, with its length. */
  onWritten?: ((length: number) => void) | undefined;
  /**
   * The two batches, lent by a caller that reuses them from one writer to the next (each of a
   * ranged download's lanes), once the writer before has finished or been abandoned.
   */
  batches?: [Buffer, Buffer] | undefined;
}

export class BatchWriter {
  readonly #handle: FileHandle;
  readonly #sync: BackgroundSync;
  readonly #batchSize: number;
  readonly #slack: number;
  readonly #onWritten: ((length: number) => void) | undefined;
  readonly #batches: Buffer[] = [];
  #current = 0;
  #filled = 0;
  #position: number;
  #writing: Promise<void> | undefined;
  /** Copies of what was taken while both batches were busy. */
  #overflow: Buffer[] = [];
  #failure: { error: unknown } | undefined;
  #waiter: (() => void) | undefined;

  /** Writes from `position` on. */
  constructor(handle: FileHandle, position: number, options: BatchWriterOptions = {}) {
    this.#handle = handle;
    this.#position = position;
    if (options.batches) this.#batches.push(...options.batches);
    this.#batchSize = options.batches?.[0].byteLength ?? options.batchSize ?? DEFAULT_BATCH;
    this.#slack = Math.min(SLACK, this.#batchSize / 2);
    this.#onWritten = options.onWritten;
    this.#sync = new BackgroundSync(handle, options.syncEvery, (error) => this.#fail(error));
  }

  /** Copies `data` in; false when the caller should wait for {@link ready} before the next. */
  take(data: Buffer): boolean {
    this.#check();
    if (this.#overflow.length > 0) this.#overflow.push(Buffer.from(data));
    else {
      const used = this.#append(data);
      if (used < data.byteLength) this.#overflow.push(Buffer.from(data.subarray(used)));
    }
    return this.#hasRoom();
  }

  /** Settles when there is room for more; rejects once a write or a sync failed. */
  ready(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#waiter = resolve)).then(() => this.#check());
  }

  /** Writes what is left and waits for every write and background sync; the file is not closed. */
  async finish(): Promise<void> {
    for (;;) {
      this.#check();
      if (this.#writing) await this.#writing;
      else if (this.#overflow.length > 0) this.#placeOverflow();
      else if (this.#filled > 0) this.#flush();
      else break;
    }
    await this.#sync.settled();
  }

  /** Waits for the write in flight, whatever its outcome (before the file is closed or removed). */
  async abandon(): Promise<void> {
    this.#failure ??= { error: new Error('abandoned') };
    while (this.#writing) await this.#writing;
    await this.#sync.settled().catch(() => {});
  }

  #hasRoom(): boolean {
    return (
      this.#overflow.length === 0 &&
      (!this.#writing || this.#batchSize - this.#filled >= this.#slack)
    );
  }

  /** Copies as much of `data` as fits without waiting; returns how much. */
  #append(data: Buffer): number {
    let at = 0;
    while (at < data.byteLength) {
      if (this.#filled === this.#batchSize) {
        if (this.#writing) break;
        this.#flush();
      }
      const batch = (this.#batches[this.#current] ??= Buffer.allocUnsafe(this.#batchSize));
      const copied = data.copy(batch, this.#filled, at);
      this.#filled += copied;
      at += copied;
    }
    if (this.#filled === this.#batchSize && !this.#writing) this.#flush();
    return at;
  }

  #flush(): void {
    const length = this.#filled;
    const batch = (this.#batches[this.#current] as Buffer).subarray(0, length);
    const position = this.#position;
    this.#position += length;
    this.#current ^= 1;
    this.#filled = 0;
    this.#writing = writeFully(this.#handle, [batch], length, position).then(
      () => {
        this.#writing = undefined;
        this.#sync.wrote(length);
        try {
          this.#onWritten?.(length);
        } catch (error) {
          this.#fail(error);
        }
        this.#afterWrite();
      },
      (error: unknown) => {
        this.#writing = undefined;
        this.#fail(error);
      },
    );
  }

  #afterWrite(): void {
    this.#placeOverflow();
    if (this.#hasRoom()) this.#wake();
  }

  #placeOverflow(): void {
    while (this.#overflow.length > 0) {
      const first = this.#overflow[0] as Buffer;
      const used = this.#append(first);
      if (used < first.byteLength) {
        this.#overflow[0] = first.subarray(used);
        return;
      }
      this.#overflow.shift();
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  #check(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
