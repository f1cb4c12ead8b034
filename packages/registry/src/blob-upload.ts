/**
 * Blob uploads by the distribution spec's rules, cheapest first: nothing when the registry has the
 * blob; a cross-repository mount when a source repository is known; one `PUT` when the digest is
 * known and the blob is small enough; otherwise `PATCH` chunks with `Content-Range`, hashing on the
 * way, and a final `PUT ?digest=`. An interrupted chunk is resumed from the server's `Range`.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs
 */
import type { Readable } from 'node:stream';
import {
  computeDigest,
  DigestMismatchError,
  Digester,
  FerryError,
  parseDigest,
  SizeMismatchError,
  type Digest,
} from '@ferry/oci';
import { RegistryError, RegistryErrorCode } from './errors.js';
import { readSmall, SMALL_BODY } from './small-body.js';
import { rechunk } from './upload-helpers.js';
import { isRetryableError, RETRYABLE_STATUS } from './retry-policy.js';
import { discard, responseError } from './transport.js';
import {
  cancelUpload,
  countedBody,
  patchChunk,
  putFinal,
  uploadLocation,
  type Session,
  type UploadContext,
} from './upload-session.js';

/** Bytes in memory, or a factory that opens the content (again, if a retry needs it). */
export type BlobSource = Uint8Array | (() => Readable);

export interface PushBlobOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((bytes: number) => void) | undefined;
  /** Try a cross-repository mount from this repository (same registry) first. */
  mountFrom?: string | undefined;
  /** Skip the existence check (the caller just made it). */
  skipExistsCheck?: boolean;
  /** False when the factory cannot open the content twice (stdin): no retry re-sends it. */
  replayable?: boolean;
}

export interface PushBlobResult {
  digest: Digest;
  size: number;
  /** How the registry came to hold the blob. */
  outcome: 'exists' | 'mounted' | 'uploaded';
}

export async function pushBlob(
  context: UploadContext,
  source: BlobSource,
  expected: { digest?: Digest | undefined; size?: number | undefined },
  options: PushBlobOptions = {},
): Promise<PushBlobResult> {
  const signal = options.signal;
  let { digest, size } = expected;
  const checkBytes = (bytes: Uint8Array) => {
    if (size !== undefined && size !== bytes.byteLength) {
      throw new SizeMismatchError(size, bytes.byteLength, digest ?? 'blob');
    }
    size = bytes.byteLength;
    const actual = computeDigest(bytes, digest ? parseDigest(digest).algorithm : 'sha256');
    if (digest && actual !== digest) throw new DigestMismatchError(digest, actual, 'blob');
    digest = actual;
  };
  if (source instanceof Uint8Array) checkBytes(source);
  if (
    digest &&
    size !== undefined &&
    !options.skipExistsCheck &&
    (await context.exists(digest, signal))
  ) {
    return { digest, size, outcome: 'exists' };
  }
  if (
    typeof source === 'function' &&
    size !== undefined &&
    size <= Math.min(SMALL_BODY, context.monolithicThreshold) &&
    // A mount needs no bytes: read them only if it is not tried.
    !options.mountFrom
  ) {
    // A small blob goes up from memory: no stream pipeline per request (each one made an
    // AbortController and a DOMException: 0.13 s of a 1,000-file push), and a retry can resend it.
    source = await readSmall(source, size, signal);
    checkBytes(source);
  }

  // Each attempt is a new upload session: registry:2 drops a session whose request broke off
  // after part of a body arrived, so resuming it is not always possible. A source that can be
  // opened again is uploaded again; stdin (replayable: false) gets one attempt.
  const replayable = source instanceof Uint8Array || options.replayable !== false;
  const startUrl = new URL('blobs/uploads/', context.repositoryUrl);
  for (let attempt = 0; ; attempt++) {
    try {
      return await uploadOnce(context, source, { digest, size }, options);
    } catch (error) {
      if (!replayable || attempt >= context.transport.retries || !isRestartable(error)) {
        throw error;
      }
      const retryAfter = error instanceof RegistryError ? error.retryAfter : undefined;
      const reason = error instanceof Error ? error.message : String(error);
      await context.transport.pause(
        attempt,
        retryAfter,
        { method: 'POST', url: startUrl, signal },
        `upload failed (${reason}); starting a new session`,
      );
    }
  }
}

/** Failures that a new upload session may not meet again. */
export function isRestartable(error: unknown): boolean {
  if (error instanceof FerryError && error.code === RegistryErrorCode.UploadDiscarded) return true;
  if (error instanceof RegistryError) {
    const code = error.registryCode ?? '';
    return (
      RETRYABLE_STATUS.has(error.status) ||
      error.status === 416 ||
      (error.status === 404 && (code === 'BLOB_UPLOAD_UNKNOWN' || code === 'BLOB_UPLOAD_INVALID'))
    );
  }
  return isRetryableError(error);
}

async function uploadOnce(
  context: UploadContext,
  source: BlobSource,
  { digest, size }: { digest?: Digest | undefined; size?: number | undefined },
  options: PushBlobOptions,
): Promise<PushBlobResult> {
  const signal = options.signal;
  const scopes = [`repository:${context.name}:pull,push`];
  if (options.mountFrom && digest && size !== undefined) {
    scopes.push(`repository:${options.mountFrom}:pull`);
  }
  const startUrl = new URL('blobs/uploads/', context.repositoryUrl);
  if (options.mountFrom && digest && size !== undefined) {
    startUrl.searchParams.set('mount', digest);
    startUrl.searchParams.set('from', options.mountFrom);
  }
  const started = await context.transport.send({ method: 'POST', url: startUrl, scopes, signal });
  if (started.status === 201 && digest && size !== undefined) {
    await discard(started);
    return { digest, size, outcome: 'mounted' };
  }
  if (started.status !== 202) throw await responseError(started, 'POST');
  await discard(started);
  let location = uploadLocation(started, context);
  const minChunk = Number(started.headers['oci-chunk-min-length']);
  const chunkSize =
    Number.isSafeInteger(minChunk) && minChunk > context.chunkSize ? minChunk : context.chunkSize;

  const session = { context, scopes, signal };
  if (digest && size !== undefined && size <= context.monolithicThreshold) {
    await putMonolithic(session, location, source, digest, size, options);
    return { digest, size, outcome: 'uploaded' };
  }

  const stream = source instanceof Uint8Array ? [source] : source();
  const digester = new Digester(digest ? parseDigest(digest).algorithm : 'sha256');
  let offset = 0;
  try {
    for await (const chunk of rechunk(stream as AsyncIterable<Uint8Array>, chunkSize)) {
      digester.update(chunk);
      location = await patchChunk(session, location, chunk, offset);
      offset += chunk.byteLength;
      options.onProgress?.(chunk.byteLength);
      if (size !== undefined && offset > size)
        throw new SizeMismatchError(size, offset, digest ?? 'blob');
    }
    const actual = digester.digest();
    if (size !== undefined && offset !== size)
      throw new SizeMismatchError(size, offset, digest ?? 'blob');
    if (digest && actual !== digest) throw new DigestMismatchError(digest, actual, 'blob');
    await putFinal(session, location, actual, undefined);
    return { digest: actual, size: offset, outcome: 'uploaded' };
  } catch (error) {
    // Leave no half-finished session behind; registries garbage-collect them anyway.
    await cancelUpload(session, location);
    throw error;
  }
}

async function putMonolithic(
  session: Session,
  location: URL,
  source: BlobSource,
  digest: Digest,
  size: number,
  options: PushBlobOptions,
): Promise<void> {
  // No second hash pass here: the caller knows the digest (it hashed the content, or read it
  // from a layout) and the registry checks it on this PUT, answering DIGEST_INVALID for bytes
  // that changed meanwhile; undici enforces Content-Length.
  const body =
    source instanceof Uint8Array ? source : () => countedBody(source, options.onProgress);
  await putFinal(
    session,
    location,
    digest,
    body,
    size,
    // Never resent blindly to the same session: pushBlob starts a new one (see there).
    false,
  );
  if (source instanceof Uint8Array) options.onProgress?.(size);
}
