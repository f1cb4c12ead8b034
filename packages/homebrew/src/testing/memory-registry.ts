/**
 * Memory targets by `host/repository`, for unit tests of push, pull and mirror without a
 * registry or a layout directory (@ferry/artifact MemoryTarget), with every call recorded.
 */
import {
  MemoryTarget,
  type Content,
  type OperationOptions,
  type PushOptions,
} from '@ferry/artifact';
import { Readable } from 'node:stream';
import { DigestTransform, type Descriptor } from '@ferry/oci';

/** A memory target that records `push <digest>`, `tag <tag>` and `fetch <digest>` in order. */
export class RecordingMemoryTarget extends MemoryTarget {
  readonly calls: string[] = [];
  /** Digests whose push fails (as a registry refusing the upload). */
  readonly failPush = new Set<string>();
  /** Digests whose fetch streams the right number of wrong bytes (and then fails). */
  readonly serveWrongBytes = new Set<string>();

  override async push(descriptor: Descriptor, content: Content, options?: PushOptions) {
    this.calls.push(`push ${descriptor.digest}`);
    if (this.failPush.has(descriptor.digest))
      throw new Error(`upload of ${descriptor.digest} refused`);
    return super.push(descriptor, content, options);
  }

  override async tag(descriptor: Descriptor, reference: string, options?: OperationOptions) {
    this.calls.push(`tag ${reference}`);
    return super.tag(descriptor, reference, options);
  }

  override async fetch(descriptor: Descriptor, options?: Parameters<MemoryTarget['fetch']>[1]) {
    this.calls.push(`fetch ${descriptor.digest}`);
    // A registry serving other bytes under the digest: the target's check fails the stream
    // at its end, as RegistryTarget's does, after the bytes went to the caller.
    if (this.serveWrongBytes.has(descriptor.digest)) {
      return Readable.from([Buffer.alloc(descriptor.size, 1)]).pipe(
        new DigestTransform({ expectedDigest: descriptor.digest, expectedSize: descriptor.size }),
      );
    }
    return super.fetch(descriptor, options);
  }
}

export class MemoryRegistry {
  readonly targets = new Map<string, RecordingMemoryTarget>();
  readonly opened: string[] = [];

  /** The target for `key` (`ghcr.io/homebrew/core/foo`), created empty on first use. */
  open(key: string): RecordingMemoryTarget {
    this.opened.push(key);
    let target = this.targets.get(key);
    if (!target) {
      target = new RecordingMemoryTarget(key);
      this.targets.set(key, target);
    }
    return target;
  }

  get(key: string): RecordingMemoryTarget {
    const target = this.targets.get(key);
    if (!target) throw new Error(`nothing was opened at ${key}`);
    return target;
  }
}
