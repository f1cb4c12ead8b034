import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyCutShortError, BulkBody, type BodyConnection, type BodySink } from './bulk-body.js';
import { BulkConnector } from './bulk-connector.js';
import { ChunkedDecoder, CloseDecoder, LengthDecoder } from './http1-framing.js';
import {
  chunked,
  send,
  startRawServer,
  type Answer,
  type RawConnection,
  type RawServer,
} from './testing/raw-server.js';

let server: RawServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(answer: Answer): Promise<RawServer> {
  server = await startRawServer(answer);
  return server;
}

function only(raw: RawServer): RawConnection {
  expect(raw.connections).toHaveLength(1);
  return raw.connections[0] as RawConnection;
}

function bulk(readBufferSize?: number): BulkConnector {
  return new BulkConnector({
    tls: { rejectUnauthorized: true },
    idleTimeoutMs: 10_000,
    readBufferSize,
  });
}

function url(raw: RawServer): URL {
  return new URL(`http://127.0.0.1:${raw.port}/blob`);
}

/** A body of `length` bytes in which every 4-byte word differs from its neighbours. */
function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i + 4 <= length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  return bytes;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Serves `body` under a Content-Length once the request arrived; the connection stays open. */
function serveBody(body: Buffer): Answer {
  return async (connection) => {
    await connection.head;
    await send(connection.socket, `HTTP/1.1 200 OK\r\ncontent-length: ${body.byteLength}\r\n\r\n`);
    await send(connection.socket, body);
  };
}

/** A connection that records what the body asked of it. */
function fakeConnection(): BodyConnection & { resumes: number; destroys: number } {
  const connection = {
    resumes: 0,
    destroys: 0,
    pause: () => {},
    resume: () => void connection.resumes++,
    destroy: () => void connection.destroys++,
  };
  return connection;
}

/** A sink that copies what it takes and records whether anything came while it was paused. */
function copyingSink(pauseEvery = 0): BodySink & { received(): Buffer; takenWhilePaused: number } {
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

describe('BulkBody with its own connection (unit)', () => {
  it('copies input that arrives before a consumer, since the connection reuses its buffer', async () => {
    const connection = fakeConnection();
    const body = new BulkBody(connection, new LengthDecoder(10));
    const readBuffer = Buffer.from('0123456789');
    expect(body.input(readBuffer.subarray(0, 4))).toBe(false);
    readBuffer.fill(0x78);
    const sink = copyingSink();
    const pumped = body.pump(sink);
    expect(connection.resumes).toBe(1);
    readBuffer.write('456789', 0);
    expect(body.input(readBuffer.subarray(0, 6))).toBe(false);
    await pumped;
    expect(sink.received().toString()).toBe('0123456789');
    expect(connection.destroys).toBe(1);
  });

  it('copies each slice it pushes as a Readable', async () => {
    const connection = fakeConnection();
    const body = new BulkBody(connection, new CloseDecoder());
    const readBuffer = Buffer.alloc(4);
    const parts: Buffer[] = [];
    body.on('data', (part: Buffer) => parts.push(part));
    const ended = new Promise<void>((resolve) => body.once('end', resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const word of ['abcd', 'efgh', 'ijkl']) {
      readBuffer.write(word);
      body.input(readBuffer);
    }
    readBuffer.fill(0);
    body.connectionEnded();
    await ended;
    expect(Buffer.concat(parts).toString()).toBe('abcdefghijkl');
  });

  it('holds input that arrives while the sink waits, and delivers it once, in order', async () => {
    const connection = fakeConnection();
    const body = new BulkBody(connection, new ChunkedDecoder());
    const encoded = chunked([Buffer.from('hello'), Buffer.from(' '), Buffer.from('world')]);
    let release: () => void = () => {};
    const taken: string[] = [];
    let waiting = false;
    const pumped = body.pump({
      take: (data) => {
        expect(waiting).toBe(false);
        taken.push(data.toString());
        waiting = true;
        return false;
      },
      ready: () =>
        new Promise<void>((resolve) => {
          release = () => {
            waiting = false;
            resolve();
          };
        }),
    });
    const readBuffer = Buffer.alloc(encoded.byteLength);
    for (let at = 0; at < encoded.byteLength; at += 3) {
      const piece = encoded.subarray(at, at + 3);
      piece.copy(readBuffer);
      body.input(readBuffer.subarray(0, piece.byteLength));
      readBuffer.fill(0);
    }
    while (waiting) {
      release();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await pumped;
    expect(taken.join('')).toBe('hello world');
  });

  it('refuses a second consumer', () => {
    const body = new BulkBody(fakeConnection(), new LengthDecoder(1));
    void body.pump(copyingSink());
    expect(() => body.pump(copyingSink())).toThrow('the body is already being read');
  });

  it('fails a pump with BodyCutShortError when the connection ends early', async () => {
    const connection = fakeConnection();
    const body = new BulkBody(connection, new LengthDecoder(10));
    const pumped = body.pump(copyingSink());
    body.input(Buffer.from('abc'));
    body.connectionEnded();
    await expect(pumped).rejects.toBeInstanceOf(BodyCutShortError);
    await expect(pumped).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(connection.destroys).toBeGreaterThanOrEqual(1);
  });

  it('rejects a pump that starts after the body was destroyed', async () => {
    const connection = fakeConnection();
    const body = new BulkBody(connection, new LengthDecoder(10));
    body.destroy();
    await expect(body.pump(copyingSink())).rejects.toMatchObject({
      code: 'ERR_STREAM_PREMATURE_CLOSE',
    });
  });

  it('rejects a pump that starts after the connection failed, with its error', async () => {
    const body = new BulkBody(fakeConnection(), new LengthDecoder(10));
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    body.on('error', () => {});
    body.connectionFailed(reset);
    await expect(body.pump(copyingSink())).rejects.toBe(reset);
  });

  it('does not crash the process when the connection fails before anyone reads', async () => {
    const body = new BulkBody(fakeConnection(), new LengthDecoder(10));
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    // Without a listener a Readable's 'error' is an uncaught exception; vitest reports it.
    body.connectionFailed(reset);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(body.destroyed).toBe(true);
    await expect(body.pump(copyingSink())).rejects.toBe(reset);
  });
});

describe('BulkBody flow control over a connection', () => {
  it('delivers every byte once and in order to a sink that pauses often', async () => {
    const data = pattern(2 * 1024 * 1024 + 3);
    const raw = await serve(serveBody(data));
    const response = await bulk(1024).request({ url: url(raw), headers: {} });
    const sink = copyingSink(3);
    let pauses = 0;
    const ready = sink.ready;
    sink.ready = () => {
      pauses++;
      return ready();
    };
    await response.body.pump(sink);
    expect(sink.takenWhilePaused).toBe(0);
    expect(sink.received().byteLength).toBe(data.byteLength);
    expect(sha256(sink.received())).toBe(sha256(data));
    expect(pauses).toBeGreaterThan(500);
    await only(raw).closed;
  });

  it('delivers a chunked body in order to a sink that pauses after every slice', async () => {
    const data = pattern(300 * 1024);
    const parts: Buffer[] = [];
    for (let at = 0; at < data.byteLength; at += 7001) parts.push(data.subarray(at, at + 7001));
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      await send(connection.socket, chunked(parts, { extension: ';e=1' }));
    });
    const response = await bulk(1000).request({ url: url(raw), headers: {} });
    const sink = copyingSink(1);
    await response.body.pump(sink);
    expect(sink.takenWhilePaused).toBe(0);
    expect(sha256(sink.received())).toBe(sha256(data));
  });

  it('reads as a Readable into a slow Writable, with every byte in order', async () => {
    const data = pattern(1024 * 1024);
    const raw = await serve(serveBody(data));
    const response = await bulk(1024).request({ url: url(raw), headers: {} });
    const hash = createHash('sha256');
    let length = 0;
    await pipeline(
      response.body,
      new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          length += chunk.byteLength;
          setImmediate(callback);
        },
      }),
    );
    expect(length).toBe(data.byteLength);
    expect(hash.digest('hex')).toBe(sha256(data));
  });

  it('does not count the time its consumer takes against the idle timeout', async () => {
    const data = pattern(64 * 1024);
    const raw = await serve(serveBody(data));
    const slow = new BulkConnector({
      tls: { rejectUnauthorized: true },
      idleTimeoutMs: 100,
      readBufferSize: 1024,
    });
    const response = await slow.request({ url: url(raw), headers: {} });
    const later = () => new Promise<void>((resolve) => setTimeout(resolve, 400));
    // Slow to start reading, and slow to take more: the server sent everything long ago.
    await later();
    const parts: Buffer[] = [];
    await response.body.pump({
      take: (part) => parts.push(Buffer.from(part)) !== 2,
      ready: later,
    });
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
  });

  it('fails the pump with the error a take throws, and closes the connection', async () => {
    const raw = await serve(serveBody(pattern(64 * 1024)));
    const response = await bulk(1024).request({ url: url(raw), headers: {} });
    const refused = new Error('the disk is full');
    let takes = 0;
    await expect(
      response.body.pump({
        take: () => {
          if (++takes === 3) throw refused;
          return true;
        },
        ready: () => Promise.resolve(),
      }),
    ).rejects.toBe(refused);
    expect(takes).toBe(3);
    await only(raw).closed;
    expect(response.body.destroyed).toBe(true);
  });

  it('fails the pump with the error ready() rejects with, and closes the connection', async () => {
    const raw = await serve(serveBody(pattern(64 * 1024)));
    const response = await bulk(1024).request({ url: url(raw), headers: {} });
    const refused = new Error('the write failed');
    let takes = 0;
    await expect(
      response.body.pump({
        take: () => ++takes % 2 === 1,
        ready: () => Promise.reject(refused),
      }),
    ).rejects.toBe(refused);
    expect(takes).toBe(2);
    await only(raw).closed;
  });

  it('closes the connection when dumped', async () => {
    const raw = await serve(serveBody(pattern(64 * 1024)));
    const response = await bulk(1024).request({ url: url(raw), headers: {} });
    await response.body.dump();
    await only(raw).closed;
    expect(response.body.destroyed).toBe(true);
  });

  it('closes the connection when a Readable consumer stops early', async () => {
    const raw = await serve(serveBody(pattern(256 * 1024)));
    const response = await bulk(1024).request({ url: url(raw), headers: {} });
    for await (const part of response.body) {
      expect((part as Buffer).byteLength).toBeGreaterThan(0);
      break;
    }
    await only(raw).closed;
  });
});

describe('BulkBody abort', () => {
  it('rejects the request and closes the connection when aborted before the head', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupted');
    const raw = await serve(async (connection) => {
      await connection.head;
      controller.abort(reason);
    });
    await expect(
      bulk().request({ url: url(raw), headers: {}, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError', cause: reason });
    await only(raw).closed;
  });

  it('fails a later pump and closes the connection when aborted after the head', async () => {
    const controller = new AbortController();
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome');
    });
    const response = await bulk().request({
      url: url(raw),
      headers: {},
      signal: controller.signal,
    });
    controller.abort(new Error('interrupted'));
    await only(raw).closed;
    const sink = copyingSink();
    await expect(response.body.pump(sink)).rejects.toMatchObject({
      name: 'AbortError',
      cause: controller.signal.reason,
    });
    expect(sink.received().byteLength).toBe(0);
  });

  it('fails a Readable read after an abort after the head', async () => {
    const controller = new AbortController();
    const raw = await serve(serveBody(pattern(1000)));
    const response = await bulk().request({
      url: url(raw),
      headers: {},
      signal: controller.signal,
    });
    controller.abort();
    await only(raw).closed;
    await expect(
      (async () => {
        for await (const part of response.body) void part;
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails the pump and closes the connection when aborted during the pump', async () => {
    const controller = new AbortController();
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n');
      await send(connection.socket, pattern(5000));
    });
    const response = await bulk(1024).request({
      url: url(raw),
      headers: {},
      signal: controller.signal,
    });
    let received = 0;
    const reason = new Error('interrupted');
    await expect(
      response.body.pump({
        take: (data) => {
          received += data.byteLength;
          if (received >= 2048) controller.abort(reason);
          return true;
        },
        ready: () => Promise.resolve(),
      }),
    ).rejects.toMatchObject({ name: 'AbortError', cause: reason });
    expect(received).toBeLessThan(5000);
    await only(raw).closed;
  });

  it('fails the pump when aborted while the sink waits', async () => {
    const controller = new AbortController();
    const raw = await serve(serveBody(pattern(100_000)));
    const response = await bulk(1024).request({
      url: url(raw),
      headers: {},
      signal: controller.signal,
    });
    let takes = 0;
    const pumped = response.body.pump({
      take: () => {
        takes++;
        return false;
      },
      // Never ready: only the abort ends this.
      ready: () => {
        controller.abort();
        return new Promise<void>(() => {});
      },
    });
    await expect(pumped).rejects.toMatchObject({ name: 'AbortError' });
    expect(takes).toBe(1);
    await only(raw).closed;
  });

  it('lets go of the abort signal once a body is done, read, dumped or failed', async () => {
    const controller = new AbortController();
    const listeners = () => getEventListeners(controller.signal, 'abort').length;
    let answer = 0;
    const raw = await serve(async (connection) => {
      await connection.head;
      if (answer++ === 3)
        return void connection.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\ncut');
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody');
    });
    const request = () => bulk().request({ url: url(raw), headers: {}, signal: controller.signal });
    const pumped = await request();
    expect(listeners()).toBe(1);
    await pumped.body.pump(copyingSink());
    expect(listeners()).toBe(0);
    const read = await request();
    for await (const part of read.body) void part;
    expect(listeners()).toBe(0);
    const dumped = await request();
    await dumped.body.dump();
    expect(listeners()).toBe(0);
    const cut = await request();
    await expect(cut.body.pump(copyingSink())).rejects.toBeInstanceOf(BodyCutShortError);
    expect(listeners()).toBe(0);
    expect(raw.connections).toHaveLength(4);
  });
});
