/**
 * Finding a formula's bottle image, its index and the right bottle in it, with the requests brew
 * makes: the index by its version tag (one GET, `Resource::BottleManifest`), then the bottle blob by
 * the index entry's `sh.brew.bottle.digest` — never the per-platform manifests when the entry
 * carries the digest and size. Only without a version is the tag list read (brew always knows the
 * version from its formula).
 */
import {
  fetchManifest,
  fetchManifestByReference,
  type FetchedManifest,
  type Target,
} from '@ferry/artifact';
import {
  Annotation,
  FerryError,
  MediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { selectBottle, type BottleEntry, type MatchOptions } from './select.js';
import { parseTab, type BottleTab } from './tab.js';
import { newestImageTag } from './versions.js';

export interface BottleImage {
  /** `homebrew/core/sqlite` */
  repository: string;
  imageTag: string;
  index: ImageIndex;
  indexManifest: FetchedManifest;
}

/** The image tag for `version`, or the newest by Homebrew's version ordering. */
export async function resolveImageTag(
  target: Target,
  version: string | undefined,
  signal?: AbortSignal,
): Promise<string> {
  if (version) return version;
  const newest = newestImageTag(await target.tags({ signal }));
  if (!newest) {
    throw new FerryError(
      HomebrewErrorCode.BottleNotFound,
      `${target.name} has no version tags (like 1.2.3 or 1.2.3_1)`,
    );
  }
  return newest;
}

/** Fetches and validates the image index under `imageTag`. */
export async function fetchBottleIndex(
  target: Target,
  repository: string,
  imageTag: string,
  signal?: AbortSignal,
): Promise<BottleImage> {
  // One GET by tag where the target can (a registry, a FallbackTarget over registries).
  const indexManifest = await fetchManifestByReference(target, imageTag, { signal });
  if (indexManifest.parsed.kind !== 'index') {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${target.name}:${imageTag} is not a bottle image index (it is a single manifest)`,
    );
  }
  return { repository, imageTag, index: indexManifest.parsed.index, indexManifest };
}

export interface ChosenBottle {
  entry: BottleEntry;
  /** The bottle tarball: from the entry's annotations, else from its manifest's one layer. */
  layer: Descriptor;
  /** The bottle's image manifest, when it had to be fetched (indexes without bottle sizes). */
  manifest?: ImageManifest | undefined;
  tab: BottleTab | undefined;
}

/**
 * The layer an index entry describes by itself: `sh.brew.bottle.digest` and `sh.brew.bottle.size`
 * (written since Homebrew 4), which is all brew needs to download the bottle.
 */
export function layerFromEntry(entry: BottleEntry): Descriptor | undefined {
  const size = Number(entry.descriptor.annotations?.[Annotation.BrewBottleSize] ?? NaN);
  if (entry.digestHex === undefined || !Number.isSafeInteger(size) || size < 0) return undefined;
  if (entry.pkgVersion === undefined) return undefined;
  return { mediaType: MediaType.OciLayerGzip, digest: `sha256:${entry.digestHex}`, size };
}

/** Homebrew's choice for `hostTag`, with its manifest (exactly one tar+gzip layer). */
export async function chooseBottle(
  target: Target,
  image: BottleImage,
  hostTag: string,
  signal?: AbortSignal,
  match: MatchOptions = {},
): Promise<ChosenBottle> {
  const entry = selectBottle(image.index, hostTag, match);
  const described = layerFromEntry(entry);
  if (described) return { entry, layer: described, tab: entry.tab };
  const fetched = await fetchManifest(target, entry.descriptor, { signal });
  if (fetched.parsed.kind !== 'manifest' || fetched.parsed.manifest.layers.length !== 1) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${target.name}@${entry.descriptor.digest} (${entry.tag}) is not a bottle manifest with exactly one layer`,
    );
  }
  const manifest = fetched.parsed.manifest;
  const tab = entry.tab ?? parseTabAnnotation(manifest.annotations?.['sh.brew.tab']);
  return { entry, layer: manifest.layers[0] as Descriptor, manifest, tab };
}

function parseTabAnnotation(value: string | undefined): BottleTab | undefined {
  if (!value) return undefined;
  try {
    return parseTab(value);
  } catch {
    return undefined;
  }
}
