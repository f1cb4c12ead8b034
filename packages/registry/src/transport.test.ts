import { createServer, type AddressInfo, type Socket } from 'node:net';
import { MockAgent } from 'undici';
import { isNotFound } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError } from './errors.js';
import { Registry } from './registry.js';
import { json, recordingSleep, startLoopback, type LoopbackServer } from './testing/loopback.js';
import { formatHeaders } from './transport.js';

let server: LoopbackServer;
let storage: LoopbackServer;
beforeEach(async () => {
  server = await startLoopback();
  storage = await startLoopback();
});
afterEach(async () => {
  await server.close();
  await storage.close();
});

function registry(extra: ConstructorParameters<typeof Registry>[1] = {}) {
  const { sleep, delays } = recordingSleep();
  const lines: string[] = [];
  const client = new Registry(server.host, { sleep, debug: (line) => lines.push(line), ...extra });
  return { client, delays, lines };
}

describe('retries', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    let calls = 0;
    server.handle = (_req, res) => {
      calls++;
      if (calls === 1)
        return json(res, 429, { errors: [{ code: 'TOOMANYREQUESTS' }] }, { 'retry-after': '3' });
      json(res, 200, {});
    };
    const { client, delays } = registry();
    await client.ping();
    expect(calls).toBe(2);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(3000);
    await client.close();
  });

  it('caps a huge Retry-After at the policy maximum', async () => {
    let calls = 0;
    server.handle = (_req, res) => {
      calls++;
      if (calls === 1) return json(res, 503, {}, { 'retry-after': '86400' });
      json(res, 200, {});
    };
    const { client, delays } = registry({ retry: { maxRetryAfterMs: 5000 } });
    await client.ping();
    expect(delays).toEqual([5000]);
    await client.close();
  });

  it('retries 503 with growing backoff, then succeeds', async () => {
    let calls = 0;
    server.handle = (_req, res) => {
      calls++;
      if (calls <= 3) return json(res, 503, {});
      json(res, 200, {});
    };
    const { client, delays, lines } = registry({ retry: { minDelayMs: 100, maxDelayMs: 100_000 } });
    await client.ping();
    expect(calls).toBe(4);
    expect(delays).toHaveLength(3);
    // Full jitter within [min/2, min·2^attempt].
    delays.forEach((delay, attempt) => {
      expect(delay).toBeGreaterThanOrEqual(50);
      expect(delay).toBeLessThanOrEqual(100 * 2 ** attempt);
    });
    expect(lines.filter((l) => l.startsWith('! GET'))).toHaveLength(3);
    await client.close();
  });

  it('gives up after the policy retries and reports the registry error', async () => {
    server.handle = (_req, res) =>
      json(res, 502, { errors: [{ code: 'UNAVAILABLE', message: 'down' }] });
    const { client } = registry({ retry: { retries: 2 } });
    const error = await client.ping().catch((e: unknown) => e);
    expect(server.requests).toHaveLength(3);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).message).toBe(
      `GET http://${server.host}/v2/: 502 UNAVAILABLE: down`,
    );
    await client.close();
  });

  it('retries a connection reset', async () => {
    let calls = 0;
    server.handle = (_req, res) => {
      calls++;
      if (calls === 1) return void res.socket?.destroy();
      json(res, 200, {});
    };
    const { client, delays } = registry();
    await client.ping();
    expect(calls).toBe(2);
    expect(delays).toHaveLength(1);
    await client.close();
  });

  it('does not retry a 404', async () => {
    const { client } = registry();
    const error = await client
      .repository('a/b')
      .manifests.resolve('v1')
      .catch((e: unknown) => e);
    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({ status: 404, code: 'ERR_REGISTRY_RESPONSE' });
    await client.close();
  });

  it('stops waiting when the signal aborts', async () => {
    server.handle = (_req, res) => json(res, 503, {}, { 'retry-after': '60' });
    const client = new Registry(server.host);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await client.ping(controller.signal).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    await client.close();
  });
});

describe('redirects', () => {
  const digest = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

  it('follows a blob redirect to another origin without sending Authorization there', async () => {
    server.handle = (req, res) => {
      if (!req.headers.authorization) {
        return json(res, 401, {}, { 'www-authenticate': `Basic realm="test"` });
      }
      res.writeHead(307, { location: `${storage.origin}/blob?X-Amz-Signature=secret` });
      res.end();
    };
    storage.handle = (req, res) => {
      if (req.headers.authorization)
        return json(res, 400, { error: 'credentials sent to storage' });
      res.writeHead(200, { 'content-length': 5 });
      res.end('hello');
    };
    const { client, lines } = registry({
      credentials: async () => ({ username: 'u', password: 'p' }),
    });
    const bytes = await client.repository('a/b').blobs.fetchBytes({ digest, size: 5 });
    expect(bytes.toString()).toBe('hello');
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests.at(-1)?.headers.authorization).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    // The trace never shows credentials or the pre-signed signature.
    const trace = lines.join('\n');
    expect(trace).not.toContain(Buffer.from('u:p').toString('base64'));
    expect(trace).not.toContain('secret');
    expect(trace).toContain('authorization: Basic REDACTED');
    await client.close();
  });

  it('an error after a redirect names what was asked, not where a hostile registry sent it', async () => {
    // The registry sends a manifest request to a host it controls, whose path smuggles a newline
    // and a fake hint, and that host answers 401 so that a hint would say "log in" to it.
    server.handle = (_req, res) => {
      res.writeHead(307, {
        location: `${storage.origin}/v2/x%0AHint:%20run%20ferry%20login%20evil/manifests/v%0A1`,
      });
      res.end();
    };
    storage.handle = (_req, res) => json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
    const { client } = registry();
    const error = await client
      .repository('team/model')
      .manifests.fetch('v1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      status: 401,
      registry: server.host,
      host: server.host,
      repository: 'team/model',
      kind: 'manifest',
      reference: 'v1',
    });
    // The message still says where the answer came from.
    expect((error as RegistryError).url).toContain(storage.host);
    await client.close();
  });

  it('a 404 from where a blob was redirected (storage) is the blob’s not-found', async () => {
    server.handle = (_req, res) => {
      res.writeHead(307, { location: `${storage.origin}/bucket/object?X-Amz-Signature=s` });
      res.end();
    };
    storage.handle = (_req, res) => json(res, 404, {});
    const { client } = registry();
    const error = await client
      .repository('a/b')
      .blobs.fetchBytes({ digest, size: 5 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, kind: 'blob', reference: digest });
    expect(isNotFound(error)).toBe(true);
    await client.close();
  });

  it('keeps Authorization on a same-origin redirect', async () => {
    server.handle = (req, res) => {
      if (!req.headers.authorization)
        return json(res, 401, {}, { 'www-authenticate': 'Basic realm="x"' });
      if (req.url?.startsWith('/v2/a/b/blobs/')) {
        res.writeHead(302, { location: '/storage/blob' });
        return void res.end();
      }
      res.writeHead(200, { 'content-length': 5 });
      res.end('hello');
    };
    const { client } = registry({ credentials: async () => ({ username: 'u', password: 'p' }) });
    await client.repository('a/b').blobs.fetchBytes({ digest, size: 5 });
    expect(server.requests.at(-1)).toMatchObject({ url: '/storage/blob' });
    expect(server.requests.at(-1)?.headers.authorization).toMatch(/^Basic /);
    await client.close();
  });

  it('refuses a redirect from https to http', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://registry.example')
      .intercept({ path: `/v2/a/b/blobs/${digest}`, method: 'GET' })
      .reply(307, '', { headers: { location: 'http://storage.example/blob' } });
    const client = new Registry('registry.example', { dispatcher: agent });
    const error = await client
      .repository('a/b')
      .blobs.fetchBytes({ digest, size: 5 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INSECURE_REDIRECT' });
    expect((error as Error).message).toContain(
      'refusing a redirect from https to http://storage.example/blob',
    );
    await agent.close();
  });

  it('stops after ten redirects', async () => {
    server.handle = (req, res) => {
      res.writeHead(302, { location: `/loop/${server.requests.length}` });
      res.end();
    };
    const { client } = registry();
    const error = await client
      .repository('a/b')
      .blobs.fetchBytes({ digest, size: 5 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOO_MANY_REDIRECTS' });
    expect(server.requests).toHaveLength(11);
    await client.close();
  });
});

describe('helpers', () => {
  it('redacts credentials in traced headers', () => {
    expect(
      formatHeaders({ authorization: 'Bearer abc.def', 'user-agent': 'ferry/1', cookie: 'x=1' }),
    ).toBe('authorization: Bearer REDACTED; user-agent: ferry/1; cookie: REDACTED');
  });

  it('sends the User-Agent ferry/<version>', async () => {
    server.handle = (_req, res) => json(res, 200, {});
    const { client } = registry();
    await client.ping();
    expect(server.requests[0]?.headers['user-agent']).toMatch(/^ferry\/\d+\.\d+\.\d+/);
    await client.close();
  });
});

describe('loopback scheme', () => {
  it('tries https first and falls back to http for a loopback server that does not speak TLS', async () => {
    server.handle = (_req, res) => json(res, 200, {});
    const { client, lines } = registry();
    await client.ping();
    await client.ping();
    expect(lines[0]).toMatch(/^> GET https:\/\/127\.0\.0\.1:\d+\/v2\//);
    expect(lines.filter((l) => l.includes('does not speak TLS'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('> GET http://'))).toHaveLength(2);
    await client.close();
  });

  it('probes TLS with one request; the others go once it has an answer, not after its retries', async () => {
    let calls = 0;
    server.handle = (_req, res) => {
      calls++;
      // The probe's first answer is a 503: it will back off and retry.
      if (calls === 1) return json(res, 503, {}, { 'retry-after': '1' });
      json(res, 200, {});
    };
    let endBackoff = () => {};
    const backoff = new Promise<void>((resolve) => (endBackoff = resolve));
    const lines: string[] = [];
    const client = new Registry(server.host, {
      // The probe's backoff lasts until the test ends it.
      sleep: () => backoff,
      debug: (line) => lines.push(line),
    });
    const probe = client.ping();
    probe.catch(() => {});
    const others = Array.from({ length: 5 }, () => client.ping());
    // Without the early release these would wait for the probe's backoff, which never ends here.
    await Promise.all(others);
    expect(lines.filter((l) => l.startsWith('> GET https://'))).toHaveLength(1);
    endBackoff();
    await probe;
    await client.close();
  });

  it('a request waiting for the TLS probe stops when its own signal aborts', async () => {
    // A server that accepts and never answers: the https probe hangs in its handshake.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const client = new Registry(`127.0.0.1:${port}`, { retry: { retries: 0 } });
    const probe = client.ping().catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    const waiting = await client
      .repository('a/b')
      .manifests.exists('latest', AbortSignal.timeout(50))
      .catch((e: unknown) => e);
    expect(waiting).toMatchObject({ code: 'ERR_ABORTED' });
    expect(Date.now() - started).toBeLessThan(5000);
    for (const socket of sockets) socket.destroy();
    silent.close();
    await probe;
    await client.close();
  });

  it('never falls back when told plainHttp, or when TLS options ask for TLS', async () => {
    server.handle = (_req, res) => json(res, 200, {});
    const plain = registry({ plainHttp: true });
    await plain.client.ping();
    expect(plain.lines.some((l) => l.startsWith('> GET https://'))).toBe(false);
    await plain.client.close();
    const tls = registry({ insecure: true, retry: { retries: 0 } });
    await expect(tls.client.ping()).rejects.toMatchObject({ code: 'ERR_NETWORK' });
    expect(tls.lines.some((l) => l.startsWith('> GET http://'))).toBe(false);
    await tls.client.close();
  });
});

describe('connection reuse', () => {
  it('keeps the connection open after HEAD requests (undici closes it by default)', async () => {
    const ports = new Set<number>();
    server.handle = (req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      // As registry:2 answers: no Connection header (the loopback server's own 1 s keep-alive
      // would make undici close the connection early anyway).
      res.writeHead(req.url?.endsWith('/v2/') ? 200 : 404, {
        'content-length': '0',
        'keep-alive': 'timeout=30',
      });
      res.end();
    };
    const { client } = registry({ concurrency: 1 });
    const blobs = client.repository('a/b').blobs;
    const answers: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      answers.push(await blobs.exists(`sha256:${String(i).repeat(64)}`));
    }
    expect(answers).toEqual(Array(10).fill(false));
    const heads = server.requests.filter((request) => request.method === 'HEAD');
    expect(heads).toHaveLength(10);
    expect(heads.map((request) => request.headers.connection)).not.toContain('close');
    // One connection for the ping and all ten HEADs.
    expect(ports.size).toBe(1);
    await client.close();
  });
});
