/**
 * File plumbing of the ranged download: the in-order hash of a file whose ranges land out of
 * order, and positional writes of batched chunks.
 */
import type { FileHandle } from 'node:fs/promises';
import { Digester, FerryError } from '@ferry/oci';
import { RegistryErrorCode } from './errors.js';
import { contiguousPrefix, type RangeState } from './range-state.js';

const HASH_READ = 2 * 1024 * 1024;

/** Hashes the file in order as the contiguous prefix on disk grows. */
export class PrefixHasher {
  readonly #handle: FileHandle;
  readonly #state: RangeState;
  readonly #digester: Digester;
  readonly #buffer = Buffer.allocUnsafe(HASH_READ);
  #hashed = 0;
  #running: Promise<void> | undefined;
  #error: unknown;
  #stopped = false;

  constructor(handle: FileHandle, state: RangeState, algorithm: Digester['algorithm']) {
    this.#handle = handle;
    this.#state = state;
    this.#digester = new Digester(algorithm);
  }

  /** More of the prefix may be on disk: hash it in the background. */
  advance(): void {
    this.#running ??= this.#hashPrefix().finally(() => (this.#running = undefined));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    while (this.#running) await this.#running;
  }

  /** The digest, once every range is complete. */
  async finish(): Promise<string> {
    for (;;) {
      while (this.#running) await this.#running;
      if (this.#error !== undefined) throw this.#error;
      if (this.#hashed >= this.#state.size) return this.#digester.digest();
      this.advance();
    }
  }

  async #hashPrefix(): Promise<void> {
    try {
      while (!this.#stopped) {
        const limit = contiguousPrefix(this.#state.ranges);
        if (this.#hashed >= limit) return;
        const length = Math.min(HASH_READ, limit - this.#hashed);
        const { bytesRead } = await this.#handle.read(this.#buffer, 0, length, this.#hashed);
        if (bytesRead === 0)
          throw new FerryError(
            RegistryErrorCode.Protocol,
            `the partial file ended at byte ${this.#hashed}, before the ${limit} bytes written`,
          );
        this.#digester.update(this.#buffer.subarray(0, bytesRead));
        this.#hashed += bytesRead;
      }
    } catch (error) {
      this.#error ??= error;
    }
  }
}

export async function writeFully(
  handle: FileHandle,
  buffers: Buffer[],
  length: number,
  position: number,
): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === length) return;
  // A short writev (rare on files): write the rest one buffer at a time.
  let offset = bytesWritten;
  const rest = Buffer.concat(buffers, length).subarray(offset);
  for (let at = 0; at < rest.byteLength;) {
    const { bytesWritten: n } = await handle.write(
      rest,
      at,
      rest.byteLength - at,
      position + offset,
    );
    at += n;
    offset += n;
  }
}
