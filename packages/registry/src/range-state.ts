/**
 * The per-range progress of a parallel ranged download, kept in a small JSON file beside the
 * partial blob so that a killed download resumes each range where it stopped. The file is only
 * ever replaced whole (written aside, then renamed), and it is written before any byte of the
 * blob: a partial file without one was written by a single stream from byte 0.
 */
import { rename, rm, type FileHandle } from 'node:fs/promises';
import type { Descriptor } from '@ferry/oci';
import { openPartialFile, readSideFile, writeNewFile } from './safe-files.js';

/** One byte range of the blob: [start, end), of which the first `done` bytes are on disk. */
export interface RangeProgress {
  start: number;
  end: number;
  done: number;
}

export interface RangeState {
  digest: string;
  size: number;
  ranges: RangeProgress[];
}

const STATE_VERSION = 1;

/** The most ranges one blob is cut into. */
const MAX_RANGES = 1024;

/** Where `path`'s per-range progress is kept. */
export function rangeStatePath(path: string): string {
  return `${path}.ranges`;
}

/** A range size that gives each connection several ranges, so that a slow one holds up little. */
export function defaultRangeSize(size: number, parallel: number): number {
  const share = Math.ceil(size / (Math.max(1, parallel) * 4));
  return Math.min(64 * 1024 * 1024, Math.max(8 * 1024 * 1024, share));
}

/**
 * Opens the partial file at `path` with its saved progress, or with a fresh plan of ranges for
 * `parallel` connections (`rangeSize` bytes each when given) in which the prefix a single stream
 * left counts as done.
 */
export async function openRangedFile(
  path: string,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  parallel: number,
  rangeSize: number | undefined,
): Promise<{ state: RangeState; handle: FileHandle }> {
  const { digest, size } = descriptor;
  // The partial file is opened once, never through a link planted at its path; a file longer
  // than the blob is no prefix of it, and its saved progress is not trusted.
  const existing = await openPartialFile(path, true);
  const fileSize = (await existing.stat()).size;
  const saved =
    fileSize > size ? undefined : await loadRangeState(rangeStatePath(path), descriptor, fileSize);
  if (saved) return { state: saved, handle: existing };
  // At most MAX_RANGES, however large the size a manifest declares: the plan and its progress
  // file stay small even for a hostile 2^53-byte descriptor.
  const planned = Math.max(
    rangeSize ?? defaultRangeSize(size, parallel),
    Math.ceil(size / MAX_RANGES),
  );
  const state: RangeState = { digest, size, ranges: planRanges(size, planned) };
  const prefix = fileSize <= size ? fileSize : 0;
  markPrefixDone(state.ranges, prefix);
  if (prefix > 0) return { state, handle: existing };
  await existing.close();
  return { state, handle: await openPartialFile(path, false) };
}

/** Removes the partial file at `path` and its progress. */
export async function removeRangedFile(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(rangeStatePath(path), { force: true });
}

/** Splits [0, size) into ranges of `rangeSize` bytes (the last one shorter). */
export function planRanges(size: number, rangeSize: number): RangeProgress[] {
  const ranges: RangeProgress[] = [];
  for (let start = 0; start < size; start += rangeSize)
    ranges.push({ start, end: Math.min(size, start + rangeSize), done: 0 });
  return ranges;
}

/** Marks [0, prefix) as on disk (bytes a single stream left). */
export function markPrefixDone(ranges: RangeProgress[], prefix: number): void {
  for (const range of ranges) range.done = Math.max(0, Math.min(range.end, prefix) - range.start);
}

/** How many bytes from the start of the blob are on disk without a gap. */
export function contiguousPrefix(ranges: readonly RangeProgress[]): number {
  let prefix = 0;
  for (const range of ranges) {
    prefix = range.start + range.done;
    if (range.done < range.end - range.start) break;
  }
  return prefix;
}

export function bytesDone(ranges: readonly RangeProgress[]): number {
  return ranges.reduce((sum, range) => sum + range.done, 0);
}

/**
 * The saved progress for `descriptor`, or undefined when there is none or it cannot be trusted:
 * another blob's, ranges that do not tile the blob, or more bytes claimed than the partial file
 * (of `fileSize` bytes) holds.
 */
export async function loadRangeState(
  path: string,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  fileSize: number,
): Promise<RangeState | undefined> {
  let parsed: unknown;
  try {
    // Never through a planted link or FIFO, never more than a small file's worth.
    const text = await readSideFile(path);
    if (text === undefined) return undefined;
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const saved = parsed as { version?: unknown; digest?: unknown; size?: unknown; ranges?: unknown };
  if (
    saved.version !== STATE_VERSION ||
    saved.digest !== descriptor.digest ||
    saved.size !== descriptor.size ||
    !Array.isArray(saved.ranges)
  ) {
    return undefined;
  }
  const ranges: RangeProgress[] = [];
  let expectedStart = 0;
  for (const entry of saved.ranges as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) return undefined;
    const [start, end, done] = entry as unknown[];
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      !Number.isSafeInteger(done) ||
      start !== expectedStart ||
      (end as number) <= (start as number) ||
      (done as number) < 0 ||
      (done as number) > (end as number) - (start as number) ||
      // Bytes claimed must be in the file; ranges not begun may lie past its end.
      ((done as number) > 0 && (start as number) + (done as number) > fileSize)
    ) {
      return undefined;
    }
    ranges.push({ start: start as number, end: end as number, done: done as number });
    expectedStart = end as number;
  }
  if (expectedStart !== descriptor.size) return undefined;
  return { digest: descriptor.digest, size: descriptor.size, ranges };
}

/**
 * Saves a {@link RangeState} as often as it changes, one write at a time: changes made while a
 * write is in flight are saved by the next one. Each write replaces the file whole.
 */
export class RangeStateWriter {
  readonly path: string;
  readonly #state: RangeState;
  #dirty = false;
  #writing: Promise<void> | undefined;
  #error: unknown;
  #removed = false;

  constructor(path: string, state: RangeState) {
    this.path = path;
    this.#state = state;
  }

  /** Notes a change; it is written soon, in the background. */
  changed(): void {
    if (this.#removed) return;
    this.#dirty = true;
    this.#writing ??= this.#drain().finally(() => (this.#writing = undefined));
  }

  /** Writes what changed and waits for it; rejects if any background write failed. */
  async flush(): Promise<void> {
    this.changed();
    while (this.#writing) await this.#writing;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Stops saving and removes the file (once any write in flight is done). */
  async remove(): Promise<void> {
    this.#removed = true;
    while (this.#writing) await this.#writing;
    await rm(this.path, { force: true });
    await rm(`${this.path}.${process.pid}.tmp`, { force: true });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        const text = JSON.stringify({
          version: STATE_VERSION,
          digest: this.#state.digest,
          size: this.#state.size,
          ranges: this.#state.ranges.map((range) => [range.start, range.end, range.done]),
        });
        const aside = `${this.path}.${process.pid}.tmp`;
        await writeNewFile(aside, text);
        await rename(aside, this.path);
      }
    } catch (error) {
      this.#error ??= error;
    }
  }
}
