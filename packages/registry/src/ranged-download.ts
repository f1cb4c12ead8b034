/**
 * Parallel ranged download of one large blob into a file: the blob is cut into byte ranges that
 * `parallel` connections fetch at once (`Range: bytes=a-b`), each written at its offset with
 * positional writes. CDNs in front of registries cap each connection's throughput, so one large
 * blob over one connection is slow however fast the link (containerd 2.1 and Ollama do the same).
 *
 * - The first range is also the probe: a 200 answer means the server ignores Range, and the caller
 *   falls back to one stream (nothing is fetched twice).
 * - A redirect is followed once, and its target reused for every range; when it is another origin
 *   (storage, a CDN) no credentials are sent there. If the target stops answering (an expired
 *   pre-signed URL), the registry is asked again.
 * - Progress per range is kept beside the file (see range-state.ts); a killed download resumes
 *   every range where it stopped, and fetches no completed range again.
 * - The digest is computed in order as the contiguous prefix on disk grows, by reading the file
 *   back (the page cache holds it), and checked at the end; the file is fsync'ed before success.
 * - The file is fdatasync'ed in the background every 32 MiB written over all ranges (see
 *   background-sync.ts), so that the final fsync only flushes the tail.
 */
import type { FileHandle } from 'node:fs/promises';
import { DigestMismatchError, FerryError, parseDigest, type Descriptor } from '@ferry/oci';
import { BackgroundSync, DEFAULT_SYNC_EVERY } from './background-sync.js';
import { NetworkError, redactUrl, RegistryErrorCode } from './errors.js';
import {
  checkPartialResponse,
  compareWithRegistry,
  isExpired,
  receiveRange,
  WRITE_BATCH,
} from './range-response.js';
import { PrefixHasher } from './ranged-file.js';
import {
  bytesDone,
  contiguousPrefix,
  openRangedFile,
  rangeStatePath,
  removeRangedFile,
  RangeStateWriter,
  type RangeProgress,
} from './range-state.js';
import { abandon, discard, type Transport, type TransportResponse } from './transport.js';

/** Ranges fetched at once by default. */
export const DEFAULT_PARALLEL_DOWNLOADS = 4;
/** Blobs smaller than this are fetched in one stream: more connections would not pay. */
export const DEFAULT_PARALLEL_THRESHOLD = 64 * 1024 * 1024;

export interface RangedDownloadOptions {
  /** Ranges fetched at once. Default {@link DEFAULT_PARALLEL_DOWNLOADS}. */
  parallel?: number | undefined;
  /** Bytes per range request. Default: a quarter of an even share, 8–64 MiB. */
  rangeSize?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the number of new bytes on disk (bytes already there from an earlier run first). */
  onProgress?: ((bytes: number) => void) | undefined;
  /** How often in a row one range may break without progress before giving up. Default 5. */
  maxResumes?: number | undefined;
  /**
   * A range whose body delivers nothing for this long is dropped and asked for again from where
   * it stopped (a stalled CDN connection; Ollama restarts a part idle 30 s). Default 30 s.
   */
  idleTimeoutMs?: number | undefined;
  /**
   * Bytes written over all ranges between two background fdatasyncs of the file (0: none, the
   * file is synced only at the end). Default 32 MiB.
   */
  syncEvery?: number | undefined;
}

export interface RangedDownloadResult {
  /**
   * False when the server answered Range with 200 (it ignores Range): nothing was fetched, and
   * the file holds only a prefix of the blob (its whole size) for one stream to continue.
   */
  ranged: boolean;
  /** Bytes that were on disk from an earlier run and not fetched again. */
  resumedBytes: number;
  /** Bytes written from the network. */
  fetchedBytes: number;
  /** Range requests sent (re-sent ones included). */
  requests: number;
  /** Requests re-sent after a broken or short body. */
  resumes: number;
  /** The origin the ranges came from when the registry redirected elsewhere. */
  redirectedTo?: string | undefined;
}

/**
 * Downloads `descriptor` from `url` into `path` by ranges, resuming what an earlier run left at
 * `path` (with its progress file, or a prefix written by one stream). Resolves once the whole
 * file is verified and fsync'ed, or with `ranged: false` (see {@link RangedDownloadResult}).
 * A digest mismatch removes the file and its progress and rejects; other failures keep them for
 * the next run.
 */
export async function downloadRanges(
  transport: Transport,
  url: URL,
  scopes: string[],
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  path: string,
  options: RangedDownloadOptions = {},
): Promise<RangedDownloadResult> {
  try {
    return await new RangedDownload(transport, url, scopes, descriptor, path, options).run();
  } catch (error) {
    if (!(error instanceof ResumedBytesWrong)) throw error;
    // Bytes an earlier run left were not the blob's: fetch it all again, once.
    await removeRangedFile(path);
    return new RangedDownload(transport, url, scopes, descriptor, path, options).run();
  }
}

class ResumedBytesWrong extends Error {}

/** The partial file and what follows its writes: progress, the in-order hash, background syncs. */
interface RangedFile {
  handle: FileHandle;
  writer: RangeStateWriter;
  hasher: PrefixHasher;
  sync: BackgroundSync;
}

interface RangeSource {
  url: URL;
  /** Another origin than the registry's: no credentials go there. */
  anonymous: boolean;
}

class RangedDownload {
  readonly #transport: Transport;
  readonly #url: URL;
  readonly #scopes: string[];
  readonly #descriptor: Pick<Descriptor, 'digest' | 'size'>;
  readonly #path: string;
  readonly #options: RangedDownloadOptions;
  readonly #subject: string;
  /** Ranges fetched at once. */
  readonly #parallel: number;
  readonly #controller = new AbortController();
  readonly #result: RangedDownloadResult = {
    ranged: true,
    resumedBytes: 0,
    fetchedBytes: 0,
    requests: 0,
    resumes: 0,
  };
  #source: RangeSource;
  #reresolves = 0;

  constructor(
    transport: Transport,
    url: URL,
    scopes: string[],
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    path: string,
    options: RangedDownloadOptions,
  ) {
    this.#transport = transport;
    this.#url = url;
    this.#scopes = scopes;
    this.#descriptor = descriptor;
    this.#path = path;
    this.#options = options;
    this.#subject = `blob ${descriptor.digest}`;
    this.#parallel = Math.max(1, options.parallel ?? DEFAULT_PARALLEL_DOWNLOADS);
    this.#source = { url, anonymous: false };
  }

  async run(): Promise<RangedDownloadResult> {
    const { state, handle } = await openRangedFile(
      this.#path,
      this.#descriptor,
      this.#parallel,
      this.#options.rangeSize,
    );
    const writer = new RangeStateWriter(rangeStatePath(this.#path), state);
    const onAbort = () => this.#controller.abort(this.#options.signal?.reason);
    if (this.#options.signal?.aborted) onAbort();
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    const hasher = new PrefixHasher(handle, state, parseDigest(this.#descriptor.digest).algorithm);
    // A sync that fails stops every range at once: a range may not write again for a while.
    const sync = new BackgroundSync(
      handle,
      this.#options.syncEvery ?? DEFAULT_SYNC_EVERY,
      (error) => this.#controller.abort(error),
    );
    let closed = false;
    try {
      // Progress is on disk before any byte is: a partial file without it is a plain prefix.
      await writer.flush();
      const resumed = bytesDone(state.ranges);
      this.#result.resumedBytes = resumed;
      hasher.advance();

      const pending = state.ranges.filter((range) => range.done < range.end - range.start);
      const first = pending.shift();
      if (first) {
        const probe = await this.#request(first);
        if (probe.status === 200) {
          abandon(probe);
          await hasher.stop();
          // Keep only what a single stream can continue from, and no progress file.
          await handle.truncate(contiguousPrefix(state.ranges));
          await handle.close();
          closed = true;
          await writer.remove();
          return { ...this.#result, ranged: false };
        }
        // Reported only now: with `ranged: false` the caller's single stream reports them.
        if (resumed > 0) this.#options.onProgress?.(resumed);
        await this.#fetchAll(first, probe, pending, { handle, writer, hasher, sync });
      } else if (resumed > 0) {
        this.#options.onProgress?.(resumed);
      }

      const actual = await hasher.finish();
      // Every background sync is done, and none failed, before the file can be kept.
      await sync.settled();
      if (actual !== this.#descriptor.digest) {
        await handle.close();
        closed = true;
        await writer.remove();
        if (resumed > 0) throw new ResumedBytesWrong();
        await removeRangedFile(this.#path);
        throw new DigestMismatchError(this.#descriptor.digest, actual, this.#subject);
      }
      await handle.sync();
      await handle.close();
      closed = true;
      await writer.remove();
      return this.#result;
    } catch (error) {
      if (!closed) {
        await hasher.stop();
        await sync.settled().catch(() => {});
        await handle.close().catch(() => {});
        if (sync.failure) {
          // After a failed fdatasync the kernel may have dropped bytes the progress claims (it
          // marks them clean even so): nothing here is worth resuming from.
          await writer.remove().catch(() => {});
          await removeRangedFile(this.#path).catch(() => {});
        } else {
          // Keep what was received for the next run.
          await writer.flush().catch(() => {});
        }
      }
      throw error;
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async #fetchAll(
    first: RangeProgress,
    probe: TransportResponse,
    pending: RangeProgress[],
    file: RangedFile,
  ): Promise<void> {
    let failure: { error: unknown } | undefined;
    const worker = async (range: RangeProgress | undefined, response?: TransportResponse) => {
      // The lane's write batches, reused by each of its ranges (a range is done with them when
      // its fetch returns): new ones per range cost the heap a few MiB each time.
      const batches: [Buffer, Buffer] = [
        Buffer.allocUnsafe(WRITE_BATCH),
        Buffer.allocUnsafe(WRITE_BATCH),
      ];
      for (let next = range; next && !failure; next = pending.shift()) {
        try {
          await this.#fetchRange(next, file, response, batches);
        } catch (error) {
          failure ??= { error };
          // The other ranges stop too; their progress is saved for the next run.
          this.#controller.abort(error);
          return;
        } finally {
          response = undefined;
        }
      }
    };
    const workers = [worker(first, probe)];
    for (let i = 1; i < this.#parallel && pending.length > 0; i++)
      workers.push(worker(pending.shift()));
    await Promise.all(workers);
    if (failure) {
      await file.hasher.stop();
      // When a failed background sync stopped the ranges, that failure is the one to report.
      await file.sync.settled();
      throw this.#options.signal?.aborted && !(failure.error instanceof FerryError)
        ? new FerryError(RegistryErrorCode.Aborted, `GET ${redactUrl(this.#url)}: aborted`, {
            cause: failure.error,
          })
        : failure.error;
    }
  }

  /** Sends the GET for what is left of `range`, to the reused redirect target when there is one. */
  async #request(range: RangeProgress): Promise<TransportResponse> {
    const from = range.start + range.done;
    const headers = { range: `bytes=${from}-${range.end - 1}` };
    const signal = this.#controller.signal;
    this.#result.requests++;
    let response = await this.#transport.send({
      method: 'GET',
      url: this.#source.url,
      headers,
      scopes: this.#source.anonymous ? [] : this.#scopes,
      anonymous: this.#source.anonymous,
      signal,
      bulk: true,
    });
    if (this.#source.url !== this.#url && isExpired(response.status) && this.#reresolves < 3) {
      // A pre-signed URL lives minutes: ask the registry where the blob is now.
      await discard(response);
      this.#reresolves++;
      this.#source = { url: this.#url, anonymous: false };
      this.#result.requests++;
      response = await this.#transport.send({
        method: 'GET',
        url: this.#url,
        headers,
        scopes: this.#scopes,
        signal,
        bulk: true,
      });
    }
    if (this.#source.url === this.#url) {
      const { redirected, sameOrigin } = compareWithRegistry(response.url, this.#url);
      if (redirected) {
        // Later ranges go straight there, with credentials only on the registry's origin.
        this.#source = { url: response.url, anonymous: !sameOrigin };
        if (!sameOrigin) this.#result.redirectedTo = response.url.origin;
      }
    }
    return response;
  }

  async #fetchRange(
    range: RangeProgress,
    { handle, writer, hasher, sync }: RangedFile,
    probe: TransportResponse | undefined,
    batches: [Buffer, Buffer],
  ): Promise<void> {
    const maxResumes = this.#options.maxResumes ?? 5;
    let failures = 0;
    let response = probe;
    while (range.done < range.end - range.start) {
      response ??= await this.#request(range);
      const before = range.done;
      let broken: unknown;
      try {
        await checkPartialResponse(response, range, this.#descriptor.size);
        broken = await receiveRange(response, range, handle, {
          idleMs: this.#options.idleTimeoutMs ?? 30_000,
          signal: this.#controller.signal,
          batches,
          onWritten: (length) => {
            this.#result.fetchedBytes += length;
            this.#options.onProgress?.(length);
            // The progress claims bytes written, synced or not: a killed process leaves them in
            // the page cache for the next run, and after a power loss that lost some, the digest
            // checked at the end catches it and the blob is fetched again whole.
            writer.changed();
            hasher.advance();
            sync.wrote(length);
          },
        });
      } catch (error) {
        abandon(response);
        throw error;
      }
      response = undefined;
      if (range.done === range.end - range.start) return;
      if (range.done > before) failures = 0;
      if (failures >= maxResumes) {
        throw new NetworkError({
          method: 'GET',
          url: this.#url,
          detail: `bytes ${range.start}-${range.end - 1} broke off ${failures + 1} times in a row; gave up at byte ${range.start + range.done}`,
          cause: broken,
          answered: true,
        });
      }
      this.#result.resumes++;
      await this.#transport.pause(
        failures++,
        undefined,
        { method: 'GET', url: this.#source.url, signal: this.#controller.signal },
        broken === undefined ? 'body ended early' : 'body broke off',
      );
    }
  }
}
