/**
 * An upload that starts before the digest is known: the content streams to the registry in one
 * `PATCH` while the caller hashes it (another read of the same file), and the upload is closed
 * with `PUT ?digest=` once both are done. A blob that turns out to be present already is not
 * sent further: the `PATCH` is aborted and the session deleted as soon as the digest says so.
 *
 * This overlaps the hash pass with the transfer. Hashing first and uploading after costs a full
 * extra pass over the file before the first byte leaves (0.7 s per GiB here); the alternative,
 * hashing the bytes as they are sent, cannot skip a blob the registry already holds.
 *
 * For a blob that is probably there already, the caller says `holdUntilKnown`: the session is
 * still opened at once, but no byte is sent until the digest is known and the registry said it
 * lacks the blob. An upload running beside the hash is work thrown away for such a blob, and it
 * takes CPU from the hash: with registry:2 on the same two cores, hashing 1 GiB took 1.1–2.2 s
 * beside the upload against 0.76 s alone, and ending the PATCH and deleting the half-written
 * session cost another 0.3 s (BENCHMARKS.md, run I).
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#streamed-upload
 */
import { PassThrough, type Readable } from 'node:stream';
import { SizeMismatchError, type Digest } from '@ferry/oci';
import {
  isRestartable,
  pushBlob,
  type PushBlobOptions,
  type PushBlobResult,
} from './blob-upload.js';
import {
  cancelUpload,
  countedBody,
  putFinal,
  uploadLocation,
  type Session,
  type UploadContext,
} from './upload-session.js';
import { discard, responseError } from './transport.js';
import { FileUploadSource } from './upload-source.js';

export interface StreamingUploadOptions extends PushBlobOptions {
  /** Told once the digest is known and the registry turned out to hold the blob already. */
  onExists?: (() => void) | undefined;
  /**
   * True (or a promise of true) when the registry probably has the blob: then nothing is sent
   * until the digest is known and the registry said it lacks the blob. A promise that rejects
   * counts as false (it is a guess; the upload does not fail for it).
   */
  holdUntilKnown?: boolean | Promise<boolean> | undefined;
  /**
   * The file `open` reads, to its end. The upload then reads it itself into two fixed buffers
   * over a connection of its own when it can (see upload-source.ts), instead of through `open`.
   */
  file?: string | undefined;
}

/**
 * Uploads `size` bytes from `open` while `digest` is being computed elsewhere. Resolves like
 * {@link pushBlob}: `exists` when the registry had the blob (little or nothing was sent).
 * When the streamed attempt fails in a way a new session may not (a broken connection, a 5xx),
 * the blob is pushed again the ordinary way, with the digest now known and the usual retries.
 */
export async function pushBlobWhileHashing(
  context: UploadContext,
  open: () => Readable,
  size: number,
  digest: Promise<Digest>,
  options: StreamingUploadOptions = {},
): Promise<PushBlobResult> {
  const scopes = [`repository:${context.name}:pull,push`];
  const { signal } = options;
  const session: Session = { context, scopes, signal };
  let location: URL | undefined;
  let sent = 0;
  let body: StoppableBody | undefined;
  let source: FileUploadSource | undefined;
  const file = options.file;
  const counted = (bytes: number) => {
    sent += bytes;
    options.onProgress?.(bytes);
  };
  let stopping = false;
  // Opened once the registry said it lacks the blob, or when the upload is abandoned.
  let proceed: () => void = () => {};
  const proceeding = new Promise<void>((resolve) => (proceed = resolve));
  const hold = Promise.resolve(options.holdUntilKnown ?? false).catch(() => false);
  // An aborted push must not wait for the digest: the PATCH then fails at once on the signal.
  signal?.addEventListener('abort', proceed, { once: true });
  const upload = (async () => {
    const started = await context.transport.send({
      method: 'POST',
      url: new URL('blobs/uploads/', context.repositoryUrl),
      scopes,
      signal,
    });
    if (started.status !== 202) throw await responseError(started, 'POST');
    await discard(started);
    location = uploadLocation(started, context);
    if ((await hold) && !stopping) await proceeding;
    if (stopping) return location;
    const response = await context.transport.send({
      method: 'PATCH',
      url: location,
      // No Content-Range: one streamed chunk, the whole blob. No Content-Length either (chunked
      // encoding), so that the body can be ended early and cleanly (see `abandon`).
      headers: { 'content-type': 'application/octet-stream' },
      body:
        file !== undefined
          ? () => {
              source = new FileUploadSource(file, counted);
              if (stopping) source.stop();
              return source;
            }
          : () => {
              body = stoppableBody(countedBody(open, counted));
              if (stopping) body.stop();
              return body.stream;
            },
      scopes,
      signal,
      retry: false,
      bulk: file !== undefined,
    });
    if (response.status !== 202) throw await responseError(response, 'PATCH');
    await discard(response);
    location = uploadLocation(response, context);
    if (!stopping && sent !== size) {
      throw new SizeMismatchError(size, sent, 'streamed upload (the file changed while read)');
    }
    return location;
  })();
  // Until it is awaited below, a failure is held in the promise, not reported as unhandled.
  upload.catch(() => {});

  // Ends the upload early and deletes the session. Not by aborting the requests: registry:2
  // keeps the bytes of a PATCH cut off mid-body and then refuses every request whose Location
  // state predates them (DELETE included), so the session would stay behind with its data. An
  // ended body gets a 202 and a fresh Location, and that DELETE succeeds.
  const abandon = async () => {
    stopping = true;
    proceed();
    body?.stop();
    source?.stop();
    await upload.catch(() => {});
    if (location) await cancelUpload(session, location);
  };

  let known: Digest;
  try {
    // An aborted push ends now, not once the hash is done (it may have minutes left to run).
    known = await untilAborted(digest, signal);
    if (!options.skipExistsCheck && (await context.exists(known, options.signal))) {
      await abandon();
      options.onExists?.();
      return { digest: known, size, outcome: 'exists' };
    }
  } catch (error) {
    await abandon();
    throw error;
  }
  proceed();

  try {
    await putFinal(session, await upload, known, undefined);
    return { digest: known, size, outcome: 'uploaded' };
  } catch (error) {
    if (location) await cancelUpload(session, location);
    if (options.signal?.aborted || !isRestartable(error) || options.replayable === false) {
      throw error;
    }
    // The digest is known now: the ordinary upload (HEAD skipped, one PUT) with its retries.
    // Progress already reported for this attempt is taken back first.
    options.onProgress?.(-sent);
    return pushBlob(context, open, { digest: known, size }, { ...options, skipExistsCheck: true });
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

interface StoppableBody {
  stream: Readable;
  /** Stops reading the source and ends the stream after what it holds already. */
  stop(): void;
}

function stoppableBody(source: Readable): StoppableBody {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  source.on('error', (error) => stream.destroy(error));
  source.pipe(stream);
  return {
    stream,
    stop() {
      source.unpipe(stream);
      source.destroy();
      stream.end();
    },
  };
}
