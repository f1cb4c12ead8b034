/**
 * A fault-injecting HTTP proxy in front of a plain-http registry:2. It forwards method, path,
 * query, headers and bodies (streamed, with backpressure), rewrites `Location` headers that point
 * at the upstream, and follows a script of rules: the first rule whose match applies to a request
 * decides its fault. Every request is recorded (method, path, Range, bytes in and out, timing) so
 * tests can assert what ferry re-sent.
 */
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultScript, recordedHeaders } from './script.js';
import type { Fault, FaultRule, ProxyRequest, RegistryRestarter } from './script.js';
import { startStorageOrigin } from './storage.js';
import type { StorageOrigin } from './storage.js';
import { copyHeaders, flush, send, sliced } from './streams.js';
import { ConnectionThrottle } from './throttle.js';

export type { Fault, FaultRule, ProxyRequest, RegistryRestarter } from './script.js';

export interface FaultProxyOptions {
  /** `http://127.0.0.1:PORT` of the registry. */
  upstream: string;
  rules?: FaultRule[];
  /** Needed by `restartRegistry`. */
  restarter?: RegistryRestarter;
  /** Caps every response body at this many bytes per second per connection (see `throttle`). */
  throttle?: number | undefined;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`, for references. */
  readonly host: string;
  readonly url: string;
  readonly storage: StorageOrigin;
  readonly requests: readonly ProxyRequest[];
  /** Replaces the rules and clears the request logs (the proxy's and the storage origin's). */
  script(rules: FaultRule[]): void;
  /**
   * Caps the bytes per second each client connection receives, over all its responses (as CDNs
   * in front of registries do), or lifts the cap (undefined). The storage origin is capped alike.
   */
  throttle(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

const ERROR_CODES: Record<number, string> = {
  429: 'TOOMANYREQUESTS',
  500: 'UNKNOWN',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  let agent = new Agent({ keepAlive: true });
  let rules = new FaultScript([]);
  const requests: ProxyRequest[] = [];
  const seenTokens = new Set<string>();
  let restarting: Promise<void> | undefined;
  const throttle = new ConnectionThrottle(options.throttle);
  const storage = await startStorageOrigin(upstream, throttle);
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const script = (next: FaultRule[]) => {
    rules = new FaultScript(next);
    requests.length = 0;
    storage.requests.length = 0;
    seenTokens.clear();
  };
  script(options.rules ?? []);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const authorization = req.headers.authorization;
    const fault = rules.pick(method, path);
    const rec: ProxyRequest = {
      seq: requests.length + 1,
      method,
      path,
      range: req.headers.range,
      contentRange: req.headers['content-range'],
      auth: authorization?.split(' ')[0],
      headers: recordedHeaders(req.headers),
      fault: fault ? Object.keys(fault)[0] : undefined,
      status: undefined,
      bytesIn: 0,
      bytesOut: 0,
      startedAt: Date.now(),
      endedAt: undefined,
      error: undefined,
    };
    requests.push(rec);
    const ended = () => (rec.endedAt ??= Date.now());
    res.on('finish', ended);
    res.on('close', ended);
    const answer = async (status: number, headers: OutgoingHttpHeaders, body = '') => {
      for await (const chunk of req) rec.bytesIn += (chunk as Buffer).byteLength;
      rec.status = status;
      res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
    };

    if (fault && 'status' in fault) {
      const code = ERROR_CODES[fault.status] ?? 'UNKNOWN';
      const body =
        fault.body ??
        JSON.stringify({ errors: [{ code, message: `injected fault: ${fault.status}` }] });
      const headers: OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      return answer(fault.status, headers, body);
    }
    if (fault && 'redirectTo' in fault) {
      return answer(307, { location: storage.presign(path, authorization) });
    }
    if (fault && 'singleUseToken' in fault && authorization?.startsWith('Bearer ')) {
      if (seenTokens.has(authorization)) {
        const { realm, service } = fault.singleUseToken;
        const name = /^\/v2\/(.+?)\/(?:blobs|manifests|tags|referrers)\//.exec(path)?.[1];
        const actions = method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push';
        const scope = name ? `,scope="repository:${name}:${actions}"` : '';
        const challenge = `Bearer realm="${realm}",service="${service}"${scope},error="invalid_token"`;
        const body = { errors: [{ code: 'UNAUTHORIZED', message: 'token already used' }] };
        return answer(
          401,
          { 'www-authenticate': challenge, 'content-type': 'application/json' },
          JSON.stringify(body),
        );
      }
      seenTokens.add(authorization);
    }
    if (restarting) await restarting;
    if (fault && 'closeRequestAfterBytes' in fault && fault.holdBody) {
      const socket = req.socket;
      for await (const chunk of req) {
        rec.bytesIn += (chunk as Buffer).byteLength;
        if (rec.bytesIn >= fault.closeRequestAfterBytes) break;
      }
      rec.error = `request cut after ${rec.bytesIn} bytes, none forwarded`;
      socket.destroy();
      return;
    }
    forward(req, res, rec, fault);
  }

  function forward(req: IncomingMessage, res: ServerResponse, rec: ProxyRequest, fault?: Fault) {
    const socket = req.socket;
    const headers = copyHeaders(req.headers);
    headers.host = upstream.host;
    if (fault && 'ignoreRange' in fault) delete headers.range;
    const up = httpRequest({
      hostname: upstream.hostname,
      port: upstream.port,
      method: rec.method,
      path: rec.path,
      headers,
      agent,
    });
    const cut = (why: string) => {
      rec.error ??= why;
      up.destroy();
      socket.destroy();
    };
    up.on('error', (error) => cut(`upstream: ${error.message}`));
    res.on('close', () => {
      if (!res.writableFinished) cut('client went away');
    });
    up.on('response', (upRes) => void respond(upRes, res, rec, fault, cut));
    void pumpRequest(req, up, rec, fault, cut);
  }

  async function pumpRequest(
    req: IncomingMessage,
    up: ClientRequest,
    rec: ProxyRequest,
    fault: Fault | undefined,
    cut: (why: string) => void,
  ): Promise<void> {
    const limit = fault && 'closeRequestAfterBytes' in fault ? fault.closeRequestAfterBytes : -1;
    const declared = Number(req.headers['content-length'] ?? 0);
    const restartAt = fault && 'restartRegistry' in fault ? Math.max(1, declared / 2) : -1;
    try {
      for await (const raw of req) {
        let chunk = raw as Buffer;
        if (limit >= 0 && rec.bytesIn + chunk.byteLength >= limit) {
          chunk = chunk.subarray(0, limit - rec.bytesIn);
          rec.bytesIn += chunk.byteLength;
          await flush(up, chunk);
          // Give the registry time to read (and store) what it was sent.
          await sleep(50);
          return cut(`request cut after ${rec.bytesIn} bytes`);
        }
        rec.bytesIn += chunk.byteLength;
        if (!(await send(up, chunk))) return;
        if (restartAt > 0 && rec.bytesIn >= restartAt && !restarting) {
          await restartRegistry(rec);
        }
      }
      up.end();
    } catch (error) {
      cut(`request body: ${(error as Error).message}`);
    }
  }

  /** Stops the registry (the caller's upstream connection dies with it) and starts it again in
   * the background; requests that arrive meanwhile wait for it. */
  async function restartRegistry(rec: ProxyRequest): Promise<void> {
    const restarter = options.restarter;
    if (!restarter) throw new Error('restartRegistry needs a restarter');
    // A moment for the registry to read (and store) what it was sent so far.
    const stopped = sleep(50).then(() => restarter.stop());
    restarting = stopped
      .then(() => {
        agent.destroy();
        agent = new Agent({ keepAlive: true });
        return restarter.start();
      })
      .catch((error: unknown) => {
        rec.error = `restart failed: ${(error as Error).message}`;
      })
      .finally(() => (restarting = undefined));
    await stopped;
  }

  async function respond(
    upRes: IncomingMessage,
    res: ServerResponse,
    rec: ProxyRequest,
    fault: Fault | undefined,
    cut: (why: string) => void,
  ): Promise<void> {
    const headers = copyHeaders(upRes.headers);
    const location = headers.location;
    if (typeof location === 'string' && location.startsWith(upstream.origin)) {
      headers.location = origin + location.slice(upstream.origin.length);
    }
    const lie = fault && 'lieContentLength' in fault ? fault.lieContentLength : undefined;
    if (lie !== undefined) headers['content-length'] = String(lie);
    const closeAfter = fault && 'closeAfterBytes' in fault ? fault.closeAfterBytes : -1;
    const flipAt = fault && 'flipByte' in fault ? fault.flipByte : -1;
    const trickle = fault && 'trickle' in fault ? fault.trickle : undefined;
    rec.status = upRes.statusCode ?? 502;
    res.writeHead(rec.status, headers);
    let offset = 0;
    try {
      for await (const raw of upRes) {
        let chunk = raw as Buffer;
        if (flipAt >= offset && flipAt < offset + chunk.byteLength) {
          chunk = Buffer.from(chunk);
          chunk[flipAt - offset] = (chunk[flipAt - offset] ?? 0) ^ 0xff;
        }
        offset += chunk.byteLength;
        if (closeAfter >= 0 && rec.bytesOut + chunk.byteLength >= closeAfter) {
          const part = chunk.subarray(0, closeAfter - rec.bytesOut);
          rec.bytesOut += part.byteLength;
          await flush(res, part);
          return cut(`response cut after ${rec.bytesOut} bytes`);
        }
        const slices = trickle ? sliced(chunk, rec.bytesOut, trickle) : [{ chunk, delay: 0 }];
        for (const slice of slices) {
          if (slice.delay > 0) await sleep(slice.delay);
          for (const piece of throttle.pieces(slice.chunk)) {
            await throttle.wait(res.socket, piece.byteLength);
            rec.bytesOut += piece.byteLength;
            if (!(await send(res, piece))) return cut('client went away');
          }
        }
      }
      // A body that does not match the declared length leaves the connection unusable.
      res.end(() => {
        if (lie !== undefined) res.socket?.destroy();
      });
    } catch (error) {
      cut(`response body: ${(error as Error).message}`);
    }
  }

  return {
    host: `127.0.0.1:${port}`,
    url: origin,
    storage,
    requests,
    script,
    throttle: (bytesPerSecond) => throttle.set(bytesPerSecond),
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      agent.destroy();
      await Promise.all([closed, storage.close()]);
    },
  };
}
