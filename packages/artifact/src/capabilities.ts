/**
 * Type guards for the capabilities only some targets have (target.ts): callers ask whether a
 * target can mount, push by tag, delete… instead of casting it or reaching for its class.
 */
import type {
  BlobStater,
  BytesFetcher,
  Deleter,
  FileCopier,
  FileDownloader,
  HandleDownloader,
  Mounter,
  ReferenceFetcher,
  StreamingPusher,
  TaggedPusher,
} from './target.js';

function has<K extends string>(value: object, key: K): boolean {
  return typeof (value as Record<K, unknown>)[key] === 'function';
}

/** Can stream a blob while its digest is computed (a registry). */
export function canPushWhileHashing<T extends object>(target: T): target is T & StreamingPusher {
  return has(target, 'pushWhileHashing');
}

/** Can mount blobs from another repository of its registry. */
export function canMount<T extends object>(target: T): target is T & Mounter {
  return has(target, 'mount');
}

/** Can push a manifest and tag it in one request. */
export function canPushTagged<T extends object>(target: T): target is T & TaggedPusher {
  return has(target, 'pushTagged');
}

/** Can delete manifests and blobs. */
export function canDelete<T extends object>(target: T): target is T & Deleter {
  return has(target, 'delete');
}

/** Can write verified content straight to a file. */
export function canCopyTo<T extends object>(target: T): target is T & FileCopier {
  return has(target, 'copyTo');
}

/** Can download a large blob into a file over several connections. */
export function canDownloadToFile<T extends object>(target: T): target is T & FileDownloader {
  return has(target, 'downloadToFile');
}

/** Can write a blob into an open file without a stream in between. */
export function canDownloadIntoFile<T extends object>(target: T): target is T & HandleDownloader {
  return has(target, 'downloadIntoFile');
}

/** Can look a blob up by digest alone. */
export function canStatBlob<T extends object>(target: T): target is T & BlobStater {
  return has(target, 'statBlob');
}

/** Can fetch a manifest by tag in one request. */
export function canFetchReference<T extends object>(target: T): target is T & ReferenceFetcher {
  return has(target, 'fetchReference');
}

/** Can hand over a small blob whole, verified, without a stream (a registry). */
export function canFetchBytes<T extends object>(target: T): target is T & BytesFetcher {
  return has(target, 'fetchBytes');
}
