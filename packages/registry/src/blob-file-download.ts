/**
 * A blob downloaded straight into an open file, verified as it goes and resumed with Range when
 * the connection breaks: the path a pull takes for each large blob it caches. Without the stream
 * machinery of {@link downloadBlob} (a generator, a Readable, a Writable per blob), and — for a
 * blob of at least {@link BULK_DOWNLOAD_THRESHOLD} bytes — over a connection that reads into one
 * fixed buffer (bulk-connector.ts), whose slices are hashed and copied into the write batches.
 */
import type { FileHandle } from 'node:fs/promises';
import {
  DigestMismatchError,
  Digester,
  parseDigest,
  SizeMismatchError,
  type Descriptor,
} from '@ferry/oci';
import { BatchWriter } from './batch-writer.js';
import {
  countShortBody,
  openAttempt,
  pauseBeforeResume,
  type DownloadStats,
  type FetchBlobOptions,
} from './blob-download.js';
import { BulkBody, type BodySink } from './bulk-body.js';
import { abandon, type Transport } from './transport.js';

/**
 * Blobs from this size get a connection of their own (one more TCP and TLS handshake, which a
 * smaller blob would not make up for).
 */
export const BULK_DOWNLOAD_THRESHOLD = 8 * 1024 * 1024;

export interface DownloadIntoFileOptions extends FetchBlobOptions {
  /** Bytes written between two background fdatasyncs (0 or unset: none). */
  syncEvery?: number | undefined;
}

/**
 * Writes `descriptor`'s bytes into `handle` from the resume offset (0 without `resume`) on, and
 * resolves once all are written, checked against the digest, and the background syncs settled.
 * The caller fsyncs and closes the file; on failure what was written stays for a later resume.
 */
export async function downloadBlobIntoFile(
  transport: Transport,
  url: URL,
  scopes: string[],
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  handle: FileHandle,
  options: DownloadIntoFileOptions = {},
): Promise<DownloadStats> {
  const stats: DownloadStats = { bytesReceived: 0, bytesRefetched: 0, resumes: 0, restarts: 0 };
  const subject = `blob ${descriptor.digest}`;
  const digester =
    options.resume?.digester ?? new Digester(parseDigest(descriptor.digest).algorithm);
  let delivered = options.resume?.offset ?? 0;
  if (delivered > descriptor.size) throw new SizeMismatchError(descriptor.size, delivered, subject);
  const writer = new BatchWriter(handle, delivered, { syncEvery: options.syncEvery });
  const bulk = descriptor.size >= BULK_DOWNLOAD_THRESHOLD;
  try {
    for (let attempt = 0; delivered < descriptor.size || attempt === 0; attempt++) {
      const opened = await openAttempt(
        transport,
        url,
        scopes,
        descriptor,
        delivered,
        { signal: options.signal, bulk },
        stats,
      );
      if (!opened) break;
      const { response } = opened;
      let skip = opened.skip;
      const sink: BodySink = {
        take: (received) => {
          stats.bytesReceived += received.byteLength;
          let data = received;
          if (skip > 0) {
            const dropped = Math.min(skip, data.byteLength);
            stats.bytesRefetched += dropped;
            skip -= dropped;
            data = data.subarray(dropped);
            if (data.byteLength === 0) return true;
          }
          if (delivered + data.byteLength > descriptor.size) {
            throw new SizeMismatchError(descriptor.size, delivered + data.byteLength, subject);
          }
          digester.update(data);
          delivered += data.byteLength;
          options.onProgress?.(data.byteLength);
          return writer.take(data);
        },
        ready: () => writer.ready(),
      };
      try {
        if (response.body instanceof BulkBody) await response.body.pump(sink);
        else {
          for await (const chunk of response.body as AsyncIterable<Buffer>) {
            if (!sink.take(chunk)) await sink.ready();
          }
        }
      } catch (error) {
        abandon(response);
        await pauseBeforeResume(error, url, delivered, descriptor, options, stats);
        continue;
      }
      if (delivered < descriptor.size) {
        countShortBody(delivered, descriptor, options, stats, subject);
      }
    }
    await writer.finish();
  } catch (error) {
    // What arrived stays in the file for a resume (Ctrl-C, a connection that kept breaking):
    // all of it was hashed, so the file is a prefix of the blob as far as it goes.
    await writer.finish().catch(() => writer.abandon());
    throw error;
  }
  const actual = digester.digest();
  if (actual !== descriptor.digest) {
    throw new DigestMismatchError(descriptor.digest, actual, subject);
  }
  return stats;
}
