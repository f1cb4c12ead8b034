/**
 * Reading a bottle repository from several places in turn, as brew does: a download that fails at
 * HOMEBREW_ARTIFACT_DOMAIN is tried at ghcr.io (`CurlDownloadStrategy#fetch`), and one missing at
 * HOMEBREW_BOTTLE_DOMAIN at the default domain (`Bottle#fallback_on_error?`). Each read is tried
 * at each place until one answers; what a place answered is never mixed with another's within
 * one call. A digest mismatch is not a reason to fall back (brew verifies after downloading) and
 * neither is the caller giving up. Writes are refused: mirrors and fallbacks are for reading.
 */
import type { Readable } from 'node:stream';
import {
  fetchManifestByReference,
  type FetchedManifest,
  type FetchOptions,
  type OperationOptions,
  type ReferenceFetcher,
  type ReferrersOptions,
  type Target,
} from '@ferry/artifact';
import { ErrorCode, FerryError, isNotFound, type Descriptor } from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';

export interface FallbackSource {
  target: Target;
  /** Why it is tried, for the warning: `HOMEBREW_ARTIFACT_DOMAIN`, `ghcr.io`. */
  via: string;
}

export class FallbackTarget implements Target, ReferenceFetcher {
  readonly name: string;
  readonly resumable: boolean;
  readonly #sources: FallbackSource[];
  readonly #onFallback:
    ((from: FallbackSource, to: FallbackSource, error: unknown) => void) | undefined;

  constructor(
    sources: FallbackSource[],
    onFallback?: (from: FallbackSource, to: FallbackSource, error: unknown) => void,
  ) {
    const first = sources[0];
    if (!first)
      throw new FerryError(HomebrewErrorCode.Internal, 'a fallback target needs a source');
    this.#sources = sources;
    this.#onFallback = onFallback;
    this.name = first.target.name;
    this.resumable = sources.every((source) => source.target.resumable === true);
  }

  /** Places that failed other than by "not found": skipped from then on (retried once is enough). */
  readonly #down = new Set<FallbackSource>();

  async #each<T>(operation: (target: Target) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let lastError: unknown;
    const sources = this.#sources.filter((source) => !this.#down.has(source));
    // The last place is always tried, even when it failed before.
    if (sources.length === 0) sources.push(this.#sources.at(-1) as FallbackSource);
    for (const [index, source] of sources.entries()) {
      try {
        return await operation(source.target);
      } catch (error) {
        lastError = error;
        const next = sources[index + 1];
        if (!next || signal?.aborted || !shouldFallBack(error)) throw error;
        // A mirror that is down (5xx after the client's retries, unreachable) is not asked again
        // for every request; one that merely lacks this image or blob still is.
        if (!isNotFound(error)) this.#down.add(source);
        this.#onFallback?.(source, next, error);
      }
    }
    throw lastError;
  }

  /** The manifest by tag at each place in turn: one GET at a registry. */
  fetchReference(reference: string, options?: OperationOptions): Promise<FetchedManifest> {
    return this.#each(
      (target) => fetchManifestByReference(target, reference, options),
      options?.signal,
    );
  }

  resolve(reference: string, options?: OperationOptions): Promise<Descriptor> {
    return this.#each((target) => target.resolve(reference, options), options?.signal);
  }

  fetch(descriptor: Descriptor, options?: FetchOptions): Promise<Readable> {
    // A blob stream may make its request only once read: wait for its first bytes (or its end)
    // so that a place that cannot serve it fails here, where the next place can still be tried.
    return this.#each(
      async (target) => primed(await target.fetch(descriptor, options)),
      options?.signal,
    );
  }

  exists(descriptor: Descriptor, options?: OperationOptions): Promise<boolean> {
    return this.#each((target) => target.exists(descriptor, options), options?.signal);
  }

  tags(options?: OperationOptions): Promise<string[]> {
    return this.#each((target) => target.tags(options), options?.signal);
  }

  referrers(subject: Descriptor, options?: ReferrersOptions): Promise<Descriptor[]> {
    return this.#each((target) => target.referrers(subject, options), options?.signal);
  }

  push(): Promise<void> {
    return Promise.reject(readOnly(this.name));
  }

  tag(): Promise<void> {
    return Promise.reject(readOnly(this.name));
  }
}

/** Resolves once `stream` has data or has ended; rejects if it fails first. */
function primed(stream: Readable): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      stream.off('readable', onReadable);
      stream.off('error', onError);
      if (error === undefined) resolve(stream);
      else {
        stream.destroy();
        reject(error as Error);
      }
    };
    const onReadable = () => settle();
    const onError = (error: unknown) => settle(error ?? new Error('stream failed'));
    stream.once('error', onError);
    stream.once('readable', onReadable);
  });
}

function readOnly(name: string): FerryError {
  return new FerryError(
    ErrorCode.InvalidOptions,
    `${name} is read through mirrors and cannot be written`,
  );
}

function shouldFallBack(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const name = (error as { name?: unknown }).name;
  return code !== ErrorCode.DigestMismatch && name !== 'AbortError' && code !== 'ABORT_ERR';
}
