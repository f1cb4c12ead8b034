/**
 * Kept connections of the bulk GET path: a connection carries the next GET to its origin only
 * when the answer before it ended exactly where its framing said and the server did not ask to
 * close; a kept connection the server closed is replaced without the caller noticing; uploads
 * never keep theirs; and close() lets them all go.
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkConnector } from './bulk-connector.js';
import { blobUrl, pumpAll, RawServers } from './testing/bulk-client.js';
import { send, type RawConnection } from './testing/raw-server.js';
import type { UploadSource } from './upload-source.js';

const servers = new RawServers();
const connectors: BulkConnector[] = [];
afterEach(async () => {
  for (const connector of connectors.splice(0)) connector.close();
  await servers.closeAll();
});

function keeping(keepAliveTimeoutMs = 10_000): BulkConnector {
  const connector = new BulkConnector({
    tls: { rejectUnauthorized: true },
    idleTimeoutMs: 10_000,
    keepAliveTimeoutMs,
  });
  connectors.push(connector);
  return connector;
}

/**
 * Answers every request head on a connection with `answer(n)` (n counts the requests over all
 * connections); `null` closes the connection instead of answering.
 */
function answering(answer: (n: number, socket: Socket) => string | null) {
  let count = 0;
  return (connection: RawConnection) => {
    let seen = 0;
    connection.socket.on('data', () => {
      const text = connection.received().toString('latin1');
      const heads = text.split('\r\n\r\n').length - 1;
      for (; seen < heads; seen++) {
        const reply = answer(count++, connection.socket);
        if (reply === null) connection.socket.destroy();
        else void send(connection.socket, reply);
      }
    });
  };
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('bulk GET connections kept from one GET to the next', () => {
  it('two GETs in a row go over one connection, with no Connection header', async () => {
    const raw = await servers.serve(answering((n) => ok(`body-${n}`)));
    const connector = keeping();
    for (const expected of ['body-0', 'body-1']) {
      const response = await connector.request({ url: blobUrl(raw), headers: {} });
      expect((await pumpAll(response.body)).toString()).toBe(expected);
    }
    expect(raw.accepted()).toBe(1);
    expect(raw.connections[0]?.received().toString('latin1')).not.toMatch(/connection:/i);
  });

  it('a chunked answer that ended cleanly leaves the connection fit for the next GET', async () => {
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const raw = await servers.serve(answering((n) => (n === 0 ? chunked : ok('second'))));
    const connector = keeping();
    expect(
      (
        await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body)
      ).toString(),
    ).toBe('abc');
    expect(
      (
        await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body)
      ).toString(),
    ).toBe('second');
    expect(raw.accepted()).toBe(1);
  });

  it.each([
    ['the server said Connection: close', ok('first', 'connection: close\r\n')],
    ['bytes followed the body', `${ok('first')}GARBAGE`],
    ['an HTTP/1.0 answer without keep-alive', 'HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nfirst'],
  ])('a new connection for the next GET when %s', async (_what, first) => {
    const raw = await servers.serve(answering((n) => (n === 0 ? first : ok('second'))));
    const connector = keeping();
    expect(
      (
        await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body)
      ).toString(),
    ).toBe('first');
    expect(
      (
        await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body)
      ).toString(),
    ).toBe('second');
    expect(raw.accepted()).toBe(2);
  });

  it('a body dropped before its end closes its connection', async () => {
    const raw = await servers.serve(answering(() => ok('x'.repeat(100_000))));
    const connector = keeping();
    const response = await connector.request({ url: blobUrl(raw), headers: {} });
    await response.body.dump();
    await raw.connections[0]?.closed;
    const again = await connector.request({ url: blobUrl(raw), headers: {} });
    expect((await pumpAll(again.body)).byteLength).toBe(100_000);
    expect(raw.accepted()).toBe(2);
  });

  it('a kept connection the server drops when reused: the GET goes again on a new one, unnoticed', async () => {
    // The second request arrives on the kept connection, which the server then drops unanswered.
    const raw = await servers.serve(answering((n) => (n === 1 ? null : ok(`body-${n}`))));
    const connector = keeping();
    expect(
      (
        await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body)
      ).toString(),
    ).toBe('body-0');
    const second = await connector.request({ url: blobUrl(raw), headers: {} });
    expect((await pumpAll(second.body)).toString()).toBe('body-2');
    expect(raw.accepted()).toBe(2);
  });

  it('a fresh connection dropped unanswered is an error, not retried', async () => {
    const raw = await servers.serve(answering(() => null));
    await expect(keeping().request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(raw.accepted()).toBe(1);
  });

  it('a byte on a kept connection that no one asked for: the connection is not used again', async () => {
    const raw = await servers.serve(answering((n) => ok(`body-${n}`)));
    const connector = keeping();
    await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body);
    const first = raw.connections[0] as RawConnection;
    first.socket.write('X');
    await first.closed;
    expect(
      (
        await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body)
      ).toString(),
    ).toBe('body-1');
    expect(raw.accepted()).toBe(2);
  });

  it('closes a connection kept longer than keepAliveTimeoutMs, and all of them on close()', async () => {
    const raw = await servers.serve(answering((n) => ok(`body-${n}`)));
    const brief = keeping(20);
    await pumpAll((await brief.request({ url: blobUrl(raw), headers: {} })).body);
    await raw.connections[0]?.closed;
    const long = keeping();
    await pumpAll((await long.request({ url: blobUrl(raw), headers: {} })).body);
    const kept = raw.connections[1] as RawConnection;
    long.close();
    await kept.closed;
    // Still usable after close(): on a new connection, not kept.
    expect(
      (await pumpAll((await long.request({ url: blobUrl(raw), headers: {} })).body)).toString(),
    ).toBe('body-2');
  });

  it('an upload says Connection: close and its connection is never kept', async () => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      // Waits for the last chunk (it may have come with the head), then answers.
      const answerOnceComplete = () => {
        if (connection.received().toString('latin1').endsWith('0\r\n\r\n')) {
          connection.socket.off('data', answerOnceComplete);
          void send(connection.socket, 'HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n');
        }
      };
      connection.socket.on('data', answerOnceComplete);
      answerOnceComplete();
    });
    const connector = keeping();
    let served = false;
    const source: UploadSource = {
      read: async (buffer) => {
        if (served) return 0;
        served = true;
        buffer.write('hello');
        return 5;
      },
      stream: () => Readable.from([]),
      close: async () => {},
    };
    const response = await connector.request({
      method: 'PATCH',
      url: blobUrl(raw),
      headers: {},
      body: source,
    });
    await pumpAll(response.body);
    expect(response.statusCode).toBe(202);
    const connection = raw.connections[0] as RawConnection;
    expect(await connection.head).toMatch(/\r\nconnection: close\r\n/);
    expect(await connection.head).toMatch(/\r\ntransfer-encoding: chunked\r\n/);
    await connection.closed;
    expect(connection.received().toString('latin1')).toMatch(/\r\n\r\n5\r\nhello\r\n0\r\n\r\n$/);
  });
});
