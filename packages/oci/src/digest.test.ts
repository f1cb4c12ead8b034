import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  computeDigest,
  Digester,
  DigestTransform,
  digestStream,
  isDigest,
  parseDigest,
  verifyDigest,
} from './digest.js';
import { DigestMismatchError, ErrorCode, FerryError, SizeMismatchError } from './errors.js';

const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HELLO_SHA256 = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const HELLO_SHA512 =
  'sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043';

describe('parseDigest', () => {
  it.each([
    [EMPTY_SHA256, 'sha256', 64],
    [HELLO_SHA512, 'sha512', 128],
  ])('accepts %s', (input, algorithm, length) => {
    const parsed = parseDigest(input);
    expect(parsed.algorithm).toBe(algorithm);
    expect(parsed.hex).toHaveLength(length);
    expect(parsed.digest).toBe(input);
  });

  it.each([
    ['', ErrorCode.InvalidDigest, 'expected algorithm:hex'],
    ['sha256', ErrorCode.InvalidDigest, 'expected algorithm:hex'],
    ['sha256:', ErrorCode.InvalidDigest, 'malformed encoded part'],
    ['sha256:abc', ErrorCode.InvalidDigest, 'have 64 hex digits, not 3'],
    [`sha256:${'a'.repeat(63)}`, ErrorCode.InvalidDigest, 'not 63'],
    [`sha256:${'a'.repeat(65)}`, ErrorCode.InvalidDigest, 'not 65'],
    [`sha256:${'A'.repeat(64)}`, ErrorCode.InvalidDigest, 'lowercase hex'],
    [`sha256:${'g'.repeat(64)}`, ErrorCode.InvalidDigest, 'lowercase hex'],
    [`sha512:${'a'.repeat(64)}`, ErrorCode.InvalidDigest, 'have 128 hex digits'],
    [`SHA256:${'a'.repeat(64)}`, ErrorCode.InvalidDigest, 'malformed algorithm'],
    [`md5:${'a'.repeat(32)}`, ErrorCode.UnsupportedDigestAlgorithm, '"md5"'],
    [`sha384:${'a'.repeat(96)}`, ErrorCode.UnsupportedDigestAlgorithm, 'sha256 and sha512'],
    [`sha256:${'a'.repeat(64)} `, ErrorCode.InvalidDigest, 'malformed encoded part'],
    [`:${'a'.repeat(64)}`, ErrorCode.InvalidDigest, 'malformed algorithm'],
  ])('refuses %j with %s', (input, code, message) => {
    let caught: unknown;
    try {
      parseDigest(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FerryError);
    expect((caught as FerryError).code).toBe(code);
    expect((caught as FerryError).message).toContain(message);
    expect(isDigest(input)).toBe(false);
  });

  it('never throws a non-FerryError, even for non-strings', () => {
    for (const input of [undefined, null, 42, {}, []]) {
      expect(() => parseDigest(input as unknown as string)).toThrow(FerryError);
      expect(isDigest(input)).toBe(false);
    }
  });
});

describe('computing and verifying', () => {
  it('computes sha256 and sha512 over bytes and strings', () => {
    expect(computeDigest(new Uint8Array())).toBe(EMPTY_SHA256);
    expect(computeDigest('hello')).toBe(HELLO_SHA256);
    expect(computeDigest(Buffer.from('hello'), 'sha512')).toBe(HELLO_SHA512);
  });

  it('verifies, and reports both digests and the subject on a mismatch', () => {
    expect(() => verifyDigest('hello', HELLO_SHA256)).not.toThrow();
    expect(() => verifyDigest('hello', HELLO_SHA512)).not.toThrow();
    let caught: unknown;
    try {
      verifyDigest('hellO', HELLO_SHA256, 'model.bin');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DigestMismatchError);
    const mismatch = caught as DigestMismatchError;
    expect(mismatch.code).toBe('ERR_DIGEST_MISMATCH');
    expect(mismatch.expected).toBe(HELLO_SHA256);
    expect(mismatch.actual).toBe(computeDigest('hellO'));
    expect(mismatch.message).toBe(
      `digest mismatch for model.bin: expected ${HELLO_SHA256}, got ${computeDigest('hellO')}`,
    );
  });

  it('Digester hashes incrementally and counts bytes', () => {
    const digester = new Digester();
    digester.update(Buffer.from('hel'));
    digester.update(Buffer.from('lo'));
    expect(digester.size).toBe(5);
    expect(digester.digest()).toBe(HELLO_SHA256);
    expect(digester.digest()).toBe(HELLO_SHA256);
    expect(() => digester.update(Buffer.from('!'))).toThrow(/after digest/);
  });

  it('digestStream gives the digest and size of every byte of a multi-chunk stream', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const chunks = Array.from({ length: 50 }, () => chunk);
    const expected = createHash('sha256');
    for (const c of chunks) expected.update(c);
    const result = await digestStream(Readable.from(chunks));
    expect(result).toEqual({ digest: `sha256:${expected.digest('hex')}`, size: 50 * 64 * 1024 });
  });

  it('digestStream honours an aborted signal', async () => {
    await expect(
      digestStream(Readable.from([Buffer.from('x')]), 'sha256', AbortSignal.abort()),
    ).rejects.toThrow(/abort/i);
  });
});

describe('DigestTransform', () => {
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        into.push(chunk);
        callback();
      },
    });

  it('passes bytes through unchanged and exposes digest and size', async () => {
    const out: Buffer[] = [];
    const transform = new DigestTransform();
    await pipeline(Readable.from([Buffer.from('hel'), Buffer.from('lo')]), transform, sink(out));
    expect(Buffer.concat(out).toString()).toBe('hello');
    expect(transform.digest()).toBe(HELLO_SHA256);
    expect(transform.size).toBe(5);
  });

  it('uses the algorithm of the expected digest', async () => {
    const transform = new DigestTransform({ expectedDigest: HELLO_SHA512 });
    await pipeline(Readable.from([Buffer.from('hello')]), transform, sink([]));
    expect(transform.digest()).toBe(HELLO_SHA512);
  });

  it('fails the pipeline when the bytes do not match the expected digest', async () => {
    const transform = new DigestTransform({ expectedDigest: HELLO_SHA256, subject: 'a.txt' });
    await expect(
      pipeline(Readable.from([Buffer.from('jello')]), transform, sink([])),
    ).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH', expected: HELLO_SHA256 });
  });

  it('fails as soon as more bytes arrive than expected', async () => {
    const out: Buffer[] = [];
    const transform = new DigestTransform({ expectedSize: 4 });
    const error = await pipeline(
      Readable.from([Buffer.from('hel'), Buffer.from('lo'), Buffer.from('more')]),
      transform,
      sink(out),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect(error).toMatchObject({ expected: 4, actual: 5 });
    // The over-long chunk never reached the sink.
    expect(Buffer.concat(out).toString()).toBe('hel');
  });

  it('fails at the end when fewer bytes arrived than expected', async () => {
    const transform = new DigestTransform({ expectedSize: 6, expectedDigest: HELLO_SHA256 });
    await expect(
      pipeline(Readable.from([Buffer.from('hello')]), transform, sink([])),
    ).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', expected: 6, actual: 5 });
  });

  it('refuses an invalid expected digest up front', () => {
    expect(() => new DigestTransform({ expectedDigest: 'sha256:nope' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_DIGEST' }),
    );
  });
});
