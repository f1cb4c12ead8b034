/**
 * Sends an {@link UploadSource} as a chunked request body (RFC 9112 §7.1) from two fixed buffers:
 * one is read into while the socket sends the other, and a buffer is read into again only once
 * the socket's write of it completed (until then the socket may still point at its bytes).
 */
import type { Socket } from 'node:net';
import type { UploadSource } from './upload-source.js';

const PIECE = 1024 * 1024;

/**
 * Reads `source` to its end and writes it to `socket`, then the last chunk. Stops early, without
 * the last chunk, once `answered()` (the server replied before the body's end). Closes the source.
 */
export async function sendChunked(
  socket: Socket,
  source: UploadSource,
  answered: () => boolean,
): Promise<void> {
  const buffers = [Buffer.allocUnsafe(PIECE), Buffer.allocUnsafe(PIECE)];
  const sending: (Promise<void> | undefined)[] = [undefined, undefined];
  try {
    for (let turn = 0; ; turn ^= 1) {
      await sending[turn];
      if (answered() || socket.destroyed) return;
      const buffer = buffers[turn] as Buffer;
      const length = await source.read(buffer);
      if (answered() || socket.destroyed) return;
      if (length === 0) break;
      socket.write(`${length.toString(16)}\r\n`);
      const sent = new Promise<void>((resolve, reject) =>
        socket.write(buffer.subarray(0, length), (error) => (error ? reject(error) : resolve())),
      );
      // Awaited on this buffer's next turn; a failure before then is the socket's error too.
      sent.catch(() => {});
      sending[turn] = sent;
      socket.write('\r\n');
    }
    await Promise.all(sending);
    if (!answered() && !socket.destroyed) socket.write('0\r\n\r\n');
  } finally {
    await source.close();
  }
}
