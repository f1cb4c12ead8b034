/**
 * A request body read from a file into buffers the sender owns: a bulk connection reads it into
 * two fixed buffers and sends each with chunked coding, reusing a buffer only once the socket
 * has taken it (no allocation per read, which is what kept a 512 MiB push at 100+ MiB of RSS);
 * undici, where the bulk path is off, reads it as a stream.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** A body read piece by piece, once. */
export interface UploadSource {
  /** Fills `buffer` from its start; resolves with the bytes read, 0 at the end. */
  read(buffer: Buffer): Promise<number>;
  /** The same bytes as a stream, for a sender that wants one (undici). */
  stream(): Readable;
  /** Releases the file, whether or not everything was read. */
  close(): Promise<void>;
}

export function isUploadSource(value: unknown): value is UploadSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as UploadSource).read === 'function' &&
    typeof (value as UploadSource).stream === 'function'
  );
}

const STREAM_READ = 1024 * 1024;

/**
 * The file at `path`, to its end, counted through `onBytes`; `stop()` ends it early (cleanly:
 * the next read finds the end), for an upload abandoned once its blob turned out to be present.
 */
export class FileUploadSource implements UploadSource {
  readonly #path: string;
  readonly #onBytes: ((bytes: number) => void) | undefined;
  #handle: Promise<FileHandle> | undefined;
  #position = 0;
  #stopped = false;
  #closed = false;
  #stream: Readable | undefined;

  constructor(path: string, onBytes?: (bytes: number) => void) {
    this.#path = path;
    this.#onBytes = onBytes;
  }

  stop(): void {
    this.#stopped = true;
    // A stream being read by undici ends after what it holds already.
    this.#stream?.push(null);
  }

  async read(buffer: Buffer): Promise<number> {
    if (this.#stopped || this.#closed) return 0;
    this.#handle ??= open(this.#path, 'r');
    const handle = await this.#handle;
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, this.#position);
    if (this.#stopped) return 0;
    this.#position += bytesRead;
    if (bytesRead > 0) this.#onBytes?.(bytesRead);
    return bytesRead;
  }

  stream(): Readable {
    let reading = false;
    const stream = new Readable({
      highWaterMark: STREAM_READ,
      read: () => {
        if (reading) return;
        reading = true;
        const buffer = Buffer.allocUnsafe(STREAM_READ);
        this.read(buffer).then(
          (n) => {
            reading = false;
            if (stream.readableEnded || stream.destroyed) return;
            stream.push(n === 0 ? null : buffer.subarray(0, n));
          },
          (error: unknown) => stream.destroy(error as Error),
        );
      },
      destroy: (error, callback) => {
        this.close().then(
          () => callback(error),
          () => callback(error),
        );
      },
    });
    stream.on('end', () => void this.close());
    this.#stream = stream;
    if (this.#stopped) stream.push(null);
    return stream;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close();
  }
}
