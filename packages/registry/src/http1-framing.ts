/**
 * Where an HTTP/1.1 response body ends (RFC 9112 §6.3 and §7.1), decoded incrementally from the
 * slices a socket delivers: a Content-Length, chunked transfer coding, or the connection's close.
 * Data comes out as sub-slices of the input (no copies); a consumer that asks to pause leaves the
 * rest of the input undecoded for later.
 */
import { FerryError } from '@ferry/oci';
import { RegistryErrorCode } from './errors.js';

/**
 * Receives body data, which is only valid during the call. False: stop delivering until the
 * consumer says it can take more.
 */
export type DataHandler = (data: Buffer) => boolean;

export interface BodyDecoder {
  /**
   * Decodes from `input`, handing data to `onData`; returns how many bytes of `input` it used
   * (fewer than all when `onData` asked to pause, or when the body ended inside `input`).
   */
  decode(input: Buffer, onData: DataHandler): number;
  /** True once the whole body was decoded. */
  readonly done: boolean;
  /** The connection closed: true when that is the body's end, false when it cut the body short. */
  closed(): boolean;
}

/** A body of `length` bytes; anything after them is not part of it. */
export class LengthDecoder implements BodyDecoder {
  #remaining: number;

  constructor(length: number) {
    this.#remaining = length;
  }

  get done(): boolean {
    return this.#remaining === 0;
  }

  decode(input: Buffer, onData: DataHandler): number {
    if (this.#remaining === 0 || input.byteLength === 0) return 0;
    const take = Math.min(this.#remaining, input.byteLength);
    this.#remaining -= take;
    onData(take === input.byteLength ? input : input.subarray(0, take));
    return take;
  }

  closed(): boolean {
    return this.#remaining === 0;
  }
}

/** A body that ends when the server closes the connection (no length given). */
export class CloseDecoder implements BodyDecoder {
  #done = false;

  get done(): boolean {
    return this.#done;
  }

  decode(input: Buffer, onData: DataHandler): number {
    if (input.byteLength > 0) onData(input);
    return input.byteLength;
  }

  closed(): boolean {
    this.#done = true;
    return true;
  }
}

const MAX_CHUNK_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
const CR = 0x0d;
const LF = 0x0a;

type ChunkedState = 'size' | 'data' | 'data-end' | 'trailers' | 'done';

/**
 * Chunked transfer coding: `<hex size>[;ext]CRLF <data> CRLF` … `0 CRLF [trailers] CRLF`. Strict:
 * a malformed size line, a size beyond 2^53, or data not followed by CRLF fails the body.
 */
export class ChunkedDecoder implements BodyDecoder {
  #state: ChunkedState = 'size';
  #line = '';
  #chunkLeft = 0;
  #dataEndSeen = 0;
  #trailerBytes = 0;

  get done(): boolean {
    return this.#state === 'done';
  }

  closed(): boolean {
    return this.#state === 'done';
  }

  decode(input: Buffer, onData: DataHandler): number {
    let at = 0;
    while (at < input.byteLength && this.#state !== 'done') {
      if (this.#state === 'data') {
        const take = Math.min(this.#chunkLeft, input.byteLength - at);
        this.#chunkLeft -= take;
        const more = onData(input.subarray(at, at + take));
        at += take;
        if (this.#chunkLeft === 0) this.#state = 'data-end';
        if (!more) return at;
        continue;
      }
      if (this.#state === 'data-end') {
        const expected = this.#dataEndSeen === 0 ? CR : LF;
        if (input[at] !== expected) throw malformed('chunk data not followed by CRLF');
        at++;
        if (++this.#dataEndSeen === 2) {
          this.#dataEndSeen = 0;
          this.#state = 'size';
        }
        continue;
      }
      // A line: a chunk's size, or a trailer field (ignored).
      const end = input.indexOf(LF, at);
      const stop = end < 0 ? input.byteLength : end;
      this.#line += input.toString('latin1', at, stop);
      if (this.#state === 'trailers') {
        this.#trailerBytes += stop - at;
        if (this.#trailerBytes > MAX_TRAILERS) throw malformed('trailers too large');
      } else if (this.#line.length > MAX_CHUNK_LINE) {
        throw malformed('chunk size line too long');
      }
      at = stop;
      if (end < 0) break;
      at = end + 1;
      const line = this.#line;
      this.#line = '';
      if (!line.endsWith('\r')) throw malformed('line not ended by CRLF');
      if (this.#state === 'trailers') {
        if (line === '\r') this.#state = 'done';
        continue;
      }
      const match = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;[^\r\n]*)?\r$/.exec(line);
      if (!match) throw malformed(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
      const size = Number.parseInt(match[1] as string, 16);
      if (!Number.isSafeInteger(size)) throw malformed('chunk size too large');
      if (size === 0) this.#state = 'trailers';
      else {
        this.#chunkLeft = size;
        this.#state = 'data';
      }
    }
    return at;
  }
}

function malformed(what: string): FerryError {
  return new FerryError(RegistryErrorCode.Protocol, `malformed chunked response body: ${what}`);
}
