/**
 * Shared by the push-packed tests: memory targets that record (or hold back) every call, packed
 * artifacts of random files, and the events of a push written as the CLI's status lines.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Readable } from 'node:stream';
import { MediaType, type Descriptor, type Digest } from '@ferry/oci';
import { LARGE_TRANSFER_MIN_SIZE } from '../limit.js';
import { MemoryTarget } from '../memory-target.js';
import { pack, type PackedArtifact } from '../pack.js';
import { pushPacked, type PushPackedEvent, type PushPackedOptions } from '../push-packed.js';
import type { Content, OperationOptions, PushOptions, StreamingOutcome } from '../target.js';
import { isManifest } from '../content.js';

export const KiB = 1024;
export const SMALL = 4 * KiB;
/** Just above the size below which existence checks may be skipped. */
export const LARGE = 256 * KiB + 1;

export const sha256 = (bytes: Uint8Array) =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export const short = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

/** A memory target that records every call in order (before doing it). */
export class RecordingTarget extends MemoryTarget {
  /** `exists <digest>`, `push <digest>`, `tag <reference>`, in call order. */
  events: string[] = [];
  existsCalls: string[] = [];
  pushCalls: string[] = [];
  /** The media type each digest was first pushed with: manifests apart from blobs. */
  readonly #mediaTypes = new Map<string, string>();

  constructor() {
    super('recording');
  }

  resetCalls(): void {
    this.events = [];
    this.existsCalls = [];
    this.pushCalls = [];
  }

  /** Off while a subclass stores content by another route (push by tag). */
  protected recording = true;
  /**
   * Digests whose exists/push calls are not recorded (stored while hashing). Per digest, not a
   * switch like `recording`: pushes of other blobs running meanwhile must still be recorded.
   */
  protected readonly unrecorded = new Set<string>();

  /** Runs `task` without recording its calls. */
  protected async quietly<T>(task: () => Promise<T>): Promise<T> {
    this.recording = false;
    try {
      return await task();
    } finally {
      this.recording = true;
    }
  }

  override async exists(descriptor: Descriptor, options?: OperationOptions): Promise<boolean> {
    if (this.recording && !this.unrecorded.has(descriptor.digest)) {
      this.events.push(`exists ${descriptor.digest}`);
      this.existsCalls.push(descriptor.digest);
    }
    return super.exists(descriptor, options);
  }

  override async push(descriptor: Descriptor, content: Content, options?: PushOptions) {
    if (this.recording && !this.unrecorded.has(descriptor.digest)) {
      this.events.push(`push ${descriptor.digest}`);
      this.pushCalls.push(descriptor.digest);
    }
    if (!this.#mediaTypes.has(descriptor.digest))
      this.#mediaTypes.set(descriptor.digest, descriptor.mediaType);
    return super.push(descriptor, content, options);
  }

  override async tag(descriptor: Descriptor, reference: string, options?: OperationOptions) {
    if (this.recording) this.events.push(`tag ${reference}`);
    return super.tag(descriptor, reference, options);
  }

  /** Stored blobs (not manifests) by digest. */
  get blobs(): Map<string, Buffer> {
    return this.#kind(false);
  }

  /** Stored manifests by digest. */
  get manifests(): Map<string, Buffer> {
    return this.#kind(true);
  }

  #kind(manifests: boolean): Map<string, Buffer> {
    const found = new Map<string, Buffer>();
    for (const digest of this.digests()) {
      const mediaType = this.#mediaTypes.get(digest);
      if (mediaType !== undefined && isManifest({ mediaType }) === manifests)
        found.set(digest, this.bytes(digest) as Buffer);
    }
    return found;
  }
}

/** A recording target that can push a manifest and tag it in one request. */
export class TaggingTarget extends RecordingTarget {
  async pushTagged(descriptor: Descriptor, content: Uint8Array, tag: string): Promise<void> {
    this.events.push(`pushTagged ${descriptor.digest} ${tag}`);
    await this.quietly(async () => {
      await this.push(descriptor, content);
      await this.tag(descriptor, tag);
    });
  }
}

/**
 * A recording target that stores blobs while their digest is computed, as a registry does:
 * reads the whole stream, waits for the digest, and answers `exists` for a blob it holds.
 */
export class StreamingTarget extends RecordingTarget {
  /** Digests of the blobs streamed, in the order their digests became known. */
  readonly streamed: string[] = [];
  /** Makes every streamed upload fail once its bytes are read. */
  failStreaming = false;

  async pushWhileHashing(
    open: () => Readable,
    size: number,
    digest: Promise<Digest>,
  ): Promise<StreamingOutcome> {
    const chunks: Buffer[] = [];
    for await (const chunk of open()) chunks.push(chunk as Buffer);
    if (this.failStreaming) throw new Error('the registry closed the upload');
    const known = await digest;
    this.streamed.push(known);
    const descriptor = { mediaType: MediaType.OciLayer, digest: known, size };
    this.unrecorded.add(known);
    try {
      if (await this.exists(descriptor)) return 'exists';
      await this.push(descriptor, Buffer.concat(chunks));
      return 'uploaded';
    } finally {
      this.unrecorded.delete(known);
    }
  }
}

/** Writes one file per size (distinct random bytes) under `dir` and packs them (v1.1). */
export async function packFiles(dir: string, name: string, sizes: number[]) {
  const sub = await mkdtemp(join(dir, `${name}-`));
  const contents: Buffer[] = [];
  const inputs = [];
  for (const [index, size] of sizes.entries()) {
    const bytes = randomBytes(size);
    const title = `f${String(index).padStart(2, '0')}.bin`;
    await writeFile(join(sub, title), bytes);
    contents.push(bytes);
    inputs.push({ path: join(sub, title), title });
  }
  const packed = await pack(inputs);
  expect(packed.layers.map((layer) => layer.descriptor.digest)).toEqual(contents.map(sha256));
  return { packed, contents };
}

/** Digests in push order: config first, then the layers. */
export const blobDigests = (packed: PackedArtifact) => [
  packed.config.descriptor.digest,
  ...packed.layers.map((layer) => layer.descriptor.digest),
];

/** The events of a push as the CLI prints them: `Uploaded   <title>  <short digest>`. */
export function statusLines(events: readonly PushPackedEvent[]): string[] {
  const lines: string[] = [];
  for (const event of events) {
    const name = event.descriptor.annotations?.['org.opencontainers.image.title'];
    const line = (verb: string, what: string) =>
      `${verb.padEnd(10)} ${what}  ${short(event.descriptor.digest)}`;
    if (event.type === 'exists') lines.push(line('Exists', name ?? event.descriptor.mediaType));
    if (event.type === 'uploaded') lines.push(line('Uploaded', name ?? event.descriptor.mediaType));
    if (event.type === 'manifest') lines.push(line('Uploaded', event.descriptor.mediaType));
  }
  return lines;
}

/** pushPacked with its events collected. */
export function recordPush(
  target: RecordingTarget,
  packed: PackedArtifact,
  options: Omit<PushPackedOptions, 'onEvent'> = {},
) {
  const events: PushPackedEvent[] = [];
  const done = pushPacked(target, packed, { ...options, onEvent: (e) => events.push(e) });
  return { done, events, lines: () => statusLines(events) };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

/** Lets every pending promise callback run (setImmediate comes after all microtasks). */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A recording target whose blob pushes wait until the test releases them, then store (and
 * verify) the bytes. Manifests go straight through.
 */
export class BlockingTarget extends RecordingTarget {
  readonly inFlight = new Map<
    string,
    { size: number; gate: Deferred<void>; done: Promise<void> }
  >();
  /** Blob digests in the order their pushes began. */
  readonly started: string[] = [];
  maxInFlight = 0;
  maxLarge = 0;

  override push(descriptor: Descriptor, content: Content, options?: PushOptions): Promise<void> {
    if (descriptor.mediaType === MediaType.OciManifest)
      return super.push(descriptor, content, options);
    const { digest, size } = descriptor;
    if (this.inFlight.has(digest)) throw new Error(`${digest} pushed twice at once`);
    const gate = deferred<void>();
    const done = (async () => {
      await gate.promise;
      try {
        await super.push(descriptor, content, options);
      } finally {
        this.inFlight.delete(digest);
      }
    })();
    this.inFlight.set(digest, { size, gate, done });
    this.started.push(digest);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    this.maxLarge = Math.max(this.maxLarge, this.large().length);
    return done;
  }

  /** Digests of the large blobs in flight, in the order they began. */
  large(): string[] {
    return [...this.inFlight].filter(([, p]) => p.size >= LARGE_TRANSFER_MIN_SIZE).map(([d]) => d);
  }

  /** Digests of the small blobs in flight, in the order they began. */
  small(): string[] {
    return [...this.inFlight].filter(([, p]) => p.size < LARGE_TRANSFER_MIN_SIZE).map(([d]) => d);
  }

  /** Lets one push go on, and waits until it has stored its blob and the push moved on. */
  async release(digest: string): Promise<void> {
    const pending = this.inFlight.get(digest);
    if (!pending) throw new Error(`${digest} is not in flight`);
    pending.gate.resolve();
    await pending.done;
    await flush();
  }
}
