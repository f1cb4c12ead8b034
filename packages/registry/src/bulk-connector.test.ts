import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BulkBody } from './bulk-body.js';
import { BulkConnector, type BulkConnectorOptions } from './bulk-connector.js';
import {
  chunked,
  send,
  sendByteByByte,
  startRawServer,
  type Answer,
  type RawConnection,
  type RawServer,
} from './testing/raw-server.js';
import { makeTestCertificates, type TestCertificates } from './testing/tls.js';

let server: RawServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(answer: Answer): Promise<RawServer> {
  server = await startRawServer(answer);
  return server;
}

/** Generous: a test that waits this long has already failed (the idle-timeout tests set their own). */
function connector(options: Partial<BulkConnectorOptions> = {}): BulkConnector {
  return new BulkConnector({
    tls: { rejectUnauthorized: true },
    idleTimeoutMs: 10_000,
    ...options,
  });
}

function url(raw: RawServer, path = '/v2/repo/blobs/sha256:0'): URL {
  return new URL(`http://127.0.0.1:${raw.port}${path}`);
}

/** Answers every request with `bytes` once its head arrived; the connection stays open. */
function answerWith(bytes: string | Buffer): Answer {
  return async (connection) => {
    await connection.head;
    await send(connection.socket, bytes);
  };
}

/** As {@link answerWith}, then closes the connection (FIN). */
function answerAndClose(bytes: string | Buffer): Answer {
  return async (connection) => {
    await connection.head;
    connection.socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  };
}

async function pumpAll(body: BulkBody): Promise<Buffer> {
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

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function only(raw: RawServer): RawConnection {
  expect(raw.connections).toHaveLength(1);
  return raw.connections[0] as RawConnection;
}

describe('BulkConnector request', () => {
  it('sends the request line, host, the headers in order and connection: close, nothing more', async () => {
    const raw = await serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const response = await connector().request({
      url: url(raw, '/v2/a/b/blobs/sha256:abc?x=1&y=%20'),
      headers: { accept: '*/*', 'X-Custom': ['one', 'two'], authorization: 'Bearer t0k' },
    });
    expect(response.statusCode).toBe(200);
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    const connection = only(raw);
    await connection.closed;
    expect(connection.received().toString('latin1')).toBe(
      'GET /v2/a/b/blobs/sha256:abc?x=1&y=%20 HTTP/1.1\r\n' +
        `host: 127.0.0.1:${raw.port}\r\n` +
        'accept: */*\r\n' +
        'X-Custom: one\r\n' +
        'X-Custom: two\r\n' +
        'authorization: Bearer t0k\r\n' +
        'connection: close\r\n\r\n',
    );
  });

  it('sends a host header given by the caller instead of its own', async () => {
    const raw = await serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const response = await connector().request({
      url: url(raw, '/'),
      headers: { 'x-first': '1', Host: 'registry.example:5000' },
    });
    await pumpAll(response.body);
    expect(await only(raw).head).toBe(
      'GET / HTTP/1.1\r\nhost: registry.example:5000\r\nx-first: 1\r\nconnection: close\r\n\r\n',
    );
  });

  const refused: [string, Record<string, string | string[]>, RegExp][] = [
    ['CR LF in a value', { 'x-a': 'v\r\nx-injected: 1' }, /invalid value of request header x-a/],
    ['a bare LF in a value', { 'x-a': 'v\nx-injected: 1' }, /invalid value of request header x-a/],
    ['a bare CR in a value', { 'x-a': 'v\rx' }, /invalid value of request header x-a/],
    ['a NUL in a value', { 'x-a': 'v\0' }, /invalid value of request header x-a/],
    ['CR LF in one of several values', { 'x-a': ['ok', 'v\r\n'] }, /request header x-a/],
    ['CR LF in a host value', { host: 'h\r\nx: 1' }, /invalid value of request header host/],
    ['a name with a space', { 'x a': 'v' }, /invalid request header "x a"/],
    ['a name with a colon', { 'x:a': 'v' }, /invalid request header "x:a"/],
    ['a name with CR LF', { 'x\r\ny': 'v' }, /invalid request header/],
    ['an empty name', { '': 'v' }, /invalid request header ""/],
    ['connection', { Connection: 'keep-alive' }, /invalid request header "Connection"/],
    ['transfer-encoding', { 'transfer-encoding': 'chunked' }, /"transfer-encoding"/],
    ['content-length', { 'content-length': '5' }, /"content-length"/],
    ['upgrade', { upgrade: 'h2c' }, /"upgrade"/],
    ['expect', { expect: '100-continue' }, /"expect"/],
    ['keep-alive', { 'keep-alive': 'timeout=5' }, /"keep-alive"/],
    ['te', { TE: 'trailers' }, /"TE"/],
  ];
  it.each(refused)('refuses %s before connecting', async (_what, headers, message) => {
    const raw = await serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const bulk = connector();
    await expect(bulk.request({ url: url(raw), headers })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_PROTOCOL',
      message: expect.stringMatching(message),
    });
    // The next request's connection is the first the server sees.
    const response = await bulk.request({ url: url(raw), headers: { 'x-next': '1' } });
    await pumpAll(response.body);
    const connection = only(raw);
    expect(await connection.head).toContain('x-next: 1\r\n');
  });

  it('rejects with an AbortError without connecting when the signal was aborted before', async () => {
    const raw = await serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      connector().request({ url: url(raw), headers: {}, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError', cause: controller.signal.reason });
    await pumpAll((await connector().request({ url: url(raw), headers: {} })).body);
    expect(raw.connections).toHaveLength(1);
  });
});

describe('BulkConnector answers', () => {
  const body = Buffer.from('0123456789abcdefghij');

  it('delivers a Content-Length body that came in the same read as the head', async () => {
    const raw = await serve(
      answerWith(
        Buffer.concat([
          Buffer.from(
            'HTTP/1.1 200 OK\r\nContent-Length: 20\r\nDocker-Content-Digest: sha256:x\r\nx-many: 1\r\nX-Many:  2 \r\n\r\n',
          ),
          body,
        ]),
      ),
    );
    const response = await connector().request({ url: url(raw), headers: {} });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({
      'content-length': '20',
      'docker-content-digest': 'sha256:x',
      'x-many': ['1', '2'],
    });
    expect((await pumpAll(response.body)).equals(body)).toBe(true);
    // The body's end closes the connection, although the server keeps it open.
    await only(raw).closed;
  });

  it('delivers the same body as a Readable', async () => {
    const raw = await serve(
      answerWith(
        Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n'), body]),
      ),
    );
    const response = await connector().request({ url: url(raw), headers: {} });
    expect((await readAll(response.body)).equals(body)).toBe(true);
    await only(raw).closed;
  });

  it('delivers a body whose answer came one byte per write', async () => {
    const answer = Buffer.concat([
      Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n'),
      body,
    ]);
    const raw = await serve(async (connection) => {
      await connection.head;
      await sendByteByByte(connection.socket, answer);
    });
    const response = await connector().request({ url: url(raw), headers: {} });
    expect(response.statusCode).toBe(200);
    expect((await pumpAll(response.body)).equals(body)).toBe(true);
  });

  it('delivers a 5 MB body through a 1 KiB read buffer, as pump and as Readable', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.byteLength; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, `HTTP/1.1 200 OK\r\ncontent-length: ${big.byteLength}\r\n\r\n`);
      await send(connection.socket, big);
    });
    const bulk = connector({ readBufferSize: 1024 });
    let takes = 0;
    const hash = createHash('sha256');
    const response = await bulk.request({ url: url(raw), headers: {} });
    await response.body.pump({
      take: (data) => {
        expect(data.byteLength).toBeLessThanOrEqual(1024);
        takes++;
        hash.update(data);
        return true;
      },
      ready: () => Promise.resolve(),
    });
    expect(hash.digest('hex')).toBe(sha256(big));
    expect(takes).toBeGreaterThanOrEqual(big.byteLength / 1024);
    const readable = await bulk.request({ url: url(raw), headers: {} });
    expect(sha256(await readAll(readable.body))).toBe(sha256(big));
  });

  it('delivers a chunked body with extensions and trailers', async () => {
    const encoded = chunked([body.subarray(0, 3), body.subarray(3)], {
      extension: ';a=b;c="d;e"',
      trailers: 'x-trailer: 1\r\n',
    });
    const raw = await serve(
      answerWith(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n'),
          encoded,
        ]),
      ),
    );
    const response = await connector().request({ url: url(raw), headers: {} });
    expect((await pumpAll(response.body)).equals(body)).toBe(true);
    await only(raw).closed;
  });

  it('delivers a chunked body split into two writes at every position', async () => {
    const small = body.subarray(0, 7);
    const answer = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'),
      chunked([small.subarray(0, 2), small.subarray(2)], { extension: ';x', trailers: 't: 1\r\n' }),
    ]);
    let split = 0;
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, answer.subarray(0, split));
      await new Promise<void>((resolve) => setImmediate(resolve));
      await send(connection.socket, answer.subarray(split));
    });
    const bulk = connector();
    for (split = 1; split < answer.byteLength; split++) {
      const response = await bulk.request({ url: url(raw), headers: {} });
      const received = split % 2 ? await pumpAll(response.body) : await readAll(response.body);
      expect(received.toString(), `split at ${split}`).toBe(small.toString());
    }
  });

  it('delivers a body delimited by the close of the connection', async () => {
    const raw = await serve(
      answerAndClose(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), body])),
    );
    const bulk = connector();
    expect(
      (await pumpAll((await bulk.request({ url: url(raw), headers: {} })).body)).equals(body),
    ).toBe(true);
    expect(
      (await readAll((await bulk.request({ url: url(raw), headers: {} })).body)).equals(body),
    ).toBe(true);
  });

  it.each([
    ['204', 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['304 with a Content-Length', 'HTTP/1.1 304 Not Modified\r\ncontent-length: 1234\r\n\r\n'],
    ['204 with Transfer-Encoding', 'HTTP/1.1 204 No Content\r\ntransfer-encoding: chunked\r\n\r\n'],
    ['200 with Content-Length 0', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'],
  ])(
    'ends the empty body of a %s at once, although the server keeps the connection',
    async (_what, head) => {
      const raw = await serve(answerWith(head));
      const bulk = connector();
      const pumped = await bulk.request({ url: url(raw), headers: {} });
      expect((await pumpAll(pumped.body)).byteLength).toBe(0);
      const read = await bulk.request({ url: url(raw), headers: {} });
      expect((await readAll(read.body)).byteLength).toBe(0);
      await Promise.all(raw.connections.map((connection) => connection.closed));
    },
  );

  it('does not deliver bytes after the Content-Length, in the same or a later read', async () => {
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloEXTRA');
      await send(connection.socket, 'MORE');
    });
    const response = await connector().request({ url: url(raw), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('hello');
    const second = await connector().request({ url: url(raw), headers: {} });
    expect((await readAll(second.body)).toString()).toBe('hello');
  });

  it('skips 100 Continue and 103 Early Hints before the answer', async () => {
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 100 Continue\r\n\r\n');
      await new Promise<void>((resolve) => setImmediate(resolve));
      await send(
        connection.socket,
        'HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      );
    });
    const response = await connector().request({ url: url(raw), headers: {} });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({ 'content-length': '2' });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
  });

  it('passes an error status and its body through', async () => {
    const raw = await serve(
      answerWith(
        'HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
      ),
    );
    const response = await connector().request({ url: url(raw), headers: {} });
    expect(response.statusCode).toBe(404);
    expect((await readAll(response.body)).toString()).toBe('{}');
  });
});

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
    const raw = await serve(answerWith(answer));
    await expect(connector().request({ url: url(raw), headers: {} })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_PROTOCOL',
      message: expect.stringMatching(message),
    });
    await only(raw).closed;
  });

  it('names the URL without its credentials in a protocol error', async () => {
    const raw = await serve(answerWith('NOPE\r\n\r\n'));
    const target = new URL(`http://user:secret@127.0.0.1:${raw.port}/v2/x?token=abc`);
    const error = await connector()
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
      const raw = await serve(
        answerWith(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${encoded}`),
      );
      const bulk = connector();
      const expected = { code: 'ERR_REGISTRY_PROTOCOL', message: expect.stringMatching(message) };
      const pumped = await bulk.request({ url: url(raw), headers: {} });
      await expect(pumpAll(pumped.body)).rejects.toMatchObject(expected);
      const read = await bulk.request({ url: url(raw), headers: {} });
      await expect(readAll(read.body)).rejects.toMatchObject(expected);
      await Promise.all(raw.connections.map((connection) => connection.closed));
    },
  );

  it('fails with ECONNRESET when the server closes before answering', async () => {
    const raw = await serve(async (connection) => {
      await connection.head;
      connection.socket.end();
    });
    await expect(connector().request({ url: url(raw), headers: {} })).rejects.toMatchObject({
      code: 'ECONNRESET',
      message: `127.0.0.1:${raw.port} closed the connection before answering`,
    });
  });

  it('fails with ECONNRESET when the server closes in the middle of the head', async () => {
    const raw = await serve(answerAndClose('HTTP/1.1 200 OK\r\ncontent-len'));
    await expect(connector().request({ url: url(raw), headers: {} })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
  });

  it.each([
    ['Content-Length', 'content-length: 10\r\n\r\nhalf'],
    ['chunked', 'transfer-encoding: chunked\r\n\r\na\r\nhalf'],
    ['chunked, before the last chunk', 'transfer-encoding: chunked\r\n\r\n4\r\nhalf\r\n'],
    ['chunked, in the trailers', 'transfer-encoding: chunked\r\n\r\n4\r\nhalf\r\n0\r\nx: 1\r\n'],
  ])('fails a %s body cut short by the close, pumped and read', async (_what, rest) => {
    const raw = await serve(answerAndClose(`HTTP/1.1 200 OK\r\n${rest}`));
    const bulk = connector();
    const expected = {
      code: 'ERR_STREAM_PREMATURE_CLOSE',
      message: expect.stringMatching(/closed before the end/),
    };
    const received: Buffer[] = [];
    const pumped = await bulk.request({ url: url(raw), headers: {} });
    await expect(
      pumped.body.pump({
        take: (data) => received.push(Buffer.from(data)) > 0,
        ready: () => Promise.resolve(),
      }),
    ).rejects.toMatchObject(expected);
    expect(Buffer.concat(received).toString()).toBe('half');
    const read = await bulk.request({ url: url(raw), headers: {} });
    await expect(readAll(read.body)).rejects.toMatchObject(expected);
  });

  it('fails the body with ECONNRESET when the server resets the connection mid-body', async () => {
    const raw = await serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf');
    });
    const response = await connector().request({ url: url(raw), headers: {} });
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
    only(raw).socket.resetAndDestroy();
    await expect(pumped).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(taken).toBe('half');
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const raw = await serve(() => {});
    const target = url(raw);
    await raw.close();
    server = undefined;
    await expect(connector().request({ url: target, headers: {} })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('fails with ETIMEDOUT when the server never answers, and closes the connection', async () => {
    const raw = await serve(() => {});
    await expect(
      connector({ idleTimeoutMs: 100 }).request({ url: url(raw), headers: {} }),
    ).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: `127.0.0.1:${raw.port} sent nothing for too long`,
    });
    await only(raw).closed;
  });

  it('fails the body with ETIMEDOUT when the server stalls mid-body', async () => {
    const raw = await serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf'));
    const response = await connector({ idleTimeoutMs: 100 }).request({
      url: url(raw),
      headers: {},
    });
    await expect(pumpAll(response.body)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await only(raw).closed;
  });

  it('fails with ETIMEDOUT when the connection is never made (a TLS handshake that never ends)', async () => {
    // A plain TCP server that accepts and says nothing: the TLS handshake never completes.
    const raw = await serve(() => {});
    const target = new URL(`https://127.0.0.1:${raw.port}/v2/`);
    await expect(
      connector({ connectTimeoutMs: 100 }).request({ url: target, headers: {} }),
    ).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: `connecting to 127.0.0.1:${raw.port} timed out`,
    });
    await only(raw).closed;
  });
});

describe('BulkConnector over TLS', () => {
  let forLoopback: TestCertificates;
  let forRegistryTest: TestCertificates;
  beforeAll(() => {
    forLoopback = makeTestCertificates();
    forRegistryTest = makeTestCertificates('DNS:registry.test');
  });

  async function serveTls(certificates: TestCertificates, answer: Answer): Promise<RawServer> {
    server = await startRawServer(answer, {
      tls: { key: certificates.key, cert: certificates.cert },
    });
    return server;
  }

  const ok = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

  it('GETs with the test CA trusted, and sends no SNI for an IP address', async () => {
    const raw = await serveTls(forLoopback, answerWith(ok));
    const response = await connector({
      tls: { ca: forLoopback.caPem, rejectUnauthorized: true },
    }).request({ url: new URL(`https://127.0.0.1:${raw.port}/v2/`), headers: { 'x-a': '1' } });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    const connection = only(raw);
    expect(await connection.head).toBe(
      `GET /v2/ HTTP/1.1\r\nhost: 127.0.0.1:${raw.port}\r\nx-a: 1\r\nconnection: close\r\n\r\n`,
    );
    expect(connection.servername).toBeFalsy();
    await connection.closed;
  });

  it('reads a 1 MB body over TLS through a 1 KiB read buffer', async () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.byteLength; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
    const raw = await serveTls(
      forLoopback,
      answerWith(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${big.byteLength}\r\n\r\n`),
          big,
        ]),
      ),
    );
    const response = await connector({
      tls: { ca: forLoopback.caPem, rejectUnauthorized: true },
      readBufferSize: 1024,
    }).request({ url: new URL(`https://127.0.0.1:${raw.port}/`), headers: {} });
    let largest = 0;
    const hash = createHash('sha256');
    await response.body.pump({
      take: (data) => {
        largest = Math.max(largest, data.byteLength);
        hash.update(data);
        return true;
      },
      ready: () => Promise.resolve(),
    });
    expect(hash.digest('hex')).toBe(sha256(big));
    expect(largest).toBeLessThanOrEqual(1024);
  });

  it('fails with the certificate error, once, when the CA is not trusted', async () => {
    const raw = await serveTls(forLoopback, answerWith(ok));
    await expect(
      connector().request({ url: new URL(`https://127.0.0.1:${raw.port}/`), headers: {} }),
    ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(raw.accepted()).toBe(1);
    expect(raw.connections).toHaveLength(0);
  });

  it('GETs without verification when rejectUnauthorized is false', async () => {
    const raw = await serveTls(forLoopback, answerWith(ok));
    const response = await connector({ tls: { rejectUnauthorized: false } }).request({
      url: new URL(`https://127.0.0.1:${raw.port}/`),
      headers: {},
    });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
  });

  it('verifies the certificate against the name in the URL, not the address dialled', async () => {
    // The certificate is valid for registry.test only.
    const raw = await serveTls(forRegistryTest, answerWith(ok));
    await expect(
      connector({ tls: { ca: forRegistryTest.caPem, rejectUnauthorized: true } }).request({
        url: new URL(`https://127.0.0.1:${raw.port}/`),
        headers: {},
      }),
    ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('dials the address of a resolve rule while Host, SNI and verification keep the name', async () => {
    const raw = await serveTls(forRegistryTest, answerWith(ok));
    const response = await connector({
      tls: { ca: forRegistryTest.caPem, rejectUnauthorized: true },
      resolve: [{ host: 'Registry.Test', port: raw.port, address: '127.0.0.1' }],
    }).request({ url: new URL(`https://registry.test:${raw.port}/v2/`), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    const connection = only(raw);
    expect(connection.servername).toBe('registry.test');
    expect(await connection.head).toBe(
      `GET /v2/ HTTP/1.1\r\nhost: registry.test:${raw.port}\r\nconnection: close\r\n\r\n`,
    );
  });

  it('dials the port of a resolve rule for the default https port', async () => {
    const raw = await serveTls(forRegistryTest, answerWith(ok));
    const response = await connector({
      tls: { ca: forRegistryTest.caPem, rejectUnauthorized: true },
      resolve: [{ host: 'registry.test', port: 443, address: '127.0.0.1', addressPort: raw.port }],
    }).request({ url: new URL('https://registry.test/v2/'), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    expect(await only(raw).head).toBe(
      'GET /v2/ HTTP/1.1\r\nhost: registry.test\r\nconnection: close\r\n\r\n',
    );
  });

  it('keeps the brackets of an IPv6 literal in Host when a rule dials another address', async () => {
    const raw = await serve(answerWith(ok));
    const response = await connector({
      resolve: [{ host: '::1', port: raw.port, address: '127.0.0.1' }],
    }).request({ url: new URL(`http://[::1]:${raw.port}/v2/`), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    expect(await only(raw).head).toContain(`host: [::1]:${raw.port}\r\n`);
  });

  it('dials the address of a resolve rule for plain http', async () => {
    const raw = await serve(answerWith(ok));
    const response = await connector({
      resolve: [{ host: 'registry.test', port: raw.port, address: '127.0.0.1' }],
    }).request({ url: new URL(`http://registry.test:${raw.port}/v2/`), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    expect(await only(raw).head).toContain(`host: registry.test:${raw.port}\r\n`);
  });
});
