/**
 * The bottle image index: one per image tag, listing one manifest per bottle tag.
 *
 * From `GitHubPackages#upload_bottle` (`github_packages.rb`):
 * - the index is `{ schemaVersion, manifests, annotations }`, pretty-printed (`write_image_index`);
 * - without `--keep-old` an existing image tag is an error ("already exists!"); with it, the
 *   existing index's manifests and annotations are kept and new bottles appended;
 * - a bottle whose ref name is already in the index is refused ("A bottle JSON for <tag> is
 *   present, but it is already in the image index!");
 * - an index of 4 MiB or more is refused ("Image index too large!": GitHub answers 500).
 */
import {
  Annotation,
  FerryError,
  MediaType,
  computeDigest,
  type Annotations,
  type Descriptor,
  type ImageIndex,
} from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { homebrewJsonBytes } from './json.js';
import { bottleEntries } from './select.js';

/** `raise "Image index too large!" if index_json_size >= 4 * 1024 * 1024`. */
export const BOTTLE_INDEX_SIZE_LIMIT = 4 * 1024 * 1024;

export interface BuiltIndex {
  index: ImageIndex;
  /** The exact bytes to push (and to hash). */
  bytes: Uint8Array;
  /** Descriptor of `bytes`, as an OCI layout's index.json or a registry would name it. */
  descriptor: Descriptor;
}

/**
 * Serializes an index as Homebrew does; refuses (ERR_INDEX_TOO_LARGE) one of 4 MiB or more, before
 * anything could be pushed.
 */
export function buildBottleIndex(manifests: Descriptor[], annotations: Annotations): BuiltIndex {
  const index: ImageIndex = { schemaVersion: 2, manifests, annotations };
  const bytes = homebrewJsonBytes(index);
  if (bytes.byteLength >= BOTTLE_INDEX_SIZE_LIMIT) {
    throw new FerryError(
      HomebrewErrorCode.IndexTooLarge,
      `bottle index of ${bytes.byteLength} bytes reaches the 4 MiB limit (${BOTTLE_INDEX_SIZE_LIMIT} bytes) that GitHub Packages enforces`,
    );
  }
  return {
    index,
    bytes,
    descriptor: {
      mediaType: MediaType.OciIndex,
      digest: computeDigest(bytes),
      size: bytes.byteLength,
    },
  };
}

export interface MergeOptions {
  /** Append to an existing index (`brew pr-upload --keep-old`) instead of refusing it. */
  keepOld?: boolean;
  /** Index annotations when there is no existing index to keep them from. */
  annotations?: Annotations;
}

function tagsOf(manifests: Descriptor[]): string[] {
  return bottleEntries({ schemaVersion: 2, manifests }).map((entry) => entry.tag);
}

/**
 * The index after adding `entries`: a new index when `existing` is undefined; with `keepOld`, the
 * existing one (manifests and annotations kept, entries appended). Throws ERR_BOTTLE_EXISTS when
 * the image tag exists without `keepOld`, or when a bottle tag (standardized, so `aarch64_linux`
 * and `arm64_linux` clash) is already present or given twice: a changed bottle needs a new rebuild.
 */
export function mergeBottleIndex(
  existing: ImageIndex | undefined,
  entries: Descriptor[],
  options: MergeOptions = {},
): ImageIndex {
  if (existing && !options.keepOld) {
    const tag = existing.annotations?.[Annotation.RefName];
    throw new FerryError(
      HomebrewErrorCode.BottleExists,
      `the image ${tag ? `tag ${tag} ` : ''}already exists; keep its bottles and add new ones with keepOld`,
    );
  }
  const base = existing?.manifests ?? [];
  const annotations = existing ? (existing.annotations ?? {}) : options.annotations;
  if (annotations === undefined) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      'a new bottle index needs its formula annotations',
    );
  }
  const seen = new Set(tagsOf(base));
  for (const tag of tagsOf(entries)) {
    if (seen.has(tag)) {
      throw new FerryError(
        HomebrewErrorCode.BottleExists,
        `a bottle for ${tag} is already in the image index; a changed bottle needs a new rebuild`,
      );
    }
    seen.add(tag);
  }
  return { schemaVersion: 2, manifests: [...base, ...entries], annotations };
}
