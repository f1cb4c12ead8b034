/**
 * The requests of one upload session, once `POST /blobs/uploads/` has opened it: `PATCH` a chunk
 * (resumed from the server's `Range` when the connection breaks), `GET` its status, the final
 * `PUT ?digest=`, `DELETE` to cancel, and the `Location` each answer moves the session to.
 * blob-upload.ts decides which of them an upload needs.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { DigestMismatchError, FerryError, type Digest } from '@ferry/oci';
import { redactUrl, RegistryError, RegistryErrorCode } from './errors.js';
import { withDigest } from './upload-helpers.js';
import { isRetryableError, RETRYABLE_STATUS } from './retry-policy.js';
import { discard, responseError, type Transport, type TransportResponse } from './transport.js';

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
export async function patchChunk(
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
