/**
 * A blob downloaded straight into an open file, verified as it goes and resumed with Range when
 * the connection breaks: the path a pull takes for each large blob it caches. Without the stream
 * machinery of {@link downloadBlob} (a generator, a Readable, a Writable per blob), and — for a
 * blob of at least {@link BULK_DOWNLOAD_THRESHOLD} bytes — over a connection that reads into one
 * fixed buffer (bulk-connector.ts), whose slices are hashed and copied into the write batches.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Descriptor } from '@ferry/oci';
import { BatchWriter } from './batch-writer.js';
import {
  countShortBody,
  Delivery,
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
  const delivery = new Delivery(descriptor, options, stats);
  const writer = new BatchWriter(handle, delivery.delivered, { syncEvery: options.syncEvery });
  const bulk = descriptor.size >= BULK_DOWNLOAD_THRESHOLD;
  const sink: BodySink = {
    take: (received) => {
      const data = delivery.accept(received);
      return data ? writer.take(data) : true;
    },
    ready: () => writer.ready(),
  };
  try {
    for (let attempt = 0; !delivery.complete || attempt === 0; attempt++) {
      const opened = await openAttempt(
        transport,
        url,
        scopes,
        descriptor,
        delivery.delivered,
        { signal: options.signal, bulk },
        stats,
      );
      if (!opened) break;
      const { response } = opened;
      delivery.skip = opened.skip;
      try {
        if (response.body instanceof BulkBody) await response.body.pump(sink);
        else {
          for await (const chunk of response.body as AsyncIterable<Buffer>) {
            if (!sink.take(chunk)) await sink.ready();
          }
        }
      } catch (error) {
        abandon(response);
        await pauseBeforeResume(error, url, delivery.delivered, descriptor, options, stats);
        continue;
      }
      if (!delivery.complete) countShortBody(delivery, descriptor, options, stats);
    }
    await writer.finish();
  } catch (error) {
    // What arrived stays in the file for a resume (Ctrl-C, a connection that kept breaking):
    // all of it was hashed, so the file is a prefix of the blob as far as it goes.
    await writer.finish().catch(() => writer.abandon());
    throw error;
  }
  delivery.verify();
  return stats;
}
