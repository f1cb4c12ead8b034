/**
 * Helpers for tests of the bulk GET path (bulk-connector.ts, bulk-body.ts) against the raw
 * loopback servers of raw-server.ts: a connector with test defaults, canned answers, and readers
 * that copy a body out the two ways a consumer can take it.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BodySink, BulkBody } from '../bulk-body.js';
import { BulkConnector, type BulkConnectorOptions } from '../bulk-connector.js';
import {
  send,
  startRawServer,
  type Answer,
  type RawConnection,
  type RawServer,
  type RawServerOptions,
} from './raw-server.js';

/** The servers a test file started; `closeAll` after each test. */
export class RawServers {
  #open: RawServer[] = [];

  async serve(answer: Answer, options: RawServerOptions = {}): Promise<RawServer> {
    const server = await startRawServer(answer, options);
    this.#open.push(server);
    return server;
  }

  async closeAll(): Promise<void> {
    const open = this.#open;
    this.#open = [];
    await Promise.all(open.map((server) => server.close()));
  }
}

/**
 * Generous timeouts: a test that waits this long has already failed (the idle-timeout tests set
 * their own). No connection is kept, so that servers see each exchange end (the keep-alive
 * tests ask for one).
 */
export function testConnector(options: Partial<BulkConnectorOptions> = {}): BulkConnector {
  return new BulkConnector({
    tls: { rejectUnauthorized: true },
    idleTimeoutMs: 10_000,
    keepAliveTimeoutMs: 0,
    ...options,
  });
}

export function blobUrl(raw: RawServer, path = '/v2/repo/blobs/sha256:0'): URL {
  return new URL(`http://127.0.0.1:${raw.port}${path}`);
}

/** Answers every request with `bytes` once its head arrived; the connection stays open. */
export function answerWith(bytes: string | Buffer): Answer {
  return async (connection) => {
    await connection.head;
    await send(connection.socket, bytes);
  };
}

/** As {@link answerWith}, then closes the connection (FIN). */
export function answerAndClose(bytes: string | Buffer): Answer {
  return async (connection) => {
    await connection.head;
    connection.socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  };
}

/** Serves `body` under a Content-Length, head and body in two writes; the connection stays open. */
export function serveBody(body: Buffer): Answer {
  return async (connection) => {
    await connection.head;
    await send(connection.socket, `HTTP/1.1 200 OK\r\ncontent-length: ${body.byteLength}\r\n\r\n`);
    await send(connection.socket, body);
  };
}

/** The body taken through `pump`, copied (slices are only valid during `take`). */
export async function pumpAll(body: BulkBody): Promise<Buffer> {
  const parts: Buffer[] = [];
  await body.pump({
    take: (data) => {
      parts.push(Buffer.from(data));
      return true;
    },
    ready: () => Promise.resolve(),
  });
  return Buffer.concat(parts);
}

/** The body read as an ordinary Readable. */
export async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A body of `length` bytes in which every 4-byte word differs from its neighbours. */
export function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i + 4 <= length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  return bytes;
}

/** The one connection the server saw; throws if it saw another number. */
export function onlyConnection(raw: RawServer): RawConnection {
  if (raw.connections.length !== 1) {
    throw new Error(`expected 1 connection, the server saw ${raw.connections.length}`);
  }
  return raw.connections[0] as RawConnection;
}

/** A sink that copies what it takes and records whether anything came while it was paused. */
export function copyingSink(
  pauseEvery = 0,
): BodySink & { received(): Buffer; takenWhilePaused: number } {
  const parts: Buffer[] = [];
  let waiting = false;
  const sink = {
    takenWhilePaused: 0,
    received: () => Buffer.concat(parts),
    take: (data: Buffer) => {
      if (waiting) sink.takenWhilePaused++;
      parts.push(Buffer.from(data));
      if (pauseEvery > 0 && parts.length % pauseEvery === 0) waiting = true;
      return !waiting;
    },
    ready: () =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          waiting = false;
          resolve();
        }),
      ),
  };
  return sink;
}
