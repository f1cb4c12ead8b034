import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyCutShortError } from './bulk-body.js';
import type { BulkConnector } from './bulk-connector.js';
import {
  blobUrl,
  copyingSink,
  onlyConnection,
  pattern,
  serveBody,
  RawServers,
  testConnector,
} from './testing/bulk-client.js';
import { send } from './testing/raw-server.js';

const servers = new RawServers();
afterEach(() => servers.closeAll());

function bulk(readBufferSize?: number): BulkConnector {
  return testConnector({ readBufferSize });
}

describe('BulkBody abort', () => {
  it('rejects the request and closes the connection when aborted before the head', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupted');
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      controller.abort(reason);
    });
    await expect(
      bulk().request({ url: blobUrl(raw), headers: {}, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError', cause: reason });
    await onlyConnection(raw).closed;
  });

  it('fails a later pump and closes the connection when aborted after the head', async () => {
    const controller = new AbortController();
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome');
    });
    const response = await bulk().request({
      url: blobUrl(raw),
      headers: {},
      signal: controller.signal,
    });
    controller.abort(new Error('interrupted'));
    await onlyConnection(raw).closed;
    const sink = copyingSink();
    await expect(response.body.pump(sink)).rejects.toMatchObject({
      name: 'AbortError',
      cause: controller.signal.reason,
    });
    expect(sink.received().byteLength).toBe(0);
  });

  it('fails a Readable read after an abort after the head', async () => {
    const controller = new AbortController();
    const raw = await servers.serve(serveBody(pattern(1000)));
    const response = await bulk().request({
      url: blobUrl(raw),
      headers: {},
      signal: controller.signal,
    });
    controller.abort();
    await onlyConnection(raw).closed;
    await expect(
      (async () => {
        for await (const part of response.body) void part;
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails the pump and closes the connection when aborted during the pump', async () => {
    const controller = new AbortController();
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n');
      await send(connection.socket, pattern(5000));
    });
    const response = await bulk(1024).request({
      url: blobUrl(raw),
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
    await onlyConnection(raw).closed;
  });

  it('fails the pump when aborted while the sink waits', async () => {
    const controller = new AbortController();
    const raw = await servers.serve(serveBody(pattern(100_000)));
    const response = await bulk(1024).request({
      url: blobUrl(raw),
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
    await onlyConnection(raw).closed;
  });

  it('lets go of the abort signal once a body is done, read, dumped or failed', async () => {
    const controller = new AbortController();
    const listeners = () => getEventListeners(controller.signal, 'abort').length;
    let answer = 0;
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      if (answer++ === 3)
        return void connection.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\ncut');
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody');
    });
    const request = () =>
      bulk().request({ url: blobUrl(raw), headers: {}, signal: controller.signal });
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
