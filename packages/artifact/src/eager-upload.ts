/**
 * Uploads that start while pack() is still hashing. pack() needs every digest before it can
 * write the manifest, and a plain push hashes a file and only then sends it: two passes, one
 * after the other (for 1 GiB here, 0.7 s of hashing before the first byte leaves). Through
 * {@link EagerUploads.hasher}, a large file starts streaming to the target the moment pack()
 * asks for its digest, and the hash runs alongside; once the digest is known the upload is
 * either closed with it or, when the target already has the blob, stopped.
 *
 * A file that {@link EagerUploadOptions.likelyPresent} says the target probably holds (a re-push)
 * has its upload session opened but sends nothing until the digest is known: beside the hash,
 * the upload would only slow it down and then be thrown away (see StreamingPushOptions).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FerryError, quote, type Digest } from '@ferry/oci';
import type { FileHasher } from './digest-cache.js';
import { readOptions } from './read-options.js';
import type { StreamingOutcome, StreamingPusher } from './target.js';
import { ArtifactErrorCode } from './errors.js';

/** Below this, a file is hashed first and uploaded after (by the caller), as before. */
export const EAGER_UPLOAD_MIN_SIZE = 16 * 1024 * 1024;

export interface EagerUploadOptions {
  /** Uploads started early at once; beyond that, files are only hashed. */
  concurrency: number;
  minSize?: number | undefined;
  /**
   * Whether the target probably holds a blob of this size already (see likelyPresentAt): its
   * upload then waits for the digest instead of running beside the hash.
   */
  likelyPresent?: ((size: number) => boolean | Promise<boolean>) | undefined;
  onStart?: ((path: string, size: number) => void) | undefined;
  onProgress?: ((path: string, bytes: number) => void) | undefined;
}

export interface EagerUpload {
  path: string;
  size: number;
  outcome: Promise<StreamingOutcome>;
}

export class EagerUploads {
  readonly #target: StreamingPusher;
  readonly #options: EagerUploadOptions;
  readonly #byDigest = new Map<Digest, EagerUpload>();
  readonly #all: Promise<unknown>[] = [];
  readonly #stop = new AbortController();
  #active = 0;

  constructor(target: StreamingPusher, options: EagerUploadOptions) {
    this.#target = target;
    this.#options = options;
  }

  /** Wraps `inner` so that hashing a large file also starts its upload (when a slot is free). */
  hasher(inner: FileHasher): FileHasher {
    return async (path, signal) => {
      const { size } = await stat(path);
      const minSize = this.#options.minSize ?? EAGER_UPLOAD_MIN_SIZE;
      if (size < minSize || this.#active >= this.#options.concurrency || this.#stop.signal.aborted)
        return inner(path, signal, size);
      this.#active++;
      const hashed = inner(path, signal, size);
      this.#options.onStart?.(path, size);
      const digest = hashed.then((result) => result.digest);
      // A target may still be busy (opening the session) when hashing fails; the failure reaches
      // the caller through `hashed` below, so this copy must not count as unhandled.
      digest.catch(() => {});
      const outcome = this.#target
        .pushWhileHashing(() => createReadStream(path, readOptions(size)), size, digest, {
          signal: signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal,
          onProgress: (bytes) => this.#options.onProgress?.(path, bytes),
          holdUntilKnown: this.#likelyPresent(size),
          file: path,
        })
        .finally(() => this.#active--);
      // Awaited through started() or settle(); until then a failure must not count as unhandled.
      outcome.catch(() => {});
      this.#all.push(outcome);
      const result = await hashed;
      if (result.size !== size) {
        // The file changed between stat and read: the upload will fail on its length; say why.
        throw new FerryError(
          ArtifactErrorCode.FileChanged,
          `${quote(path)} changed size while it was read (${size} → ${result.size} bytes); push it again once it is complete`,
        );
      }
      if (!this.#byDigest.has(result.digest))
        this.#byDigest.set(result.digest, { path, size, outcome });
      return result;
    };
  }

  /** The guess, as a promise: a callback that throws is a guess of "no". */
  #likelyPresent(size: number): Promise<boolean> | undefined {
    const guess = this.#options.likelyPresent;
    return guess
      ? Promise.resolve(size)
          .then(guess)
          .catch(() => false)
      : undefined;
  }

  /** The upload started early for this digest, if any. */
  started(digest: Digest): EagerUpload | undefined {
    return this.#byDigest.get(digest);
  }

  /** Waits for every upload started early; the first failure is thrown. */
  async settle(): Promise<void> {
    await Promise.all(this.#all);
  }

  /** Stops the uploads still running (the push failed) and waits until their sessions are gone. */
  async abort(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#all);
  }
}
