/** An in-memory fetcher for tests: blobs by digest, and a record of what was fetched. */
import { Readable } from 'node:stream';
import type { Fetcher } from '@ferry/artifact';
import { computeDigest, type Descriptor } from '@ferry/oci';

export class MemoryFetcher implements Fetcher {
  readonly blobs = new Map<string, Buffer>();
  readonly fetched: string[] = [];

  add(bytes: Buffer | string, mediaType: string, annotations?: Record<string, string>): Descriptor {
    const buffer = Buffer.from(bytes);
    const digest = computeDigest(buffer);
    this.blobs.set(digest, buffer);
    return { mediaType, digest, size: buffer.byteLength, ...(annotations ? { annotations } : {}) };
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    this.fetched.push(descriptor.digest);
    const bytes = this.blobs.get(descriptor.digest);
    if (!bytes) throw new Error(`no blob ${descriptor.digest}`);
    return Readable.from([bytes]);
  }
}
