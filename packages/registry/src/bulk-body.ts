/**
 * The body of a response read by {@link BulkConnector}: socket reads land in one fixed buffer, so
 * each slice is only valid while it is being handed over. A consumer that knows this takes the
 * slices through {@link BulkBody.pump} (it copies what it keeps, e.g. into a write batch); any
 * other reads the body as an ordinary Readable, which copies each slice.
 */
import { Readable } from 'node:stream';
import type { BodyDecoder } from './http1-framing.js';

/** Takes body data that is only valid during the call to `take`. */
export interface BodySink {
  /** Uses or copies `data` now; false: deliver nothing more until `ready()` settles. */
  take(data: Buffer): boolean;
  /** Settles when the sink can take more; rejects to fail the body. */
  ready(): Promise<void>;
}

/** What the body needs of its connection. */
export interface BodyConnection {
  pause(): void;
  resume(): void;
  /** The body failed or was dropped: the connection cannot carry anything more. */
  destroy(): void;
  /**
   * The body ended where its framing says; `clean` unless bytes followed it or the connection
   * closed. The connection may then carry another request.
   */
  release(clean: boolean): void;
}

export class BodyCutShortError extends Error {
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
  constructor() {
    super('the connection closed before the end of the response body');
  }
}

export class BulkBody extends Readable {
  readonly #connection: BodyConnection;
  readonly #decoder: BodyDecoder;
  #sink: BodySink | undefined;
  /** Undecoded input held (copied) while no sink takes it. */
  #pending: Buffer | undefined;
  /** The sink asked to pause. */
  #waiting = false;
  #connectionEnded = false;
  #settled = false;
  #pumped: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** Readable mode: the sink's wait for the next `_read`. */
  #wantMore: (() => void) | undefined;

  constructor(connection: BodyConnection, decoder: BodyDecoder) {
    super({ highWaterMark: 1024 * 1024 });
    this.#connection = connection;
    this.#decoder = decoder;
  }

  /**
   * Hands every slice of the body to `sink` until its end. Resolves once the whole body was
   * taken; rejects if the connection fails or closes early, or the sink's `ready()` rejects.
   */
  pump(sink: BodySink): Promise<void> {
    if (this.#sink) throw new Error('the body is already being read');
    // Aborted, dumped or failed before anyone read it: nothing will ever call back.
    if (this.destroyed) return Promise.reject(this.errored ?? new BodyCutShortError());
    this.#sink = sink;
    const done = new Promise<void>((resolve, reject) => (this.#pumped = { resolve, reject }));
    this.#drain();
    return done;
  }

  /**
   * Body bytes from the connection, valid only during this call. Returns whether the connection
   * may go on reading.
   */
  input(raw: Buffer): boolean {
    if (this.#settled) return false;
    if (!this.#sink || this.#waiting || this.#pending) {
      this.#hold(raw);
      return false;
    }
    return this.#deliver(raw);
  }

  /** The connection closed cleanly: the body's end, or a body cut short. */
  connectionEnded(): void {
    this.#connectionEnded = true;
    if (this.#sink && !this.#waiting && !this.#pending) this.#checkEnd();
  }

  connectionFailed(error: unknown): void {
    this.#fail(error);
  }

  /** Drops the rest of the body and its connection (it is never reused). */
  async dump(): Promise<void> {
    this.destroy();
  }

  override _read(): void {
    if (!this.#sink) {
      this.#sink = {
        take: (data) => this.push(Buffer.from(data)),
        ready: () => new Promise<void>((resolve) => (this.#wantMore = resolve)),
      };
      this.#drain();
      return;
    }
    const wake = this.#wantMore;
    this.#wantMore = undefined;
    wake?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#settled) {
      this.#settled = true;
      this.#connection.destroy();
      this.#pumped?.reject(error ?? new BodyCutShortError());
    }
    // A pump learns of the error through its promise, and a body nobody reads yet when it starts
    // reading; an 'error' event without a listener would be an uncaught exception instead.
    if (error && (this.#pumped || !this.#sink)) this.on('error', () => {});
    callback(error);
  }

  #hold(raw: Buffer): void {
    this.#pending = this.#pending ? Buffer.concat([this.#pending, raw]) : Buffer.from(raw);
  }

  /** Decodes `raw` into the sink; false when reading must stop (paused, ended or failed). */
  #deliver(raw: Buffer): boolean {
    const sink = this.#sink as BodySink;
    let paused = false;
    let used: number;
    try {
      used = this.#decoder.decode(raw, (data) => {
        const more = sink.take(data);
        if (!more) paused = true;
        return more;
      });
    } catch (error) {
      this.#fail(error);
      return false;
    }
    if (this.#decoder.done) {
      this.#finish(used === raw.byteLength && !this.#pending && !this.#connectionEnded);
      return false;
    }
    if (paused) {
      if (used < raw.byteLength) this.#hold(raw.subarray(used));
      this.#wait(sink);
      return false;
    }
    return true;
  }

  #wait(sink: BodySink): void {
    this.#waiting = true;
    sink.ready().then(
      () => {
        this.#waiting = false;
        this.#drain();
      },
      (error: unknown) => this.#fail(error),
    );
  }

  /** Delivers what is held, then lets the connection read again (or settles the end). */
  #drain(): void {
    // An empty body (204, 304, Content-Length: 0) is over before any byte: the server need not
    // close first.
    if (this.#decoder.done) return this.#finish(!this.#pending && !this.#connectionEnded);
    while (this.#pending && !this.#waiting && !this.#settled) {
      const held = this.#pending;
      this.#pending = undefined;
      if (!this.#deliver(held)) break;
    }
    if (this.#settled || this.#waiting || this.#pending) return;
    if (this.#connectionEnded) this.#checkEnd();
    else this.#connection.resume();
  }

  #checkEnd(): void {
    if (this.#settled) return;
    if (this.#decoder.closed()) this.#finish(false);
    else this.#fail(new BodyCutShortError());
  }

  #finish(clean: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#connection.release(clean);
    this.#pumped?.resolve();
    if (!this.#pumped) this.push(null);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#connection.destroy();
    this.#pumped?.reject(error);
    this.destroy(error as Error);
  }
}
