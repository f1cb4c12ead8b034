/**
 * What extraction takes from an archive and what it refuses: how far a directory layer may
 * expand, and which archive times are real.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { FerryError, quote } from '@ferry/oci';
import { ArtifactErrorCode } from './errors.js';

/** A directory layer may always expand to this much… */
export const EXPANSION_FLOOR = 100 * 1024 * 1024;
/** …and beyond that to this many times its compressed size, no more (gzip reaches ~1000:1). */
export const EXPANSION_RATIO = 100;

/** How far a directory layer of `compressedSize` bytes may expand: see {@link ExtractOptions}. */
export function expansionLimit(compressedSize: number): number {
  return Math.max(EXPANSION_FLOOR, EXPANSION_RATIO * compressedSize);
}

export const ERR_EXPANSION_TOO_LARGE = ArtifactErrorCode.ExpansionTooLarge;

export function tooLarge(prefix: string, limit: number): FerryError {
  return new FerryError(
    ERR_EXPANSION_TOO_LARGE,
    `${quote(prefix)} expands to more than ${limit} bytes (${EXPANSION_RATIO} times its compressed size, and at least ${EXPANSION_FLOOR}): refused as a likely decompression bomb; if you trust it, pull again with --allow-large-expansion`,
  );
}

/** Counts the uncompressed bytes, failing once they pass `limit`. */
export class ExpansionLimit extends Transform {
  #total = 0;

  constructor(
    readonly limit: number,
    readonly prefix: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.#total += chunk.byteLength;
    if (this.#total > this.limit) callback(tooLarge(this.prefix, this.limit));
    else callback(null, chunk);
  }
}

/**
 * An entry's mtime as a file should get it. The reproducible epoch (ferry packs with mtime 0
 * unless SOURCE_DATE_EPOCH says otherwise; other tools write 0 or earlier to strip times) is "no
 * time", not 1970: such files keep the time they were extracted, as files a user makes do.
 */
export function archiveTime(mtime: Date | undefined): Date | undefined {
  const ms = mtime?.getTime();
  return ms === undefined || Number.isNaN(ms) || ms <= 0 ? undefined : (mtime as Date);
}
