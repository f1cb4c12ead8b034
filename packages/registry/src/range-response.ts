/**
 * One range request's answer in a parallel ranged download: what it must be (a 206 with the
 * Content-Range asked for), where it came from (a redirect target to reuse, an expired one), and
 * taking its body into the file, keeping what arrived before a break so the range can resume.
 */
import type { FileHandle } from 'node:fs/promises';
import { FerryError } from '@ferry/oci';
import { BatchWriter } from './batch-writer.js';
import { BulkBody } from './bulk-body.js';
import { redactUrl, RegistryErrorCode } from './errors.js';
import type { RangeProgress } from './range-state.js';
import { writeFully } from './ranged-file.js';
import { isBodyCutShort, isRetryableError } from './retry-policy.js';
import { abandon, responseError, type TransportResponse } from './transport.js';

/** Received bytes are written in batches of about this size: one positional writev each. */
export const WRITE_BATCH = 1024 * 1024;

/**
 * Resolves when `response` answers the rest of `range` of a `size`-byte blob: a 206 whose
 * Content-Range starts where the range stopped and ends inside it. Rejects with a protocol error
 * for any other part or a whole-blob 200, and with the registry's error for any other status.
 */
export async function checkPartialResponse(
  response: TransportResponse,
  range: RangeProgress,
  size: number,
): Promise<void> {
  const from = range.start + range.done;
  if (response.status === 206) {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(
      String(response.headers['content-range'] ?? '').trim(),
    );
    if (
      match &&
      Number(match[1]) === from &&
      Number(match[2]) < range.end &&
      Number(match[2]) >= from &&
      (match[3] === '*' || Number(match[3]) === size)
    ) {
      return;
    }
    throw new FerryError(
      RegistryErrorCode.Protocol,
      `GET ${redactUrl(response.url)}: asked for bytes ${from}-${range.end - 1} of ${size} but got Content-Range ${JSON.stringify(response.headers['content-range'] ?? null)}`,
    );
  }
  if (response.status === 200) {
    throw new FerryError(
      RegistryErrorCode.Protocol,
      `GET ${redactUrl(response.url)}: answered a Range request with the whole blob after answering others with parts; run again with --parallel 1`,
    );
  }
  throw await responseError(response, 'GET');
}

export interface RangeReceiveOptions {
  /** A body that delivers nothing for this long is dropped as broken. */
  idleMs: number;
  /** The download's own signal: a break after it aborted is no reason to resume. */
  signal: AbortSignal;
  /** Called after each batch is written (`range.done` already counts it). */
  onWritten: (length: number) => void;
  /** Write batches this range may use (its lane's, reused from range to range). */
  batches?: [Buffer, Buffer] | undefined;
}

/**
 * Writes the body at the range's offset in batches. Resolves when the body ends (the range may
 * be short of complete) or breaks in a way worth resuming (resolving with the error); rejects
 * on anything else. Bytes received before a break are written, not lost.
 */
export async function receiveRange(
  response: TransportResponse,
  range: RangeProgress,
  handle: FileHandle,
  options: RangeReceiveOptions,
): Promise<unknown> {
  if (response.body instanceof BulkBody) {
    return receiveBulkRange(response, response.body, range, handle, options);
  }
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const buffers = batch;
    const length = batched;
    batch = [];
    batched = 0;
    await writeFully(handle, buffers, length, range.start + range.done);
    range.done += length;
    options.onWritten(length);
  };
  let broken: unknown;
  const idleMs = options.idleMs;
  let idle: NodeJS.Timeout | undefined;
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      response.body.destroy(stalledError(idleMs));
    }, idleMs);
  };
  try {
    rearm();
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      rearm();
      if (range.start + range.done + batched + chunk.byteLength > range.end) {
        throw new FerryError(
          RegistryErrorCode.Protocol,
          `GET ${redactUrl(response.url)}: sent more than the bytes ${range.start + range.done}-${range.end - 1} asked for`,
        );
      }
      batch.push(chunk);
      batched += chunk.byteLength;
      if (batched >= WRITE_BATCH) await flush();
    }
  } catch (error) {
    if (
      error instanceof FerryError ||
      options.signal.aborted ||
      !(isRetryableError(error) || isBodyCutShort(error))
    ) {
      throw error;
    }
    abandon(response);
    broken = error;
  } finally {
    clearTimeout(idle);
  }
  await flush();
  return broken;
}

/**
 * {@link receiveRange} for a body read into one fixed buffer (bulk-connector.ts): each slice is
 * copied into one of two batches of the range's own, written at the range's offset.
 */
async function receiveBulkRange(
  response: TransportResponse,
  body: BulkBody,
  range: RangeProgress,
  handle: FileHandle,
  options: RangeReceiveOptions,
): Promise<unknown> {
  const writer = new BatchWriter(handle, range.start + range.done, {
    batchSize: WRITE_BATCH,
    batches: options.batches,
    onWritten: (length) => {
      range.done += length;
      options.onWritten(length);
    },
  });
  const limit = range.end - (range.start + range.done);
  let taken = 0;
  let idle: NodeJS.Timeout | undefined;
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => body.destroy(stalledError(options.idleMs)), options.idleMs);
  };
  let broken: unknown;
  try {
    rearm();
    await body.pump({
      take: (data) => {
        rearm();
        if (taken + data.byteLength > limit) {
          throw new FerryError(
            RegistryErrorCode.Protocol,
            `GET ${redactUrl(response.url)}: sent more than the bytes ${range.start + range.done}-${range.end - 1} asked for`,
          );
        }
        taken += data.byteLength;
        return writer.take(data);
      },
      // While the range waits for its disk write, its connection is paused: that is not idle.
      ready: () => {
        clearTimeout(idle);
        return writer.ready().finally(rearm);
      },
    });
  } catch (error) {
    if (
      error instanceof FerryError ||
      options.signal.aborted ||
      !(isRetryableError(error) || isBodyCutShort(error))
    ) {
      await writer.abandon();
      throw error;
    }
    broken = error;
  } finally {
    clearTimeout(idle);
  }
  // Bytes received before a break are written, not lost.
  await writer.finish();
  return broken;
}

function stalledError(idleMs: number): Error {
  return Object.assign(new Error(`no bytes for ${idleMs} ms`), { code: 'UND_ERR_BODY_TIMEOUT' });
}

/**
 * Where a response came from, against the registry URL asked for. An `http:` answer to an
 * `https:` URL of the same host is the transport's plain-http fallback for loopback registries
 * (it refuses such redirects), not another origin.
 */
export function compareWithRegistry(
  answered: URL,
  asked: URL,
): { redirected: boolean; sameOrigin: boolean } {
  const fellBack = asked.protocol === 'https:' && answered.protocol === 'http:';
  const sameOrigin =
    answered.host === asked.host && (answered.protocol === asked.protocol || fellBack);
  const samePath = answered.pathname === asked.pathname && answered.search === asked.search;
  return { redirected: !(sameOrigin && samePath), sameOrigin };
}

/** Statuses with which storage says the reused redirect target is no longer good. */
export function isExpired(status: number): boolean {
  return status === 401 || status === 403 || status === 404 || status === 410;
}
