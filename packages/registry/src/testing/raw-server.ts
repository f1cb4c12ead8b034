/**
 * A loopback server that speaks raw bytes, for tests of an HTTP client against answers no HTTP
 * server library would send (malformed heads, hostile framing, connections cut mid-body). Every
 * connection records the bytes it received, the request head once complete, and when it closed.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

export interface RawConnection {
  socket: Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** The request head, through its blank line (latin1), once it has arrived. */
  head: Promise<string>;
  /** Settles once the connection closed (from either side). */
  closed: Promise<void>;
  /** The SNI name the client sent (TLS only). */
  servername: string | false | null | undefined;
}

export interface RawServer {
  port: number;
  /** Connections ready to talk (with TLS: after the handshake). */
  connections: RawConnection[];
  /** TCP connections accepted, handshake or not. */
  accepted(): number;
  close(): Promise<void>;
}

export interface RawServerOptions {
  /** Serve TLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | undefined;
}

export type Answer = (connection: RawConnection) => void | Promise<void>;

export async function startRawServer(
  answer: Answer,
  options: RawServerOptions = {},
): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const sockets = new Set<Socket>();
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    // The client may reset the connection; the test looks at `closed`, not at the error.
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    let onHead: (head: string) => void = () => {};
    const head = new Promise<string>((resolve) => (onHead = resolve));
    let headSeen = false;
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      if (headSeen) return;
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end >= 0) {
        headSeen = true;
        onHead(all.toString('latin1', 0, end + 4));
      }
    });
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        sockets.delete(socket);
        resolve();
      }),
    );
    const connection: RawConnection = {
      socket,
      received: () => Buffer.concat(chunks),
      head,
      closed,
      servername: (socket as TLSSocket).servername,
    };
    connections.push(connection);
    Promise.resolve(answer(connection)).catch(() => socket.destroy());
  };
  const server: Server = options.tls ? createTlsServer(options.tls, accept) : createServer(accept);
  // A failed handshake is what some tests are about; it must not throw here.
  server.on('tlsClientError', () => {});
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `data` and settles once it was handed to the kernel. */
export function send(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

/** Writes `data` one byte per write, each after the previous one was handed to the kernel. */
export async function sendByteByByte(socket: Socket, data: string | Buffer): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  for (let at = 0; at < bytes.byteLength; at++) {
    await send(socket, bytes.subarray(at, at + 1));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A chunked encoding of `parts`, one chunk each, with `extension` on every size line. */
export function chunked(
  parts: readonly Buffer[],
  options: { extension?: string; trailers?: string } = {},
): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    if (part.byteLength === 0) continue;
    pieces.push(Buffer.from(`${part.byteLength.toString(16)}${options.extension ?? ''}\r\n`), part);
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`0${options.extension ?? ''}\r\n${options.trailers ?? ''}\r\n`));
  return Buffer.concat(pieces);
}
