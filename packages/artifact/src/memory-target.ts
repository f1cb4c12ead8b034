/**
 * A target held in memory, as oras-go's `content/memory` store: for tests of code that pushes,
 * pulls, copies or tags, and for library users who build an artifact before sending it. It checks
 * what the real targets check — pushed bytes must match their descriptor's size and digest, a tag
 * must name a manifest it holds, a fetch streams only the bytes described — and answers "not
 * found" with the same error an OCI layout raises (`ERR_NOT_FOUND`).
 */
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  computeDigest,
  DigestTransform,
  ErrorCode,
  FerryError,
  InvalidReferenceError,
  isDigest,
  isValidTag,
  MANIFEST_SIZE_LIMIT,
  MediaType,
  NotFoundError,
  parseDigest,
  parseManifest,
  UnsupportedMediaTypeError,
  type Descriptor,
  type Digest,
} from '@ferry/oci';
import { isManifest } from './content.js';
import type {
  BlobStater,
  Content,
  Deleter,
  FetchOptions,
  OperationOptions,
  PushOptions,
  ReferrersOptions,
  Target,
} from './target.js';

interface Stored {
  /** The descriptor it was first pushed with (its media type decides manifest or blob). */
  descriptor: Descriptor;
  bytes: Buffer;
}

export class MemoryTarget implements Target, Deleter, BlobStater {
  /** `memory:<label>`. */
  readonly name: string;
  readonly #content = new Map<Digest, Stored>();
  readonly #tags = new Map<string, Descriptor>();

  constructor(label = 'target') {
    this.name = `memory:${label}`;
  }

  async fetch(descriptor: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    const stored = this.#content.get(descriptor.digest);
    if (!stored) throw this.#notFound(`blob ${descriptor.digest}`);
    const { onProgress } = options;
    // Verified on the way out, as a layout's fetch is: a descriptor with the right digest but
    // another size gets an error instead of an end.
    const verify = new DigestTransform({
      expectedDigest: descriptor.digest,
      expectedSize: descriptor.size,
      subject: `${descriptor.digest} in ${this.name}`,
    });
    const stages: (Readable | Transform)[] = [Readable.from([stored.bytes])];
    if (onProgress) stages.push(counting(onProgress));
    stages.push(verify);
    pipeline(stages).catch(() => {}); // errors reach the consumer through `verify`
    return verify;
  }

  async exists(descriptor: Descriptor, options: OperationOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    return this.#content.has(descriptor.digest);
  }

  async statBlob(digest: Digest, options: OperationOptions = {}): Promise<Descriptor | undefined> {
    options.signal?.throwIfAborted();
    const stored = this.#content.get(digest);
    return stored && { mediaType: MediaType.OctetStream, digest, size: stored.bytes.byteLength };
  }

  async push(descriptor: Descriptor, content: Content, options: PushOptions = {}): Promise<void> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    parseDigest(descriptor.digest); // refuses what is no digest before reading anything
    if (this.#content.has(descriptor.digest)) return; // content-addressed, as a layout
    const chunks: Buffer[] = [];
    const source =
      typeof content === 'function' ? content() : Readable.from([Buffer.from(content)]);
    await pipeline(
      source,
      new DigestTransform({
        expectedDigest: descriptor.digest,
        expectedSize: descriptor.size,
        subject: `${descriptor.digest} pushed to ${this.name}`,
      }),
      async (verified: AsyncIterable<Buffer>) => {
        for await (const chunk of verified) {
          chunks.push(chunk);
          onProgress?.(chunk.byteLength);
        }
      },
      { signal },
    );
    if (!this.#content.has(descriptor.digest)) {
      this.#content.set(descriptor.digest, {
        descriptor: {
          mediaType: descriptor.mediaType,
          digest: descriptor.digest,
          size: descriptor.size,
        },
        bytes: Buffer.concat(chunks),
      });
    }
  }

  /** A tag, or the digest of a manifest this target holds. */
  async resolve(reference: string, options: OperationOptions = {}): Promise<Descriptor> {
    options.signal?.throwIfAborted();
    if (!isDigest(reference)) {
      const tagged = this.#tags.get(reference);
      if (!tagged) throw this.#notFound(`tag ${reference}`);
      return { ...tagged };
    }
    const stored = this.#content.get(reference);
    if (!stored || !isManifest(stored.descriptor)) throw this.#notFound(`manifest ${reference}`);
    return {
      mediaType: stored.descriptor.mediaType,
      digest: reference,
      size: stored.bytes.byteLength,
    };
  }

  async tag(
    descriptor: Descriptor,
    reference: string,
    options: OperationOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    if (!isValidTag(reference)) {
      throw new InvalidReferenceError(
        reference,
        'not a valid tag: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"',
      );
    }
    if (!isManifest(descriptor)) {
      throw new UnsupportedMediaTypeError(
        descriptor.mediaType,
        'only manifests and indexes are tagged',
      );
    }
    const stored = this.#content.get(descriptor.digest);
    if (!stored) throw this.#notFound(`manifest ${descriptor.digest}`);
    if (stored.bytes.byteLength !== descriptor.size) {
      throw new FerryError(
        ErrorCode.SizeMismatch,
        `cannot tag ${reference}: ${descriptor.digest} in ${this.name} is ${stored.bytes.byteLength} bytes, not ${descriptor.size}`,
      );
    }
    // Re-tagging moves the tag to the end, as a layout's index.json does.
    this.#tags.delete(reference);
    this.#tags.set(reference, {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
    });
  }

  /** Tags in the order they were last set. */
  async tags(options: OperationOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    return [...this.#tags.keys()];
  }

  /** Manifests whose `subject` is `subject`, sorted by digest (as a layout lists them). */
  async referrers(subject: Descriptor, options: ReferrersOptions = {}): Promise<Descriptor[]> {
    options.signal?.throwIfAborted();
    const found: Descriptor[] = [];
    for (const [digest, stored] of this.#content) {
      if (!isManifest(stored.descriptor) || stored.bytes.byteLength > MANIFEST_SIZE_LIMIT) continue;
      let parsed;
      try {
        parsed = parseManifest(stored.bytes);
      } catch {
        continue;
      }
      const document = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
      if (document.subject?.digest !== subject.digest) continue;
      // The image spec's rule for the referrers API: artifactType, else the config's media type.
      const artifactType =
        document.artifactType ??
        (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
      if (options.artifactType !== undefined && artifactType !== options.artifactType) continue;
      found.push({
        mediaType: parsed.mediaType,
        digest,
        size: stored.bytes.byteLength,
        ...(artifactType !== undefined ? { artifactType } : {}),
        ...(document.annotations ? { annotations: document.annotations } : {}),
      });
    }
    return found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }

  /** Removes the content and every tag that names it. */
  async delete(descriptor: Descriptor, options: OperationOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    let untagged = false;
    for (const [tag, tagged] of this.#tags) {
      if (tagged.digest === descriptor.digest) {
        this.#tags.delete(tag);
        untagged = true;
      }
    }
    if (!this.#content.delete(descriptor.digest) && !untagged) {
      throw this.#notFound(`blob ${descriptor.digest}`);
    }
  }

  /** The stored bytes of `digest` (a copy), for tests and callers that want them whole. */
  bytes(digest: string): Buffer | undefined {
    const stored = this.#content.get(digest as Digest);
    return stored && Buffer.from(stored.bytes);
  }

  /** Every digest held, in the order first pushed. */
  digests(): Digest[] {
    return [...this.#content.keys()];
  }

  /** Stores `bytes` as a blob (or manifest, by `mediaType`) and returns its descriptor. */
  async add(
    bytes: Uint8Array | string,
    mediaType: string = MediaType.OctetStream,
  ): Promise<Descriptor> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
    const descriptor = { mediaType, digest: computeDigest(data), size: data.byteLength };
    await this.push(descriptor, data);
    return descriptor;
  }

  #notFound(what: string): NotFoundError {
    return new NotFoundError(`${what} not found in ${this.name}`);
  }
}

function counting(onProgress: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onProgress(chunk.byteLength);
      callback(null, chunk);
    },
  });
}
