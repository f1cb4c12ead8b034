/** Stream plumbing for the fault proxy: header copies, backpressured writes, trickled bodies. */
import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

export function copyHeaders(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

/** Writes a chunk, waiting for the socket to take it; false if the peer went away. */
export async function send(
  target: ServerResponse | ClientRequest,
  chunk: Buffer,
): Promise<boolean> {
  if (target.destroyed) return false;
  if (target.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      target.off('drain', done);
      target.off('close', done);
      resolve();
    };
    target.on('drain', done);
    target.on('close', done);
  });
  return !target.destroyed;
}

/** Writes a chunk and resolves once it has been handed to the kernel. */
export function flush(target: ServerResponse | ClientRequest, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (target.destroyed) return resolve();
    target.write(chunk, () => resolve());
  });
}

/** Splits a chunk into pieces sent at `bytesPerSecond`, once `afterBytes` have gone at full speed. */
export function sliced(
  chunk: Buffer,
  sentBefore: number,
  trickle: { bytesPerSecond: number; afterBytes?: number },
): { chunk: Buffer; delay: number }[] {
  const free = Math.max(0, (trickle.afterBytes ?? 0) - sentBefore);
  const out = [{ chunk: chunk.subarray(0, free), delay: 0 }];
  const step = Math.max(1, Math.floor(trickle.bytesPerSecond / 20));
  for (let at = free; at < chunk.byteLength; at += step) {
    const piece = chunk.subarray(at, at + step);
    out.push({ chunk: piece, delay: (piece.byteLength / trickle.bytesPerSecond) * 1000 });
  }
  return out.filter((s) => s.chunk.byteLength > 0);
}
