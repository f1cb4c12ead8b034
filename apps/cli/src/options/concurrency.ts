/**
 * --concurrency (blobs, or tags, at once; ORAS's name) and --parallel (byte ranges of one large
 * blob at once), each checked as the command line is read.
 */
import { UsageError } from '../exit.js';
import { type ArgsOf, once, optionGroup } from './group.js';

export const DEFAULT_CONCURRENCY = 5;
/**
 * Small blobs are bound by round trips, not bytes: 1,000 × 4 KiB pulled from registry:2 in 3.3 s
 * at 16 at once against 3.9 s at 5 (pushed: 7.4 against 8.0 s), with no extra memory to speak of.
 * An explicit --concurrency applies to every blob.
 */
export const SMALL_BLOB_CONCURRENCY = 16;
/**
 * A pull without --concurrency fetches this many small blobs at once: while some wait for the
 * registry, others are being written and fsync'ed. 1,000 × 4 KiB at 32 took 6–8% less time than
 * at 16 (medians of two interleaved loops, faster in 7 rounds of 9; BENCHMARKS.md, run G). Push
 * keeps 16: its existence checks and eager uploads are tuned to that many workers.
 */
export const SMALL_PULL_CONCURRENCY = 32;

export interface TransferLimits {
  /** Blobs of 1 MiB or more in flight at once. */
  concurrency: number;
  /** Blobs in flight at once in all, small ones included (at least `concurrency`). */
  total: number;
}

/** The limits for a `--concurrency` that may not have been given; refuses anything but 1, 2, …. */
export function transferLimits(given: number | undefined): TransferLimits {
  if (given === undefined) {
    return { concurrency: DEFAULT_CONCURRENCY, total: SMALL_BLOB_CONCURRENCY };
  }
  if (!Number.isInteger(given) || given < 1) {
    throw new UsageError(`--concurrency ${given}: give a whole number of at least 1, like 5`);
  }
  return { concurrency: given, total: given };
}

const wholeNumber = (value: number | number[]): number =>
  transferLimits(once('concurrency', value)).concurrency;

/** push, pull, attach and model push/pull: no yargs default, so that "not given" is seen. */
export const transferConcurrencyOption = optionGroup({
  concurrency: {
    type: 'number',
    describe: `Blobs transferred at once [default: ${DEFAULT_CONCURRENCY}; blobs under 1 MiB: up to ${SMALL_BLOB_CONCURRENCY} on push, ${SMALL_PULL_CONCURRENCY} on pull]`,
    coerce: wholeNumber,
  },
});
export type TransferConcurrencyArgs = ArgsOf<typeof transferConcurrencyOption>;

/** cp, backup, restore, bottle pull and mirror: one limit for every blob. */
export function blobConcurrencyOption(fallback: number) {
  return optionGroup({
    concurrency: {
      type: 'number',
      default: fallback,
      describe: 'Blobs transferred at once',
      coerce: wholeNumber,
    },
  });
}
export type BlobConcurrencyArgs = ArgsOf<ReturnType<typeof blobConcurrencyOption>>;

/** tag and manifest push: tags pointed at once. */
export function tagConcurrencyOption(describe: string) {
  return optionGroup({
    concurrency: {
      type: 'number',
      default: DEFAULT_CONCURRENCY,
      describe,
      coerce: wholeNumber,
    },
  });
}
export type TagConcurrencyArgs = ArgsOf<ReturnType<typeof tagConcurrencyOption>>;

/** A `--parallel` value: a whole number from 1 to 16. */
export function parallelDownloads(given: number): number {
  if (!Number.isInteger(given) || given < 1 || given > 16) {
    throw new UsageError(
      `--parallel ${given}: give a whole number of connections from 1 to 16, like 4 (1 turns parallel downloads off)`,
    );
  }
  return given;
}

/**
 * pull, cp, blob fetch and bottle pull: byte ranges of one large blob fetched at once. Named
 * apart from --concurrency (blobs at once, as in ORAS); containerd calls it
 * max_concurrent_downloads_per_layer.
 */
export const parallelOption = optionGroup({
  parallel: {
    type: 'number',
    describe:
      'Connections per blob of 64 MiB or more, each fetching a byte range (1 turns it off) [default: 4; 1 for a registry on this machine]',
    coerce: (value: number | number[]): number => parallelDownloads(once('parallel', value)),
  },
});
export type ParallelArgs = ArgsOf<typeof parallelOption>;
