import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, CloseDecoder, LengthDecoder, type BodyDecoder } from './http1-framing.js';
import { chunked } from './testing/raw-server.js';

/** Feeds `pieces` one after another, copying what comes out (it is only valid during the call). */
function decodeAll(
  decoder: BodyDecoder,
  pieces: readonly Buffer[],
): { body: Buffer; used: number[] } {
  const out: Buffer[] = [];
  const used = pieces.map((piece) =>
    decoder.decode(piece, (data) => {
      out.push(Buffer.from(data));
      return true;
    }),
  );
  return { body: Buffer.concat(out), used };
}

/** A deterministic byte pattern, so that a misplaced byte shows. */
function pattern(length: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const PROTOCOL = { code: 'ERR_REGISTRY_PROTOCOL' };

describe('LengthDecoder', () => {
  it('delivers exactly its length and leaves what follows unused', () => {
    const decoder = new LengthDecoder(5);
    const { body, used } = decodeAll(decoder, [Buffer.from('hel'), Buffer.from('loEXTRA')]);
    expect(body.toString()).toBe('hello');
    expect(used).toEqual([3, 2]);
    expect(decoder.done).toBe(true);
    expect(decoder.decode(Buffer.from('more'), () => true)).toBe(0);
  });

  it('is cut short when the connection closes before its length', () => {
    const decoder = new LengthDecoder(5);
    decodeAll(decoder, [Buffer.from('hell')]);
    expect(decoder.done).toBe(false);
    expect(decoder.closed()).toBe(false);
  });

  it('is done at once with length 0', () => {
    const decoder = new LengthDecoder(0);
    expect(decoder.done).toBe(true);
    expect(decoder.closed()).toBe(true);
  });
});

describe('CloseDecoder', () => {
  it('delivers everything until the close, which ends it', () => {
    const decoder = new CloseDecoder();
    const { body } = decodeAll(decoder, [
      Buffer.from('any'),
      Buffer.alloc(0),
      Buffer.from('thing'),
    ]);
    expect(body.toString()).toBe('anything');
    expect(decoder.done).toBe(false);
    expect(decoder.closed()).toBe(true);
    expect(decoder.done).toBe(true);
  });
});

describe('ChunkedDecoder', () => {
  const body = pattern(40);
  const encoded = chunked([body.subarray(0, 1), body.subarray(1, 17), body.subarray(17)], {
    extension: ';name="va;lue"',
    trailers: 'x-checksum: abc\r\nx-other: 1\r\n',
  });

  it('decodes chunks with extensions and trailers, and leaves bytes after the end unused', () => {
    const decoder = new ChunkedDecoder();
    const input = Buffer.concat([encoded, Buffer.from('HTTP/1.1 200 OK\r\n')]);
    const { body: out, used } = decodeAll(decoder, [input]);
    expect(out.equals(body)).toBe(true);
    expect(used).toEqual([encoded.byteLength]);
    expect(decoder.done).toBe(true);
    expect(decoder.closed()).toBe(true);
  });

  it('accepts upper- and lower-case hex sizes and whitespace before an extension', () => {
    const data = pattern(0x1a);
    const input = Buffer.concat([
      Buffer.from('1A \t;ext\r\n'),
      data.subarray(0, 0x1a),
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const decoder = new ChunkedDecoder();
    expect(decodeAll(decoder, [input]).body.equals(data)).toBe(true);
    expect(decoder.done).toBe(true);
  });

  it('decodes the same body whatever two places the input is split at', () => {
    for (let first = 0; first <= encoded.byteLength; first++) {
      for (let second = first; second <= encoded.byteLength; second++) {
        const decoder = new ChunkedDecoder();
        const pieces = [
          encoded.subarray(0, first),
          encoded.subarray(first, second),
          encoded.subarray(second),
        ];
        const { body: out, used } = decodeAll(decoder, pieces);
        expect(out.equals(body), `split at ${first}, ${second}`).toBe(true);
        expect(used).toEqual(pieces.map((piece) => piece.byteLength));
        expect(decoder.done).toBe(true);
      }
    }
  });

  it('decodes byte by byte', () => {
    const decoder = new ChunkedDecoder();
    const pieces = [...encoded].map((byte) => Buffer.from([byte]));
    expect(decodeAll(decoder, pieces).body.equals(body)).toBe(true);
    expect(decoder.done).toBe(true);
  });

  it('stops where the handler asks to pause and goes on from there', () => {
    for (let pauseAfter = 1; pauseAfter <= 5; pauseAfter++) {
      const decoder = new ChunkedDecoder();
      const out: Buffer[] = [];
      let calls = 0;
      let rest = encoded;
      let rounds = 0;
      while (rest.byteLength > 0 && !decoder.done) {
        const used = decoder.decode(rest, (data) => {
          out.push(Buffer.from(data));
          return ++calls % pauseAfter !== 0;
        });
        rest = rest.subarray(used);
        expect(++rounds).toBeLessThan(50);
      }
      expect(Buffer.concat(out).equals(body)).toBe(true);
      expect(decoder.done).toBe(true);
      expect(rest.byteLength).toBe(0);
    }
  });

  it('is cut short when the connection closes before the last chunk', () => {
    for (const end of [0, 3, encoded.byteLength - 3, encoded.byteLength - 1]) {
      const decoder = new ChunkedDecoder();
      decodeAll(decoder, [encoded.subarray(0, end)]);
      expect(decoder.done, `closed after ${end} bytes`).toBe(false);
      expect(decoder.closed()).toBe(false);
    }
  });

  const hostile: [string, string, RegExp][] = [
    ['a size that is not hex', 'zz\r\nab\r\n0\r\n\r\n', /bad chunk size line "zz\\r"/],
    ['an empty size line', '\r\n', /bad chunk size line/],
    ['a negative size', '-1\r\n', /bad chunk size line/],
    ['a 0x prefix', '0x10\r\n', /bad chunk size line/],
    ['data not followed by CRLF', '2\r\nabcd\r\n0\r\n\r\n', /chunk data not followed by CRLF/],
    ['data followed by a bare LF', '2\r\nab\n0\r\n\r\n', /chunk data not followed by CRLF/],
    ['a size line ended by a bare LF', '2\nab\r\n', /line not ended by CRLF/],
    ['a size over 2^53', '20000000000000\r\n', /chunk size|bad chunk size line/],
    ['a size of 2^64', '10000000000000000\r\n', /chunk size|bad chunk size line/],
    ['a size line over 4 KiB', `1;${'e'.repeat(5000)}\r\n`, /chunk size line too long/],
    ['a trailer ended by a bare LF', '0\r\nx: y\n\r\n', /line not ended by CRLF/],
  ];
  for (const [what, input, message] of hostile) {
    it(`refuses ${what}`, () => {
      const bytes = Buffer.from(input, 'latin1');
      // Whole, and byte by byte: the check may not depend on how the input was split.
      for (const pieces of [[bytes], [...bytes].map((byte) => Buffer.from([byte]))]) {
        const decoder = new ChunkedDecoder();
        expect(() => decodeAll(decoder, pieces)).toThrow(
          expect.objectContaining({ ...PROTOCOL, message: expect.stringMatching(message) }),
        );
      }
    });
  }

  it('refuses trailers over 16 KiB, without waiting for their end', () => {
    const trailer = `x-pad: ${'p'.repeat(1000)}\r\n`;
    const decoder = new ChunkedDecoder();
    const start = Buffer.from('1\r\na\r\n0\r\n');
    decodeAll(decoder, [start]);
    let fed = 0;
    expect(() => {
      for (;;) {
        fed++;
        decodeAll(decoder, [Buffer.from(trailer)]);
      }
    }).toThrow(
      expect.objectContaining({
        ...PROTOCOL,
        message: expect.stringMatching(/trailers too large/),
      }),
    );
    expect(fed * trailer.length).toBeLessThan(16 * 1024 + 2 * trailer.length);
  });

  it('refuses a size line of unbounded length, without waiting for its end', () => {
    const decoder = new ChunkedDecoder();
    decodeAll(decoder, [Buffer.from('1;')]);
    expect(() => decodeAll(decoder, [Buffer.alloc(8192, 0x61)])).toThrow(
      expect.objectContaining(PROTOCOL),
    );
  });
});
