/**
 * Blob uploads by the distribution spec's rules, cheapest first: nothing when the registry has the
 * blob; a cross-repository mount when a source repository is known; one `PUT` when the digest is
 * known and the blob is small enough; otherwise `PATCH` chunks with `Content-Range`, hashing on the
 * way, and a final `PUT ?digest=`. An interrupted chunk is resumed from the server's `Range`.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import {
  computeDigest,
  DigestMismatchError,
  Digester,
  FerryError,
  parseDigest,
  SizeMismatchError,
  type Digest,
} from '@ferry/oci';
import { redactUrl, RegistryError, RegistryErrorCode } from './errors.js';
import { readSmall, SMALL_BODY } from './small-body.js';
import { rechunk, withDigest } from './upload-helpers.js';
import {
  discard,
  isRetryableError,
  RETRYABLE_STATUS,
  responseError,
  type Transport,
  type TransportResponse,
} from './transport.js';

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

export interface UploadContext {
  transport: Transport;
  /** `https://host/v2/<name>/` */
  repositoryUrl: URL;
  name: string;
  /** The size of each PATCH of a chunked upload. */
  chunkSize: number;
  /** The largest blob sent in one monolithic PUT; larger ones go in chunks of `chunkSize`. */
  monolithicThreshold: number;
  exists(digest: Digest, signal?: AbortSignal): Promise<boolean>;
}

/** How often one chunk may be resumed after a broken connection. */
const MAX_CHUNK_RESUMES = 5;

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

export interface Session {
  context: UploadContext;
  scopes: string[];
  signal: AbortSignal | undefined;
}

/**
 * Opens the content for a request body, counting bytes as they go. Counted in the pipeline: a
 * 'data' listener would take chunks from the body.
 */
export function countedBody(
  open: () => Readable,
  onProgress: ((bytes: number) => void) | undefined,
): Readable {
  if (!onProgress) return open();
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onProgress(chunk.byteLength);
      done(null, chunk);
    },
  });
  // pipeline, not pipe: a source that fails must fail the request, not leave it hanging.
  pipeline(open(), counted, () => {});
  return counted;
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

export async function putFinal(
  session: Session,
  location: URL,
  digest: Digest,
  body: Uint8Array | (() => Readable) | undefined,
  size = 0,
  retry?: boolean,
): Promise<void> {
  const url = withDigest(location, digest);
  const response = await session.context.transport.send({
    method: 'PUT',
    url,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(body ? size : 0),
    },
    ...(body ? { body } : {}),
    scopes: session.scopes,
    signal: session.signal,
    ...(retry === false ? { retry } : {}),
  });
  if (response.status !== 201) throw await responseError(response, 'PUT');
  await discard(response);
  const stored = response.headers['docker-content-digest'];
  if (typeof stored === 'string' && stored !== digest) {
    throw new DigestMismatchError(
      digest,
      stored,
      'uploaded blob (the registry stored other bytes)',
    );
  }
}

/** Sends one chunk; on a broken connection asks the server how far it got and sends the rest. */
async function patchChunk(
  session: Session,
  location: URL,
  chunk: Uint8Array,
  offset: number,
): Promise<URL> {
  const { transport } = session.context;
  let sent = 0;
  for (let resumes = 0; ; resumes++) {
    const part = chunk.subarray(sent);
    const start = offset + sent;
    const request = {
      method: 'PATCH' as const,
      url: location,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(part.byteLength),
        'content-range': `${start}-${start + part.byteLength - 1}`,
      },
      body: part,
      scopes: session.scopes,
      signal: session.signal,
      // A blind resend could append the same bytes twice; the status check below is the retry.
      retry: false,
    };
    try {
      const response = await transport.send(request);
      if (response.status === 202) {
        await discard(response);
        return uploadLocation(response, session.context);
      }
      if (!RETRYABLE_STATUS.has(response.status) || resumes >= MAX_CHUNK_RESUMES) {
        throw await responseError(response, 'PATCH');
      }
      // Busy or failing: wait as the retry policy says (Retry-After included), then ask.
      await discard(response);
      await transport.pause(
        resumes,
        response.headers['retry-after'],
        request,
        `PATCH ${response.status}`,
      );
    } catch (error) {
      // isRetryableError looks through the transport's wrapper at the socket error underneath.
      if (
        error instanceof RegistryError ||
        !isRetryableError(error) ||
        resumes >= MAX_CHUNK_RESUMES
      ) {
        throw error;
      }
      await transport.pause(resumes, undefined, request, 'PATCH broke off');
    }
    const status = await uploadStatus(session, location);
    location = status.location;
    // registry:2 answers `0-0` both for one byte and for none; at the start of an upload, none.
    const received = status.end === 0 && offset + sent === 0 ? 0 : status.end + 1;
    if (received < offset || received > offset + chunk.byteLength) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `upload ${redactUrl(location)}: the registry holds ${received} bytes, outside the chunk ${offset}-${offset + chunk.byteLength - 1} being resumed`,
      );
    }
    sent = received - offset;
    if (sent === chunk.byteLength) return location;
  }
}

/** `GET <location>`: 204 with `Range: 0-<last byte received>`. */
async function uploadStatus(
  session: Session,
  location: URL,
): Promise<{ location: URL; end: number }> {
  const response = await session.context.transport.send({
    method: 'GET',
    url: location,
    scopes: session.scopes,
    signal: session.signal,
  });
  if (response.status === 404) {
    // registry:2 drops a session whose request broke off after part of a body arrived.
    await discard(response);
    throw new FerryError(
      RegistryErrorCode.UploadDiscarded,
      `upload ${redactUrl(location)}: the registry discarded the interrupted upload`,
    );
  }
  if (response.status !== 204) throw await responseError(response, 'GET');
  await discard(response);
  const range = response.headers.range;
  const match = typeof range === 'string' ? /^(?:bytes=)?0-(\d+)$/.exec(range.trim()) : null;
  const end = match ? Number(match[1]) : -1;
  const next =
    typeof response.headers.location === 'string'
      ? uploadLocation(response, session.context)
      : location;
  return { location: next, end };
}

export async function cancelUpload(session: Session, location: URL): Promise<void> {
  try {
    const response = await session.context.transport.send({
      method: 'DELETE',
      url: location,
      scopes: [`repository:${session.context.name}:delete`],
      retry: false,
    });
    await discard(response);
  } catch {
    // Best effort: the original error is what the caller needs to see.
  }
}

export function uploadLocation(response: TransportResponse, context: UploadContext): URL {
  const location = response.headers.location;
  if (typeof location !== 'string' || location === '') {
    throw new FerryError(
      RegistryErrorCode.Protocol,
      `${redactUrl(response.url)}: the registry answered ${response.status} without an upload Location`,
    );
  }
  return new URL(location, context.repositoryUrl);
}

export { rechunk, withDigest } from './upload-helpers.js';
