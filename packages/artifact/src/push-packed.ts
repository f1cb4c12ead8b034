/**
 * The push sequence of `ferry push`, `attach` and `model push`, for any caller: blobs first
 * (skipping what the target has, with existence checks sampled on a first push; small blobs many
 * at once, large ones fewer; uploads that began while pack() hashed are awaited, not repeated),
 * the manifest last, and tags only with or after the manifest — so a tag never names half a
 * push, and a failed blob leaves no tag at all.
 */
import type { Descriptor } from '@ferry/oci';
import { canPushTagged, canPushWhileHashing } from './capabilities.js';
import type { DigestCache } from './digest-cache.js';
import { type FileHasher } from './digest-cache.js';
import { offThreadHasher } from './digest-worker.js';
import { EagerUploads, type EagerUpload } from './eager-upload.js';
import { ExistenceChecks } from './existence-checks.js';
import { likelyPresentAt } from './likely-present.js';
import { LARGE_TRANSFER_MIN_SIZE, limit } from './limit.js';
import {
  digestFile,
  pack,
  type FileInput,
  type PackedArtifact,
  type PackedBlob,
  type PackOptions,
} from './pack.js';
import type { Storage, Tagger } from './target.js';
import { sharedSignal } from './shared-signal.js';

/** What a push writes to: content, then tags (pushed in one request where the target can). */
export type PushDestination = Storage & Tagger;

/**
 * What a push did, in order per blob: `start`, `progress`…, `uploaded` — or only `exists`. A
 * blob whose upload began while it was hashed reports once, with `early` (its `start` and
 * `progress` went to {@link PushHasherOptions.onEarlyStart} / `onEarlyProgress`). `manifest`
 * comes last, once the manifest is stored and the first tag points at it.
 */
export type PushPackedEvent =
  | { type: 'exists'; descriptor: Descriptor; early?: EagerUpload | undefined }
  | { type: 'start'; descriptor: Descriptor }
  | { type: 'progress'; descriptor: Descriptor; bytes: number }
  | { type: 'uploaded'; descriptor: Descriptor; early?: EagerUpload | undefined }
  | { type: 'manifest'; descriptor: Descriptor; tags: string[] };

export interface PushPackedOptions {
  /** Blobs of 1 MiB or more uploaded at once. Default 3, as ORAS. */
  concurrency?: number | undefined;
  /** Blobs uploaded at once in all, small ones included. Default: `concurrency`. */
  total?: number | undefined;
  /** Tags to point at the manifest; the first goes with it in one request where possible. */
  tags?: readonly string[] | undefined;
  /** Uploads that pushHasher() started while pack() hashed; awaited instead of repeated. */
  eager?: EagerUploads | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: PushPackedEvent) => void) | undefined;
}

/** Pushes a packed artifact's blobs, then its manifest, then its tags; resolves to the manifest. */
export async function pushPacked(
  target: PushDestination,
  packed: PackedArtifact,
  options: PushPackedOptions = {},
): Promise<Descriptor> {
  const { eager } = options;
  // The first blob that fails ends the push: the others stop instead of sending bytes to a
  // manifest that will never be written.
  const failed = new AbortController();
  const signal = sharedSignal(failed, options.signal);
  const emit = options.onEvent ?? (() => {});
  const concurrency = options.concurrency ?? 3;
  const blobs: PackedBlob[] = [packed.config, ...packed.layers];
  const unique = [...new Map(blobs.map((blob) => [blob.descriptor.digest, blob])).values()];
  // Small blobs of a first push skip the HEAD (see ExistenceChecks).
  const checks = new ExistenceChecks();
  let next = 0;
  const worker = async () => {
    for (let blob = unique[next++]; blob && !signal.aborted; blob = unique[next++]) {
      const { descriptor } = blob;
      const early = eager?.started(descriptor.digest);
      if (early) {
        const outcome = await early.outcome;
        emit({ type: outcome === 'exists' ? 'exists' : 'uploaded', descriptor, early });
        continue;
      }
      if (checks.shouldCheck(descriptor.size)) {
        const exists = await target.exists(descriptor, { signal });
        checks.observe(exists);
        if (exists) {
          emit({ type: 'exists', descriptor });
          continue;
        }
      }
      const upload = async () => {
        signal.throwIfAborted();
        emit({ type: 'start', descriptor });
        await target.push(descriptor, blob.open, {
          signal,
          onProgress: (bytes) => emit({ type: 'progress', descriptor, bytes }),
        });
      };
      await (descriptor.size >= LARGE_TRANSFER_MIN_SIZE ? large(upload) : upload());
      emit({ type: 'uploaded', descriptor });
    }
  };
  // One worker per small-blob slot; a large blob also takes one of `concurrency` large slots.
  const total = Math.max(concurrency, options.total ?? concurrency);
  const large = limit(concurrency);
  const stopOthers = (error: unknown) => {
    failed.abort(error);
    throw error;
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(total, unique.length)) }, () =>
      worker().catch(stopOthers),
    ),
  );
  options.signal?.throwIfAborted();
  // Any other early upload (two files with the same bytes) must end before the manifest goes.
  await eager?.settle();
  const [first, ...rest] = options.tags ?? [];
  // One PUT by tag where the target can, instead of one by digest and another by tag.
  if (first !== undefined && canPushTagged(target)) {
    await target.pushTagged(packed.descriptor, packed.manifestBytes, first, { signal });
  } else {
    await target.push(packed.descriptor, packed.manifestBytes, { signal });
    if (first !== undefined) await target.tag(packed.descriptor, first, { signal });
  }
  emit({
    type: 'manifest',
    descriptor: packed.descriptor,
    tags: options.tags ? [...options.tags] : [],
  });
  for (const tag of rest) await target.tag(packed.descriptor, tag, { signal });
  return packed.descriptor;
}

export interface PushHasherOptions {
  /** Uploads started while hashing at once (the large-blob limit of the push). */
  concurrency: number;
  /** Digests remembered from earlier pushes (DigestCache.open); none by default. */
  digestCache?: DigestCache | undefined;
  /** Files at least this large start uploading while hashed. Default EAGER_UPLOAD_MIN_SIZE. */
  eagerMinSize?: number | undefined;
  /**
   * Whether the target probably holds a blob of this size already (likelyPresentAt): its upload
   * then waits for the digest instead of running beside the hash.
   */
  likelyPresent?: ((size: number) => boolean | Promise<boolean>) | undefined;
  /** An upload began while its file is hashed (its digest is not known yet). */
  onEarlyStart?: ((path: string, size: number) => void) | undefined;
  onEarlyProgress?: ((path: string, bytes: number) => void) | undefined;
}

/** How a push learns digests: for pack(), with the uploads it starts on the way. */
export interface PushHasher {
  /** Pass to pack() as `hashFile`. */
  hashFile: FileHasher;
  /** Pass to pushPacked(); undefined when the target cannot stream while hashing. */
  eager: EagerUploads | undefined;
  /** Stores what the digest cache learned; call once the push succeeded. Never throws. */
  save(): Promise<void>;
  /** Stops uploads started early; call when the push failed. */
  abort(): Promise<void>;
}

/**
 * The digest cache (when given) and, for a target that can stream while hashing (a registry),
 * uploads that start while pack() hashes large files (see EagerUploads), with those files hashed
 * on a worker thread so that a blob the registry already holds is found out (and its upload
 * stopped) early.
 */
export function pushHasher(target: object | undefined, options: PushHasherOptions): PushHasher {
  const cache = options.digestCache;
  const eager =
    target !== undefined && canPushWhileHashing(target)
      ? new EagerUploads(target, {
          concurrency: options.concurrency,
          minSize: options.eagerMinSize,
          likelyPresent: options.likelyPresent,
          onStart: options.onEarlyStart,
          onProgress: options.onEarlyProgress,
        })
      : undefined;
  const hashed = eager ? eager.hasher(offThreadHasher(digestFile)) : digestFile;
  return {
    hashFile: cache ? cache.hasher(hashed) : hashed,
    eager,
    // A cache that cannot be written costs a hash next time, not this push.
    save: async () => void (await cache?.save().catch(() => {})),
    abort: async () => void (await eager?.abort()),
  };
}

export interface PushFilesOptions
  extends Omit<PackOptions, 'hashFile' | 'signal'>, Omit<PushPackedOptions, 'eager'> {
  /** Digests remembered from earlier pushes (DigestCache.open); none by default. */
  digestCache?: DigestCache | undefined;
}

/**
 * Packs `files` and pushes them as `ferry push` does: uploads start while large files are hashed,
 * then {@link pushPacked}. Resolves to the packed artifact's manifest and descriptor; staged
 * tarballs are removed either way.
 */
export async function pushFiles(
  target: PushDestination,
  files: FileInput[],
  options: PushFilesOptions = {},
): Promise<Pick<PackedArtifact, 'descriptor' | 'manifest' | 'manifestBytes'>> {
  const { concurrency, total, tags, signal, onEvent, digestCache, ...packOptions } = options;
  const hashing = pushHasher(target, {
    concurrency: concurrency ?? 3,
    digestCache,
    likelyPresent: likelyPresentAt(target, tags?.[0], signal),
  });
  let pushed = false;
  try {
    const packed = await pack(files, { ...packOptions, hashFile: hashing.hashFile, signal });
    try {
      await pushPacked(target, packed, {
        concurrency,
        total,
        tags,
        eager: hashing.eager,
        signal,
        onEvent,
      });
      pushed = true;
      return {
        descriptor: packed.descriptor,
        manifest: packed.manifest,
        manifestBytes: packed.manifestBytes,
      };
    } finally {
      await packed.cleanup();
    }
  } finally {
    if (pushed) await hashing.save();
    else await hashing.abort();
  }
}
