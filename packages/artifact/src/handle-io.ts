/**
 * Streaming through a FileHandle without handing it to an fs stream: an fs stream given the
 * handle keeps a reference that makes FileHandle.close() wait forever unless the stream closes
 * it, and one given the bare descriptor closes it on error, after which a late close can hit a
 * descriptor number already reused by another file. These only ever call the handle's methods,
 * so the handle stays the one owner of its descriptor.
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

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
 */
export function handleWriter(handle: FileHandle, highWaterMark = 16 * 1024): Writable {
  return new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      writeAll(handle, [chunk]).then(() => callback(), callback);
    },
    writev(chunks, callback) {
      writeAll(
        handle,
        chunks.map(({ chunk }) => chunk as Buffer),
      ).then(() => callback(), callback);
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
