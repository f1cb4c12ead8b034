import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  answerAndClose,
  answerWith,
  blobUrl,
  onlyConnection,
  pumpAll,
  RawServers,
  readAll,
  sha256,
  testConnector,
} from './testing/bulk-client.js';
import { chunked, send, sendByteByByte } from './testing/raw-server.js';

const servers = new RawServers();
afterEach(() => servers.closeAll());

describe('BulkConnector request', () => {
  it('sends the request line, host, the headers in order and the blank line, nothing more (keep-alive: no Connection header)', async () => {
    const raw = await servers.serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const response = await testConnector().request({
      url: blobUrl(raw, '/v2/a/b/blobs/sha256:abc?x=1&y=%20'),
      headers: { accept: '*/*', 'X-Custom': ['one', 'two'], authorization: 'Bearer t0k' },
    });
    expect(response.statusCode).toBe(200);
    expect((await pumpAll(response.body)).toString()).toBe('ok');
    const connection = onlyConnection(raw);
    await connection.closed;
    expect(connection.received().toString('latin1')).toBe(
      'GET /v2/a/b/blobs/sha256:abc?x=1&y=%20 HTTP/1.1\r\n' +
        `host: 127.0.0.1:${raw.port}\r\n` +
        'accept: */*\r\n' +
        'X-Custom: one\r\n' +
        'X-Custom: two\r\n' +
        'authorization: Bearer t0k\r\n' +
        '\r\n',
    );
  });

  it('sends a host header given by the caller instead of its own', async () => {
    const raw = await servers.serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const response = await testConnector().request({
      url: blobUrl(raw, '/'),
      headers: { 'x-first': '1', Host: 'registry.example:5000' },
    });
    await pumpAll(response.body);
    expect(await onlyConnection(raw).head).toBe(
      'GET / HTTP/1.1\r\nhost: registry.example:5000\r\nx-first: 1\r\n\r\n',
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
    const raw = await servers.serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const bulk = testConnector();
    await expect(bulk.request({ url: blobUrl(raw), headers })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_PROTOCOL',
      message: expect.stringMatching(message),
    });
    // The next request's connection is the first the server sees.
    const response = await bulk.request({ url: blobUrl(raw), headers: { 'x-next': '1' } });
    await pumpAll(response.body);
    const connection = onlyConnection(raw);
    expect(await connection.head).toContain('x-next: 1\r\n');
  });

  it('rejects with an AbortError without connecting when the signal was aborted before', async () => {
    const raw = await servers.serve(answerWith('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      testConnector().request({ url: blobUrl(raw), headers: {}, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError', cause: controller.signal.reason });
    await pumpAll((await testConnector().request({ url: blobUrl(raw), headers: {} })).body);
    expect(raw.connections).toHaveLength(1);
  });
});

describe('BulkConnector answers', () => {
  const body = Buffer.from('0123456789abcdefghij');

  it('delivers a Content-Length body that came in the same read as the head', async () => {
    const raw = await servers.serve(
      answerWith(
        Buffer.concat([
          Buffer.from(
            'HTTP/1.1 200 OK\r\nContent-Length: 20\r\nDocker-Content-Digest: sha256:x\r\nx-many: 1\r\nX-Many:  2 \r\n\r\n',
          ),
          body,
        ]),
      ),
    );
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({
      'content-length': '20',
      'docker-content-digest': 'sha256:x',
      'x-many': ['1', '2'],
    });
    expect((await pumpAll(response.body)).equals(body)).toBe(true);
    // The body's end closes the connection, although the server keeps it open.
    await onlyConnection(raw).closed;
  });

  it('delivers the same body as a Readable', async () => {
    const raw = await servers.serve(
      answerWith(
        Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n'), body]),
      ),
    );
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect((await readAll(response.body)).equals(body)).toBe(true);
    await onlyConnection(raw).closed;
  });

  it('delivers a body whose answer came one byte per write', async () => {
    const answer = Buffer.concat([
      Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n'),
      body,
    ]);
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await sendByteByByte(connection.socket, answer);
    });
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect(response.statusCode).toBe(200);
    expect((await pumpAll(response.body)).equals(body)).toBe(true);
  });

  it('delivers a 5 MB body through a 1 KiB read buffer, as pump and as Readable', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.byteLength; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, `HTTP/1.1 200 OK\r\ncontent-length: ${big.byteLength}\r\n\r\n`);
      await send(connection.socket, big);
    });
    const bulk = testConnector({ readBufferSize: 1024 });
    let takes = 0;
    const hash = createHash('sha256');
    const response = await bulk.request({ url: blobUrl(raw), headers: {} });
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
    const readable = await bulk.request({ url: blobUrl(raw), headers: {} });
    expect(sha256(await readAll(readable.body))).toBe(sha256(big));
  });

  it('delivers a chunked body with extensions and trailers', async () => {
    const encoded = chunked([body.subarray(0, 3), body.subarray(3)], {
      extension: ';a=b;c="d;e"',
      trailers: 'x-trailer: 1\r\n',
    });
    const raw = await servers.serve(
      answerWith(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n'),
          encoded,
        ]),
      ),
    );
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect((await pumpAll(response.body)).equals(body)).toBe(true);
    await onlyConnection(raw).closed;
  });

  it('delivers a chunked body split into two writes at every position', async () => {
    const small = body.subarray(0, 7);
    const answer = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'),
      chunked([small.subarray(0, 2), small.subarray(2)], { extension: ';x', trailers: 't: 1\r\n' }),
    ]);
    let split = 0;
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, answer.subarray(0, split));
      await new Promise<void>((resolve) => setImmediate(resolve));
      await send(connection.socket, answer.subarray(split));
    });
    const bulk = testConnector();
    for (split = 1; split < answer.byteLength; split++) {
      const response = await bulk.request({ url: blobUrl(raw), headers: {} });
      const received = split % 2 ? await pumpAll(response.body) : await readAll(response.body);
      expect(received.toString(), `split at ${split}`).toBe(small.toString());
    }
  });

  it('delivers a body delimited by the close of the connection', async () => {
    const raw = await servers.serve(
      answerAndClose(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), body])),
    );
    const bulk = testConnector();
    expect(
      (await pumpAll((await bulk.request({ url: blobUrl(raw), headers: {} })).body)).equals(body),
    ).toBe(true);
    expect(
      (await readAll((await bulk.request({ url: blobUrl(raw), headers: {} })).body)).equals(body),
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
      const raw = await servers.serve(answerWith(head));
      const bulk = testConnector();
      const pumped = await bulk.request({ url: blobUrl(raw), headers: {} });
      expect((await pumpAll(pumped.body)).byteLength).toBe(0);
      const read = await bulk.request({ url: blobUrl(raw), headers: {} });
      expect((await readAll(read.body)).byteLength).toBe(0);
      await Promise.all(raw.connections.map((connection) => connection.closed));
    },
  );

  it('does not deliver bytes after the Content-Length, in the same or a later read', async () => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloEXTRA');
      await send(connection.socket, 'MORE');
    });
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect((await pumpAll(response.body)).toString()).toBe('hello');
    const second = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect((await readAll(second.body)).toString()).toBe('hello');
  });

  it('skips 100 Continue and 103 Early Hints before the answer', async () => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, 'HTTP/1.1 100 Continue\r\n\r\n');
      await new Promise<void>((resolve) => setImmediate(resolve));
      await send(
        connection.socket,
        'HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      );
    });
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({ 'content-length': '2' });
    expect((await pumpAll(response.body)).toString()).toBe('ok');
  });

  it('passes an error status and its body through', async () => {
    const raw = await servers.serve(
      answerWith(
        'HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
      ),
    );
    const response = await testConnector().request({ url: blobUrl(raw), headers: {} });
    expect(response.statusCode).toBe(404);
    expect((await readAll(response.body)).toString()).toBe('{}');
  });
});
