/**
 * A pass-through proxy in front of a registry that slows blob downloads to a fixed rate (so a
 * test can kill ferry halfway through one) and counts the blob bytes it served per request.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServedBlob {
  range: string | undefined;
  status: number;
  bytes: number;
}

export interface ThrottleProxy {
  host: string;
  served: ServedBlob[];
  close(): Promise<void>;
}

class Throttle extends Transform {
  /** When the next piece may go. Time spent waiting for upstream earns no credit: no bursts. */
  #next = Date.now();
  constructor(
    private readonly bytesPerSecond: number,
    private readonly onBytes: (n: number) => void,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    void (async () => {
      for (let at = 0; at < chunk.byteLength; at += 64 * 1024) {
        const piece = chunk.subarray(at, at + 64 * 1024);
        this.#next =
          Math.max(this.#next, Date.now()) + (piece.byteLength / this.bytesPerSecond) * 1000;
        if (this.#next > Date.now()) await sleep(this.#next - Date.now());
        this.onBytes(piece.byteLength);
        this.push(piece);
      }
      done();
    })().catch((error: unknown) => done(error as Error));
  }
}

export async function startThrottleProxy(
  upstreamPort: number,
  bytesPerSecond: number,
): Promise<ThrottleProxy> {
  const served: ServedBlob[] = [];
  const server: Server = createServer((req, res) => {
    const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '');
    const upstream = request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!isBlob) return void answer.pipe(res);
        const record: ServedBlob = {
          range: req.headers.range,
          status: answer.statusCode ?? 0,
          bytes: 0,
        };
        served.push(record);
        answer.pipe(new Throttle(bytesPerSecond, (n) => (record.bytes += n))).pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
