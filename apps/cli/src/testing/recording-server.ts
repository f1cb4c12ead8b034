/**
 * A loopback HTTP server for CLI tests that play a hostile or scripted registry: every request is
 * recorded with its headers, and `handle` answers it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export type Handle = (request: IncomingMessage, response: ServerResponse) => void;

export interface RecordingServer {
  /** `127.0.0.1:<port>` */
  host: string;
  origin: string;
  requests: Recorded[];
  handle: Handle;
  /** Authorization and cookie values this server was sent. */
  secrets(): string[];
  close(): Promise<void>;
}

export async function startRecordingServer(handle?: Handle): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  const state = { handle: handle ?? ((_req, res) => sendJson(res, 404, {})) } as { handle: Handle };
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
      });
      state.handle(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    get handle() {
      return state.handle;
    },
    set handle(next: Handle) {
      state.handle = next;
    },
    secrets: () =>
      requests.flatMap((r) =>
        [r.headers.authorization, r.headers.cookie].filter(
          (v): v is string => typeof v === 'string',
        ),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
