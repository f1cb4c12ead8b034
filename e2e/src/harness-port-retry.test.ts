import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fetch } from 'undici';
import { startRegistry } from './harness/index.js';
import { freePort } from './harness/process.js';
import type * as ProcessModule from './harness/process.js';

// Hands the harness a port that is already taken once, to reproduce the race between freePort()
// closing its probe socket and the registry binding the port.
vi.mock('./harness/process.js', async (importOriginal) => {
  const real = await importOriginal<typeof ProcessModule>();
  return { ...real, freePort: vi.fn(real.freePort) };
});

describe('registry harness port race', () => {
  let squatter: Server;
  let taken: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts and never answers, like an unrelated service; the harness's readiness probe will
    // connect to it before the registry gives up on the port.
    squatter = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    taken = (squatter.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });

  it('retries on a fresh port when the chosen one was grabbed in between', async () => {
    vi.mocked(freePort).mockResolvedValueOnce(taken);
    const lines: string[] = [];
    const registry = await startRegistry({ mode: 'anonymous', log: (s) => lines.push(s) });
    try {
      expect(lines.join('\n')).toContain(`port ${taken} was taken`);
      expect(registry.host).not.toBe(`127.0.0.1:${taken}`);
      const res = await fetch(`${registry.url}/v2/`);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    } finally {
      await registry.stop();
    }
  });
});
