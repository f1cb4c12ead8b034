/**
 * Blob downloads that verify while they stream and survive a broken connection: a body that
 * stops early is resumed with `Range: bytes=N-` from the last byte received; a server that ignores
 * Range (200 instead of 206) is read again from the start with the bytes already delivered
 * skipped, so that the consumer's stream stays one clean pass.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DigestMismatchError,
  Digester,
  FerryError,
  parseDigest,
  SizeMismatchError,
  verifyDigest,
  type Descriptor,
} from '@ferry/oci';
import { NetworkError, redactUrl, RegistryErrorCode } from './errors.js';
import { abortedError } from './request-errors.js';
import { isBodyCutShort, isRetryableError } from './retry-policy.js';
import {
  abandon,
  discard,
  responseError,
  type Transport,
  type TransportResponse,
} from './transport.js';

export interface FetchBlobOptions {
  signal?: AbortSignal | undefined;
  /** Called with the number of new bytes delivered. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** How often a broken body may be resumed. Default 5. */
  maxResumes?: number;
  /**
   * Start at this byte: the caller already holds bytes [0, offset) (a `.partial` file) and passes
   * a digester that has hashed them, so that the whole blob is still verified.
   */
  resume?: { offset: number; digester: Digester } | undefined;
}

/** What a download cost; read it after the stream ends. */
export interface DownloadStats {
  /** Bytes received over the network, including any read again after a restart. */
  bytesReceived: number;
  /** Bytes received that had already been delivered (a server that ignored Range). */
  bytesRefetched: number;
  /** Resumed requests after a broken body. */
  resumes: number;
  /** Resumes the server answered 200 to (no Range support): read from the start again. */
  restarts: number;
}

export interface BlobDownload {
  stream: Readable;
  stats: DownloadStats;
}

export function downloadBlob(
  transport: Transport,
  url: URL,
  scopes: string[],
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  options: FetchBlobOptions = {},
): BlobDownload {
  const stats: DownloadStats = { bytesReceived: 0, bytesRefetched: 0, resumes: 0, restarts: 0 };
  const stream = Readable.from(chunks(transport, url, scopes, descriptor, options, stats), {
    objectMode: false,
    highWaterMark: 1024 * 1024,
  });
  return { stream, stats };
}

async function* chunks(
  transport: Transport,
  url: URL,
  scopes: string[],
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  options: FetchBlobOptions,
  stats: DownloadStats,
): AsyncGenerator<Buffer> {
  const delivery = new Delivery(descriptor, options, stats);
  for (let attempt = 0; !delivery.complete || attempt === 0; attempt++) {
    const opened = await openAttempt(
      transport,
      url,
      scopes,
      descriptor,
      delivery.delivered,
      options,
      stats,
    );
    if (!opened) break;
    const { response } = opened;
    delivery.skip = opened.skip;
    try {
      for await (const raw of response.body as AsyncIterable<Buffer>) {
        const chunk = delivery.accept(raw);
        if (chunk) yield chunk;
      }
    } catch (error) {
      abandon(response);
      await pauseBeforeResume(error, url, delivery.delivered, descriptor, options, stats);
      continue;
    }
    if (!delivery.complete) countShortBody(delivery, descriptor, options, stats);
  }
  delivery.verify();
}

/**
 * What the attempts at one blob delivered so far, and the checks on each piece: bytes the
 * caller holds already (a server that ignored Range sends them again) are dropped, bytes past
 * the blob's size refused, the rest hashed, counted and reported. `verify` checks the digest.
 */
export class Delivery {
  readonly #descriptor: Pick<Descriptor, 'digest' | 'size'>;
  readonly #digester: Digester;
  readonly #onProgress: ((bytes: number) => void) | undefined;
  readonly #stats: DownloadStats;
  readonly subject: string;
  delivered: number;
  /** Bytes of the current answer to drop: the caller has them already. */
  skip = 0;

  constructor(
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    options: Pick<FetchBlobOptions, 'resume' | 'onProgress'>,
    stats: DownloadStats,
  ) {
    this.#descriptor = descriptor;
    this.subject = `blob ${descriptor.digest}`;
    this.#digester =
      options.resume?.digester ?? new Digester(parseDigest(descriptor.digest).algorithm);
    this.#onProgress = options.onProgress;
    this.#stats = stats;
    this.delivered = options.resume?.offset ?? 0;
    if (this.delivered > descriptor.size) {
      throw new SizeMismatchError(descriptor.size, this.delivered, this.subject);
    }
  }

  get complete(): boolean {
    return this.delivered >= this.#descriptor.size;
  }

  /** The new part of `raw` (a view of it), hashed and counted; undefined when nothing is new. */
  accept(raw: Buffer): Buffer | undefined {
    this.#stats.bytesReceived += raw.byteLength;
    let chunk = raw;
    if (this.skip > 0) {
      const dropped = Math.min(this.skip, chunk.byteLength);
      this.#stats.bytesRefetched += dropped;
      this.skip -= dropped;
      chunk = chunk.subarray(dropped);
      if (chunk.byteLength === 0) return undefined;
    }
    const size = this.#descriptor.size;
    if (this.delivered + chunk.byteLength > size) {
      throw new SizeMismatchError(size, this.delivered + chunk.byteLength, this.subject);
    }
    this.#digester.update(chunk);
    this.delivered += chunk.byteLength;
    this.#onProgress?.(chunk.byteLength);
    return chunk;
  }

  /** Throws unless the bytes delivered are the blob's. */
  verify(): void {
    const actual = this.#digester.digest();
    if (actual !== this.#descriptor.digest) {
      throw new DigestMismatchError(this.#descriptor.digest, actual, this.subject);
    }
  }
}

/**
 * A small blob fetched whole into memory and verified, without the stream machinery of
 * {@link downloadBlob} (an async generator, a Readable and an async iterator per blob): for a pull
 * of 1,000 small files that machinery cost more CPU than the bytes. A body that breaks is resumed
 * through {@link downloadBlob} from the byte reached, and the whole blob is still verified.
 */
export async function downloadBlobBytes(
  transport: Transport,
  url: URL,
  scopes: string[],
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  options: Pick<FetchBlobOptions, 'signal' | 'onProgress'> = {},
): Promise<Buffer> {
  const subject = `blob ${descriptor.digest}`;
  const { algorithm } = parseDigest(descriptor.digest);
  const response = await transport.send({ method: 'GET', url, scopes, signal: options.signal });
  if (response.status !== 200) throw await responseError(response, 'GET');
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    checkFullResponse(response.headers, descriptor, subject);
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      received += chunk.byteLength;
      if (received > descriptor.size) {
        throw new SizeMismatchError(descriptor.size, received, subject);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    abandon(response);
    if (error instanceof FerryError || options.signal?.aborted) throw error;
    if (!isRetryableError(error) && !isBodyCutShort(error)) throw error;
  }
  options.onProgress?.(received);
  if (received < descriptor.size) {
    // Broken, or ended cleanly but short (a proxy that dropped the rest): continue from here.
    const digester = new Digester(algorithm);
    for (const chunk of chunks) digester.update(chunk);
    const rest = downloadBlob(transport, url, scopes, descriptor, {
      ...options,
      resume: { offset: received, digester },
    }).stream;
    for await (const chunk of rest as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      received += chunk.byteLength;
    }
    return Buffer.concat(chunks, received);
  }
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
  verifyDigest(bytes, descriptor.digest, subject);
  return bytes;
}

/**
 * Sends one GET of the blob from byte `delivered` (with Range past 0) and checks its answer:
 * a 200 (with `skip` bytes already delivered, when the server ignored Range) or a 206 from
 * `delivered`. Undefined when a 416 says the blob is complete already.
 */
export async function openAttempt(
  transport: Transport,
  url: URL,
  scopes: string[],
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  delivered: number,
  options: Pick<FetchBlobOptions, 'signal'> & { bulk?: boolean | undefined },
  stats: DownloadStats,
): Promise<{ response: TransportResponse; skip: number } | undefined> {
  const subject = `blob ${descriptor.digest}`;
  const range = delivered > 0;
  const response = await transport.send({
    method: 'GET',
    url,
    headers: range ? { range: `bytes=${delivered}-` } : {},
    scopes,
    signal: options.signal,
    ...(options.bulk === true ? { bulk: true } : {}),
  });
  let skip = 0;
  if (response.status === 200) {
    try {
      checkFullResponse(response.headers, descriptor, subject);
    } catch (error) {
      abandon(response);
      throw error;
    }
    if (range) {
      skip = delivered;
      stats.restarts++;
    }
  } else if (response.status === 206 && range) {
    try {
      checkContentRange(response.headers['content-range'], delivered, descriptor, response.url);
    } catch (error) {
      abandon(response);
      throw error;
    }
  } else if (response.status === 416 && range && delivered === descriptor.size) {
    await discard(response);
    return undefined;
  } else {
    throw await responseError(response, 'GET');
  }
  return { response, skip };
}

/**
 * A body broke at byte `delivered`: throws when that is final (the bytes were wrong, the caller
 * aborted, the error is not a network one, or too many resumes), else waits before the resume.
 */
export async function pauseBeforeResume(
  error: unknown,
  url: URL,
  delivered: number,
  descriptor: Pick<Descriptor, 'size'>,
  options: Pick<FetchBlobOptions, 'signal' | 'maxResumes'>,
  stats: DownloadStats,
): Promise<void> {
  if (options.signal?.aborted) throw abortedError(undefined, options.signal.reason ?? error);
  if (error instanceof FerryError) throw error;
  if (!isRetryableError(error) && !isBodyCutShort(error)) throw error;
  if (stats.resumes >= (options.maxResumes ?? 5)) {
    throw new NetworkError({
      method: 'GET',
      url,
      detail: `the connection broke ${stats.resumes + 1} times; gave up at byte ${delivered} of ${descriptor.size}`,
      cause: error,
      answered: true,
    });
  }
  stats.resumes++;
  await sleep(Math.min(2000, 100 * 2 ** stats.resumes), undefined, { signal: options.signal });
}

/** A body ended cleanly but short (a proxy that dropped the rest): resume as for a break. */
export function countShortBody(
  delivery: Delivery,
  descriptor: Pick<Descriptor, 'size'>,
  options: Pick<FetchBlobOptions, 'maxResumes'>,
  stats: DownloadStats,
): void {
  if (stats.resumes >= (options.maxResumes ?? 5)) {
    throw new SizeMismatchError(descriptor.size, delivery.delivered, delivery.subject);
  }
  stats.resumes++;
}

export function checkFullResponse(
  headers: Record<string, string | string[] | undefined>,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  subject: string,
): void {
  const length = headers['content-length'];
  if (typeof length === 'string' && Number(length) !== descriptor.size) {
    // Refuse before reading: a server that announces 10^15 bytes for a 4 KiB blob is wrong.
    throw new SizeMismatchError(descriptor.size, Number(length), subject);
  }
  const digest = headers['docker-content-digest'];
  if (typeof digest === 'string' && digest !== descriptor.digest) {
    throw new DigestMismatchError(descriptor.digest, digest, subject);
  }
}

export function checkContentRange(
  header: string | string[] | undefined,
  offset: number,
  descriptor: Pick<Descriptor, 'size'>,
  url: URL,
): void {
  const match =
    typeof header === 'string' ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (
    !match ||
    Number(match[1]) !== offset ||
    (match[3] !== '*' && Number(match[3]) !== descriptor.size)
  ) {
    throw new FerryError(
      RegistryErrorCode.Protocol,
      `GET ${redactUrl(url)}: asked for bytes ${offset}- but got Content-Range ${JSON.stringify(header ?? null)}`,
    );
  }
}
