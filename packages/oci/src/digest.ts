/**
 * Content digests: `algorithm ":" encoded`, as the OCI image spec defines them.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md#digests
 *
 * ferry accepts only the two registered algorithms that registries serve (sha256, sha512), and
 * only in their canonical form (lowercase hex of the exact length): a digest that could be
 * written two ways could name one blob twice, or slip past a comparison.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  DigestMismatchError,
  InvalidDigestError,
  SizeMismatchError,
  UnsupportedDigestAlgorithmError,
} from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** A digest string such as `sha256:e3b0…`; a branded alias only for documentation. */
export type Digest = `${DigestAlgorithm}:${string}`;

/** Hex length of each algorithm's encoded part. */
export const DigestAlgorithms: Readonly<Record<DigestAlgorithm, { hexLength: number }>> = {
  sha256: { hexLength: 64 },
  sha512: { hexLength: 128 },
};

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** The digest as a string, identical to the input. */
  readonly digest: Digest;
}

// The spec's grammar: algorithm-component(separator algorithm-component)* ":" encoded.
const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;

/**
 * Parses and validates a digest. Throws {@link InvalidDigestError} for malformed input and
 * {@link UnsupportedDigestAlgorithmError} for a well-formed digest of another algorithm.
 */
export function parseDigest(input: string): ParsedDigest {
  if (typeof input !== 'string') {
    throw new InvalidDigestError(String(input), 'not a string');
  }
  const colon = input.indexOf(':');
  if (colon < 0) {
    throw new InvalidDigestError(input, 'expected algorithm:hex, e.g. sha256:<64 hex digits>');
  }
  const algorithm = input.slice(0, colon);
  const encoded = input.slice(colon + 1);
  if (!ALGORITHM.test(algorithm)) {
    throw new InvalidDigestError(input, 'malformed algorithm');
  }
  if (!ENCODED.test(encoded)) {
    throw new InvalidDigestError(input, 'malformed encoded part');
  }
  if (!isDigestAlgorithm(algorithm)) {
    throw new UnsupportedDigestAlgorithmError(algorithm);
  }
  const { hexLength } = DigestAlgorithms[algorithm];
  if (!/^[0-9a-f]*$/.test(encoded)) {
    throw new InvalidDigestError(input, `${algorithm} digests are lowercase hex`);
  }
  if (encoded.length !== hexLength) {
    throw new InvalidDigestError(
      input,
      `${algorithm} digests have ${hexLength} hex digits, not ${encoded.length}`,
    );
  }
  return { algorithm, hex: encoded, digest: input as Digest };
}

/** True when `input` is a valid, supported digest. Never throws. */
export function isDigest(input: unknown): input is Digest {
  if (typeof input !== 'string') return false;
  try {
    parseDigest(input);
    return true;
  } catch {
    return false;
  }
}

export function isDigestAlgorithm(input: string): input is DigestAlgorithm {
  return Object.hasOwn(DigestAlgorithms, input);
}

/** The digest of some bytes (a string is hashed as its UTF-8 encoding). */
export function computeDigest(
  data: Uint8Array | string,
  algorithm: DigestAlgorithm = 'sha256',
): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws {@link DigestMismatchError} unless `data` hashes to `expected`. */
export function verifyDigest(data: Uint8Array | string, expected: string, subject?: string): void {
  const { algorithm } = parseDigest(expected);
  const actual = computeDigest(data, algorithm);
  if (actual !== expected) throw new DigestMismatchError(expected, actual, subject);
}

/** An incremental digester: feed chunks, then read the digest once. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #size = 0;
  #digest: Digest | undefined;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    if (this.#digest) throw new Error('Digester.update() after digest()');
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  digest(): Digest {
    this.#digest ??= `${this.algorithm}:${this.#hash.digest('hex')}`;
    return this.#digest;
  }
}

export interface DigestTransformOptions {
  /** Fail the stream at its end unless the bytes hash to this digest. */
  expectedDigest?: string;
  /** Fail as soon as more bytes than this pass, and at the end if fewer did. */
  expectedSize?: number;
  /** Named in error messages (a file name or reference). */
  subject?: string;
  /** Used when no `expectedDigest` names the algorithm. Default sha256. */
  algorithm?: DigestAlgorithm;
}

/**
 * A pass-through stream that hashes and counts what flows through it: one pass over the data,
 * no copies. With an expected digest or size it errors the pipeline instead of ending cleanly, so
 * a consumer that writes to a temp file and renames on `finish` never keeps bad bytes.
 */
export class DigestTransform extends Transform {
  readonly #digester: Digester;
  readonly #options: DigestTransformOptions;

  constructor(options: DigestTransformOptions = {}) {
    super();
    const algorithm = options.expectedDigest
      ? parseDigest(options.expectedDigest).algorithm
      : (options.algorithm ?? 'sha256');
    this.#digester = new Digester(algorithm);
    this.#options = options;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#digester.size;
  }

  /** The digest of everything that passed; valid once the stream has ended. */
  digest(): Digest {
    return this.#digester.digest();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#digester.update(chunk);
    const { expectedSize, subject } = this.#options;
    if (expectedSize !== undefined && this.#digester.size > expectedSize) {
      callback(new SizeMismatchError(expectedSize, this.#digester.size, subject));
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expectedDigest, expectedSize, subject } = this.#options;
    if (expectedSize !== undefined && this.#digester.size !== expectedSize) {
      callback(new SizeMismatchError(expectedSize, this.#digester.size, subject));
      return;
    }
    const actual = this.#digester.digest();
    if (expectedDigest !== undefined && actual !== expectedDigest) {
      callback(new DigestMismatchError(expectedDigest, actual, subject));
      return;
    }
    callback();
  }
}

/** Hashes a whole stream (or any async iterable of bytes) without holding it in memory. */
export async function digestStream(
  source: AsyncIterable<Uint8Array>,
  algorithm: DigestAlgorithm = 'sha256',
  signal?: AbortSignal,
): Promise<{ digest: Digest; size: number }> {
  const digester = new Digester(algorithm);
  for await (const chunk of source) {
    signal?.throwIfAborted();
    digester.update(chunk);
  }
  return { digest: digester.digest(), size: digester.size };
}
