/** Finding a formula's bottle image, its index and the right bottle in it. */
import { fetchManifest, type FetchedManifest, type Target } from '@ferry/artifact';
import { FerryError, type ImageIndex, type ImageManifest } from '@ferry/oci';
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
  const descriptor = await target.resolve(imageTag, { signal });
  const indexManifest = await fetchManifest(target, descriptor, { signal });
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
  manifest: ImageManifest;
  tab: BottleTab | undefined;
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
  const fetched = await fetchManifest(target, entry.descriptor, { signal });
  if (fetched.parsed.kind !== 'manifest' || fetched.parsed.manifest.layers.length !== 1) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${target.name}@${entry.descriptor.digest} (${entry.tag}) is not a bottle manifest with exactly one layer`,
    );
  }
  const manifest = fetched.parsed.manifest;
  const tab = entry.tab ?? parseTabAnnotation(manifest.annotations?.['sh.brew.tab']);
  return { entry, manifest, tab };
}

function parseTabAnnotation(value: string | undefined): BottleTab | undefined {
  if (!value) return undefined;
  try {
    return parseTab(value);
  } catch {
    return undefined;
  }
}
