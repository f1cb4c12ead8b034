/**
 * Streaming through a FileHandle without handing it to an fs stream: an fs stream given the
 * handle keeps a reference that makes FileHandle.close() wait forever unless the stream closes
 * it, and one given the bare descriptor closes it on error, after which a late close can hit a
 * descriptor number already reused by another file. These only ever call the handle's methods,
 * so the handle stays the one owner of its descriptor.
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { BackgroundSync } from '@ferry/registry';

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers.filter((buffer) => buffer.byteLength > 0);
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    // A short write (rare on a regular file) continues where it stopped.
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const buffer of pending) {
      if (skip >= buffer.byteLength) skip -= buffer.byteLength;
      else {
        rest.push(buffer.subarray(skip));
        skip = 0;
      }
    }
    pending = rest;
  }
}

/**
 * A Writable that writes to `handle` at its current position (the end, for a handle opened with
 * O_APPEND), many queued chunks in one writev. Ending it does not close the handle.
 *
 * With `syncEvery`, an fdatasync starts in the background each time that many bytes were written
 * since the last one (never two at once; see {@link BackgroundSync}), and ending waits for it and
 * fails if any failed: the caller's final fsync then only flushes the tail.
 */
export function handleWriter(
  handle: FileHandle,
  highWaterMark = 16 * 1024,
  syncEvery?: number,
): Writable {
  const sync = new BackgroundSync(handle, syncEvery);
  const write = (buffers: Buffer[], callback: (error?: Error | null) => void): void => {
    const failed = sync.failure;
    if (failed) return callback(failed.error as Error);
    writeAll(handle, buffers).then(() => {
      sync.wrote(buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0));
      callback();
    }, callback);
  };
  return new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      write([chunk], callback);
    },
    writev(chunks, callback) {
      write(
        chunks.map(({ chunk }) => chunk as Buffer),
        callback,
      );
    },
    final(callback) {
      sync.settled().then(
        () => callback(),
        (error: unknown) => callback(error as Error),
      );
    },
  });
}

/** The first `length` bytes of the file, in pieces of up to `pieceSize`. */
export async function* readPrefix(
  handle: FileHandle,
  length: number,
  pieceSize = 1024 * 1024,
): AsyncGenerator<Buffer> {
  for (let position = 0; position < length;) {
    const buffer = Buffer.allocUnsafe(Math.min(pieceSize, length - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}
