import { afterEach, describe, expect, it } from 'vitest';
import {
  answerAndClose,
  answerWith,
  blobUrl,
  onlyConnection,
  pumpAll,
  RawServers,
  readAll,
  testConnector,
} from './testing/bulk-client.js';
import { send } from './testing/raw-server.js';

const servers = new RawServers();
afterEach(() => servers.closeAll());

describe('BulkConnector refuses hostile answers', () => {
  const twoPow53 = (2 ** 53).toString(16);
  const heads: [string, string | Buffer, RegExp][] = [
    ['a garbage status line', 'HELLO WORLD\r\n\r\n', /not an HTTP\/1\.1 answer: "HELLO WORLD"/],
    [
      'a garbage first line that never ends',
      'SSH-2.0-OpenSSH_9.6\r\n',
      /not an HTTP\/1\.1 answer: "SSH-2\.0-OpenSSH_9\.6"/,
    ],
    ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', /not an HTTP\/1\.1 answer/],
    [
      'an HTTP/2 SETTINGS frame',
      Buffer.from('000000040000000000', 'hex'),
      /not an HTTP\/1\.1 answer: "\\u0000\\u0000\\u0000\\u0004/,
    ],
    ['HTTP/2.0 in the status line', 'HTTP/2.0 200 OK\r\n\r\n', /not an HTTP\/1\.1 answer/],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', /not an HTTP\/1\.1 answer/],
    [
      'a status line ended by a bare LF',
      'HTTP/1.1 200 OK\ncontent-length: 0\r\n\r\n',
      /not an HTTP/,
    ],
    [
      'a header line without colon',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      /bad header line "no colon here"/,
    ],
    ['a line starting with a colon', 'HTTP/1.1 200 OK\r\n: x\r\n\r\n', /bad header line/],
    [
      'an obs-fold line',
      'HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\ncontent-length: 0\r\n\r\n',
      /bad header line " {2}folded"/,
    ],
    ['a tab-folded line', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n\tfolded\r\n\r\n', /bad header line/],
    [
      'a space before the colon',
      'HTTP/1.1 200 OK\r\ncontent-length : 5\r\n\r\nhello',
      /bad header line/,
    ],
    [
      'a NUL in a value',
      'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 0\r\n\r\n',
      /bad value of header x-a/,
    ],
    [
      'a bare LF in a value',
      'HTTP/1.1 200 OK\r\nx-a: 1\ncontent-length: 5\r\n\r\nhello',
      /bad value of header x-a/,
    ],
    [
      'a bare CR in a value',
      'HTTP/1.1 200 OK\r\nx-a: 1\rcontent-length: 5\r\n\r\nhello',
      /bad value of header x-a/,
    ],
    [
      'a 70 KiB head that never ends',
      `HTTP/1.1 200 OK\r\nx-pad: ${'a'.repeat(70 * 1024)}`,
      /answer head is too large/,
    ],
    [
      'a complete 70 KiB head',
      `HTTP/1.1 200 OK\r\nx-pad: ${'a'.repeat(70 * 1024)}\r\ncontent-length: 0\r\n\r\n`,
      /answer head is too large/,
    ],
    [
      '70 KiB of 100 Continue heads',
      'HTTP/1.1 100 Continue\r\n\r\n'.repeat(3000),
      /answer head is too large/,
    ],
    [
      'Content-Length and Transfer-Encoding',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      /both Content-Length and Transfer-Encoding/,
    ],
    [
      'Transfer-Encoding: gzip',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n',
      /unsupported Transfer-Encoding "gzip"/,
    ],
    [
      'Transfer-Encoding: gzip, chunked',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      /unsupported Transfer-Encoding/,
    ],
    [
      'Transfer-Encoding: chunked twice',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      /unsupported Transfer-Encoding/,
    ],
    [
      'two different Content-Length values',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!',
      /bad Content-Length/,
    ],
    [
      'two equal Content-Length values',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\nhello',
      /bad Content-Length/,
    ],
    [
      'a Content-Length list',
      'HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhello',
      /bad Content-Length "5, 5"/,
    ],
    [
      'Content-Length -1',
      'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n',
      /bad Content-Length "-1"/,
    ],
    [
      'Content-Length 1e3',
      'HTTP/1.1 200 OK\r\ncontent-length: 1e3\r\n\r\n',
      /bad Content-Length "1e3"/,
    ],
    [
      'Content-Length 0x10',
      'HTTP/1.1 200 OK\r\ncontent-length: 0x10\r\n\r\n',
      /bad Content-Length "0x10"/,
    ],
    [
      'Content-Length +5',
      'HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello',
      /bad Content-Length "\+5"/,
    ],
    [
      'an empty Content-Length',
      'HTTP/1.1 200 OK\r\ncontent-length:\r\n\r\n',
      /bad Content-Length ""/,
    ],
    [
      'a Content-Length beyond 2^53',
      `HTTP/1.1 200 OK\r\ncontent-length: ${'9'.repeat(17)}\r\n\r\n`,
      /bad Content-Length/,
    ],
    [
      '101 Switching Protocols',
      'HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\nconnection: upgrade\r\n\r\n',
      /switched protocols/,
    ],
  ];
  it.each(heads)('refuses %s and closes the connection', async (_what, answer, message) => {
    // The connection stays open: a client that waits for more would run into its idle timeout.
    const raw = await servers.serve(answerWith(answer));
    await expect(testConnector().request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject(
      {
        code: 'ERR_REGISTRY_PROTOCOL',
        message: expect.stringMatching(message),
      },
    );
    await onlyConnection(raw).closed;
  });

  it('names the URL without its credentials in a protocol error', async () => {
    const raw = await servers.serve(answerWith('NOPE\r\n\r\n'));
    const target = new URL(`http://user:secret@127.0.0.1:${raw.port}/v2/x?token=abc`);
    const error = await testConnector()
      .request({ url: target, headers: {} })
      .then(
        () => new Error('the request succeeded'),
        (caught: unknown) => caught as Error,
      );
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v2\/x/);
    expect(error.message).not.toContain('secret');
  });

  const bodies: [string, string, RegExp][] = [
    ['a chunk size line zz', 'zz\r\nab\r\n0\r\n\r\n', /bad chunk size line "zz\\r"/],
    ['a chunk not followed by CRLF', '2\r\nabc\r\n0\r\n\r\n', /chunk data not followed by CRLF/],
    ['a chunk size over 2^53', `${twoPow53}\r\n`, /chunk size|bad chunk size line/],
    [
      'trailers over 16 KiB',
      `1\r\na\r\n0\r\n${'x-pad: 1234567890\r\n'.repeat(1000)}`,
      /trailers too large/,
    ],
  ];
  it.each(bodies)(
    'fails the body on %s, pumped and read, and closes the connection',
    async (_what, encoded, message) => {
      const raw = await servers.serve(
        answerWith(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${encoded}`),
      );
      const bulk = testConnector();
      const expected = { code: 'ERR_REGISTRY_PROTOCOL', message: expect.stringMatching(message) };
      const pumped = await bulk.request({ url: blobUrl(raw), headers: {} });
      await expect(pumpAll(pumped.body)).rejects.toMatchObject(expected);
      const read = await bulk.request({ url: blobUrl(raw), headers: {} });
      await expect(readAll(read.body)).rejects.toMatchObject(expected);
      await Promise.all(raw.connections.map((connection) => connection.closed));
    },
  );

  it('fails with ECONNRESET when the server closes before answering', async () => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      connection.socket.end();
    });
    await expect(testConnector().request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject(
      {
        code: 'ECONNRESET',
        message: `127.0.0.1:${raw.port} closed the connection before answering`,
      },
    );
  });

  it('fails with ECONNRESET when the server closes in the middle of the head', async () => {
    const raw = await servers.serve(answerAndClose('HTTP/1.1 200 OK\r\ncontent-len'));
    await expect(testConnector().request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject(
      {
        code: 'ECONNRESET',
      },
    );
  });

  it.each([
    ['Content-Length', 'content-length: 10\r\n\r\nhalf'],
    ['chunked', 'transfer-encoding: chunked\r\n\r\na\r\nhalf'],
    ['chunked, before the last chunk', 'transfer-encoding: chunked\r\n\r\n4\r\nhalf\r\n'],
    ['chunked, in the trailers', 'transfer-encoding: chunked\r\n\r\n4\r\nhalf\r\n0\r\nx: 1\r\n'],
  ])('fails a %s body cut short by the close, pumped and read', async (_what, rest) => {
    const raw = await servers.serve(answerAndClose(`HTTP/1.1 200 OK\r\n${rest}`));
    const bulk = testConnector();
    const expected = {
      code: 'ERR_STREAM_PREMATURE_CLOSE',
      message: expect.stringMatching(/closed before the end/),
    };
    const received: Buffer[] = [];
    const pumped = await bulk.request({ url: blobUrl(raw), headers: {} });
    await expect(
      pumped.body.pump({
        take: (data) => received.push(Buffer.from(data)) > 0,
        ready: () => Promise.resolve(),
      }),
    ).rejects.toMatchObject(expected);
    expect(Buffer.concat(received).toString()).toBe('half');
    const read = await bulk.request({ url: blobUrl(raw), headers: {} });
    await expect(readAll(read.body)).rejects.toMatchObject(expected);
  });

  it('fails the body with ECONNRESET when the server resets the connection mid-body', async () => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf');
    });
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    let taken = '';
    let tookFirst: () => void = () => {};
    const first = new Promise<void>((resolve) => (tookFirst = resolve));
    const pumped = response.body.pump({
      take: (data) => {
        taken += data.toString();
        tookFirst();
        return true;
      },
      ready: () => Promise.resolve(),
    });
    await first;
    onlyConnection(raw).socket.resetAndDestroy();
    await expect(pumped).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(taken).toBe('half');
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const raw = await servers.serve(() => {});
    const target = blobUrl(raw);
    await raw.close();
    await expect(testConnector().request({ url: target, headers: {} })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('fails with ETIMEDOUT when the server never answers, and closes the connection', async () => {
    const raw = await servers.serve(() => {});
    await expect(
      testConnector({ idleTimeoutMs: 100 }).request({ url: blobUrl(raw), headers: {} }),
    ).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: `127.0.0.1:${raw.port} sent nothing for too long`,
    });
    await onlyConnection(raw).closed;
  });

  it('fails the body with ETIMEDOUT when the server stalls mid-body', async () => {
    const raw = await servers.serve(
      answerWith('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf'),
    );
    const response = await testConnector({ idleTimeoutMs: 100 }).request({
      url: blobUrl(raw),
      headers: {},
    });
    await expect(pumpAll(response.body)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await onlyConnection(raw).closed;
  });

  it('fails with ETIMEDOUT when the connection is never made (a TLS handshake that never ends)', async () => {
    // A plain TCP server that accepts and says nothing: the TLS handshake never completes.
    const raw = await servers.serve(() => {});
    const target = new URL(`https://127.0.0.1:${raw.port}/v2/`);
    await expect(
      testConnector({ connectTimeoutMs: 100 }).request({ url: target, headers: {} }),
    ).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: `connecting to 127.0.0.1:${raw.port} timed out`,
    });
    await onlyConnection(raw).closed;
  });
});
