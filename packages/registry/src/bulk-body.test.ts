import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyCutShortError, BulkBody, type BodyConnection } from './bulk-body.js';
import type { BulkConnector } from './bulk-connector.js';
import { ChunkedDecoder, CloseDecoder, LengthDecoder } from './http1-framing.js';
import {
  blobUrl,
  copyingSink,
  onlyConnection,
  pattern,
  RawServers,
  serveBody,
  sha256,
  testConnector,
} from './testing/bulk-client.js';
import { chunked, send } from './testing/raw-server.js';

const servers = new RawServers();
afterEach(() => servers.closeAll());

function bulk(readBufferSize?: number): BulkConnector {
  return testConnector({ readBufferSize });
}

/** A connection that records what the body asked of it. */
function fakeConnection(): BodyConnection & {
  resumes: number;
  destroys: number;
  releases: boolean[];
} {
  const connection = {
    resumes: 0,
    destroys: 0,
    releases: [] as boolean[],
    pause: () => {},
    resume: () => void connection.resumes++,
    destroy: () => void connection.destroys++,
    release: (clean: boolean) => void connection.releases.push(clean),
  };
  return connection;
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
    // Ended where its length says, with nothing after it: the connection may be kept.
    expect(connection.releases).toEqual([true]);
    expect(connection.destroys).toBe(0);
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
    const raw = await servers.serve(serveBody(data));
    const response = await bulk(1024).request({ url: blobUrl(raw), headers: {} });
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
    await onlyConnection(raw).closed;
  });

  it('delivers a chunked body in order to a sink that pauses after every slice', async () => {
    const data = pattern(300 * 1024);
    const parts: Buffer[] = [];
    for (let at = 0; at < data.byteLength; at += 7001) parts.push(data.subarray(at, at + 7001));
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      await send(connection.socket, chunked(parts, { extension: ';e=1' }));
    });
    const response = await bulk(1000).request({ url: blobUrl(raw), headers: {} });
    const sink = copyingSink(1);
    await response.body.pump(sink);
    expect(sink.takenWhilePaused).toBe(0);
    expect(sha256(sink.received())).toBe(sha256(data));
  });

  it('reads as a Readable into a slow Writable, with every byte in order', async () => {
    const data = pattern(1024 * 1024);
    const raw = await servers.serve(serveBody(data));
    const response = await bulk(1024).request({ url: blobUrl(raw), headers: {} });
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
    const raw = await servers.serve(serveBody(data));
    const slow = testConnector({ idleTimeoutMs: 100, readBufferSize: 1024 });
    const response = await slow.request({ url: blobUrl(raw), headers: {} });
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
    const raw = await servers.serve(serveBody(pattern(64 * 1024)));
    const response = await bulk(1024).request({ url: blobUrl(raw), headers: {} });
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
    await onlyConnection(raw).closed;
    expect(response.body.destroyed).toBe(true);
  });

  it('fails the pump with the error ready() rejects with, and closes the connection', async () => {
    const raw = await servers.serve(serveBody(pattern(64 * 1024)));
    const response = await bulk(1024).request({ url: blobUrl(raw), headers: {} });
    const refused = new Error('the write failed');
    let takes = 0;
    await expect(
      response.body.pump({
        take: () => ++takes % 2 === 1,
        ready: () => Promise.reject(refused),
      }),
    ).rejects.toBe(refused);
    expect(takes).toBe(2);
    await onlyConnection(raw).closed;
  });

  it('closes the connection when dumped', async () => {
    const raw = await servers.serve(serveBody(pattern(64 * 1024)));
    const response = await bulk(1024).request({ url: blobUrl(raw), headers: {} });
    await response.body.dump();
    await onlyConnection(raw).closed;
    expect(response.body.destroyed).toBe(true);
  });

  it('closes the connection when a Readable consumer stops early', async () => {
    const raw = await servers.serve(serveBody(pattern(256 * 1024)));
    const response = await bulk(1024).request({ url: blobUrl(raw), headers: {} });
    for await (const part of response.body) {
      expect((part as Buffer).byteLength).toBeGreaterThan(0);
      break;
    }
    await onlyConnection(raw).closed;
  });
});
