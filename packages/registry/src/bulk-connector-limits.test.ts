/**
 * Limits of the bulk connection that a server's pace or a redirect's URL must not get around:
 * the whole answer head within headersTimeoutMs however slowly it trickles, only http and https
 * URLs with a host, chunked coding only on HTTP/1.1, and a connection reused many times that
 * does not gather listeners.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkConnector } from './bulk-connector.js';
import { blobUrl, pumpAll, RawServers, testConnector } from './testing/bulk-client.js';
import { send, type RawConnection } from './testing/raw-server.js';

const servers = new RawServers();
const connectors: BulkConnector[] = [];
afterEach(async () => {
  for (const connector of connectors.splice(0)) connector.close();
  await servers.closeAll();
});

describe('BulkConnector limits', () => {
  it('fails with ETIMEDOUT when the head trickles in slower than headersTimeoutMs allows', async () => {
    let stop = false;
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      // A byte every 20 ms: never idle for the 1 s idle timeout, never done either.
      const head = 'HTTP/1.1 200 OK\r\n' + 'x-pad: '.padEnd(4000, 'a');
      for (const byte of head) {
        if (stop || connection.socket.destroyed) return;
        await send(connection.socket, byte);
        await sleep(20);
      }
    });
    const connector = testConnector({ idleTimeoutMs: 1000, headersTimeoutMs: 300 });
    const started = Date.now();
    await expect(connector.request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: expect.stringContaining('no complete answer in time'),
    });
    stop = true;
    expect(Date.now() - started).toBeLessThan(1000);
    await raw.connections[0]?.closed;
  });

  it.each(['file:///etc/passwd', 'data:text/plain,x', 'ftp://127.0.0.1/x'])(
    'refuses %s before connecting',
    async (target) => {
      await expect(
        testConnector().request({ url: new URL(target), headers: {} }),
      ).rejects.toMatchObject({ code: 'ERR_REGISTRY_PROTOCOL' });
    },
  );

  it.each(['099', '000', '012'])('refuses a status of %s (below 100)', async (status) => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(connection.socket, `HTTP/1.1 ${status} Odd\r\ncontent-length: 0\r\n\r\n`);
    });
    await expect(testConnector().request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject(
      {
        code: 'ERR_REGISTRY_PROTOCOL',
        message: expect.stringContaining('not an HTTP/1.1 answer'),
      },
    );
  });

  it('refuses chunked coding on an HTTP/1.0 answer', async () => {
    const raw = await servers.serve(async (connection) => {
      await connection.head;
      await send(
        connection.socket,
        'HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
    });
    await expect(testConnector().request({ url: blobUrl(raw), headers: {} })).rejects.toMatchObject(
      {
        code: 'ERR_REGISTRY_PROTOCOL',
        message: expect.stringContaining('HTTP/1.0 answer with Transfer-Encoding'),
      },
    );
  });

  it('does not keep the connection of a 204 that announced a body', async () => {
    let count = 0;
    const raw = await servers.serve((connection: RawConnection) => {
      let seen = 0;
      connection.socket.on('data', () => {
        const heads = connection.received().toString('latin1').split('\r\n\r\n').length - 1;
        for (; seen < heads; seen++) {
          void send(
            connection.socket,
            count++ === 0
              ? 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n'
              : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
          );
        }
      });
    });
    const connector = new BulkConnector({ tls: { rejectUnauthorized: true } });
    connectors.push(connector);
    await pumpAll((await connector.request({ url: blobUrl(raw), headers: {} })).body);
    const second = await connector.request({ url: blobUrl(raw), headers: {} });
    expect((await pumpAll(second.body)).toString()).toBe('ok');
    expect(raw.accepted()).toBe(2);
  });

  it('a connection reused 20 times gathers no listeners (no MaxListenersExceededWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const raw = await servers.serve((connection: RawConnection) => {
        let seen = 0;
        connection.socket.on('data', () => {
          const heads = connection.received().toString('latin1').split('\r\n\r\n').length - 1;
          for (; seen < heads; seen++) {
            void send(connection.socket, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
          }
        });
      });
      const connector = new BulkConnector({ tls: { rejectUnauthorized: true } });
      connectors.push(connector);
      for (let i = 0; i < 20; i++) {
        const response = await connector.request({ url: blobUrl(raw), headers: {} });
        expect((await pumpAll(response.body)).toString()).toBe('ok');
      }
      expect(raw.accepted()).toBe(1);
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
