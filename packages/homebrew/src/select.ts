/**
 * Choosing a bottle from an image index for a host, as Homebrew chooses from a formula's bottles.
 *
 * - `Utils::Bottles::Collector#find_matching_tag` (`utils/bottles.rb`): the host's own tag (tags
 *   compare with `aarch64` ≡ `arm64`), else `all`.
 * - On macOS (`extend/os/mac/utils/bottles.rb`, `find_older_compatible_tag`): else the first tag of
 *   the same arch whose macOS version is ≤ the host's. Homebrew takes the first in the formula's
 *   bottle-block order, which `BottleSpecification#checksums` sorts newest first; ferry takes the
 *   newest explicitly, so the answer does not depend on the order of the index.
 * - Linux has no fallback. `platform."os.version"` is never consulted: it is free text.
 * - Homebrew then finds the index entry whose `org.opencontainers.image.ref.name` is
 *   `<pkg_version>.<tag>[.<rebuild>]` and whose `sh.brew.bottle.digest` is the bottle's sha256
 *   (`Resource::BottleManifest#manifest_annotations`, `resource.rb`).
 */
import {
  Annotation,
  FerryError,
  ImageManifestMediaTypes,
  type Descriptor,
  type ImageIndex,
} from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { parseTab, type BottleTab } from './tab.js';
import {
  isMacosTag,
  linuxBottleTag,
  macosVersionOfTag,
  parseBottleTag,
  standardizeBottleTag,
} from './tags.js';
import { compareVersions } from './version-compare.js';
import { parseRefName } from './versions.js';

export interface BottleEntry {
  /** The standardized bottle tag (`arm64_linux` even where the index says `aarch64_linux`). */
  tag: string;
  /** The entry's `org.opencontainers.image.ref.name`, if it has one. */
  refName?: string;
  /** pkg_version and rebuild read from the ref name, if it has one. */
  pkgVersion?: string;
  rebuild?: number;
  /** The index entry: the bottle's image manifest. */
  descriptor: Descriptor;
  /** `sh.brew.bottle.digest`: the bottle tarball's sha256, hex without prefix. */
  digestHex?: string;
  /** `sh.brew.tab`, parsed (undefined when absent or not JSON). */
  tab?: BottleTab;
}

function tagOf(descriptor: Descriptor): Omit<BottleEntry, 'descriptor'> | undefined {
  const annotations = descriptor.annotations ?? {};
  const ref = annotations[Annotation.RefName];
  if (ref !== undefined) {
    const parsed = parseRefName(ref);
    if (parsed) {
      try {
        return {
          tag: standardizeBottleTag(parsed.tag),
          refName: ref,
          pkgVersion: parsed.pkgVersion,
          rebuild: parsed.rebuild,
        };
      } catch {
        // Not a bottle tag: fall through to the platform.
      }
    }
  }
  // Without a usable ref name, a Linux platform still names its tag; a darwin platform does not
  // (its codename is only in free text), and an entry with no platform is the `all` bottle.
  if (descriptor.platform === undefined) return { tag: 'all', refName: ref };
  const tag = linuxBottleTag(descriptor.platform);
  return tag === undefined ? undefined : { tag, refName: ref };
}

/**
 * The bottles an index offers, in index order. Entries that are not image manifests, and darwin
 * entries without a ref name (their codename cannot be known), are left out.
 */
export function bottleEntries(index: ImageIndex): BottleEntry[] {
  const entries: BottleEntry[] = [];
  for (const descriptor of index.manifests) {
    if (!ImageManifestMediaTypes.includes(descriptor.mediaType)) continue;
    const named = tagOf(descriptor);
    if (!named) continue;
    const annotations = descriptor.annotations ?? {};
    const digestHex = annotations[Annotation.BrewBottleDigest];
    const tabJson = annotations[Annotation.BrewTab];
    const tab = tabJson === undefined ? undefined : parseTab(tabJson);
    entries.push({
      ...named,
      descriptor,
      ...(digestHex !== undefined && { digestHex }),
      ...(tab !== undefined && { tab }),
    });
  }
  return entries;
}

export interface MatchOptions {
  /**
   * Only the exact tag or `all`: Homebrew's `no_older_versions` (used with
   * HOMEBREW_SKIP_OR_LATER_BOTTLES on pre-release macOS).
   */
  noOlderVersions?: boolean;
}

/**
 * Homebrew's choice among available tags for a host tag: exact, else `all`, else (macOS) the
 * newest tag of the same arch for an older or equal macOS. Returns the chosen tag as it appears
 * in `available`, or `undefined`.
 */
export function findMatchingTag(
  available: Iterable<string>,
  hostTag: string,
  options: MatchOptions = {},
): string | undefined {
  const host = standardizeBottleTag(hostTag);
  const tags = [...available];
  const standard = (tag: string): string | undefined => {
    try {
      return standardizeBottleTag(tag);
    } catch {
      return undefined;
    }
  };
  const exact = tags.find((tag) => standard(tag) === host);
  if (exact !== undefined) return exact;
  const all = tags.find((tag) => standard(tag) === 'all');
  if (all !== undefined) return all;
  if (options.noOlderVersions) return undefined;

  const hostVersion = macosVersionOfTag(host);
  if (hostVersion === undefined) return undefined;
  const hostArch = parseBottleTag(host).arch;
  let best: { tag: string; version: string } | undefined;
  for (const tag of tags) {
    const standardized = standard(tag);
    if (standardized === undefined || !isMacosTag(standardized)) continue;
    if (parseBottleTag(standardized).arch !== hostArch) continue;
    const version = macosVersionOfTag(standardized);
    if (version === undefined || compareVersions(version, hostVersion) > 0) continue;
    if (!best || compareVersions(version, best.version) > 0) best = { tag, version };
  }
  return best?.tag;
}

/**
 * The index entry Homebrew would install on `hostTag`. Throws FerryError ERR_BOTTLE_NOT_FOUND
 * naming the tags that are available.
 */
export function selectBottle(
  index: ImageIndex,
  hostTag: string,
  options: MatchOptions = {},
): BottleEntry {
  const entries = bottleEntries(index);
  const chosen = findMatchingTag(
    entries.map((entry) => entry.tag),
    hostTag,
    options,
  );
  const entry = entries.find((candidate) => candidate.tag === chosen);
  if (chosen === undefined || entry === undefined) {
    const available = [...new Set(entries.map((candidate) => candidate.tag))];
    throw new FerryError(
      HomebrewErrorCode.BottleNotFound,
      `no bottle for ${hostTag}: available ${available.length > 0 ? available.join(', ') : '(none)'}` +
        (/_linux$/.test(hostTag) ? ' (Linux bottles have no fallback)' : ''),
    );
  }
  return entry;
}

/**
 * `HOMEBREW_MACOS_NEWEST_UNSUPPORTED` (`brew.sh`): from this macOS on, Homebrew treats the host as
 * a prerelease (`MacOSVersion#prerelease?`).
 */
export const MACOS_NEWEST_UNSUPPORTED = '28';

// env_config.rb: `boolean: true` variables are off when blank or one of FALSY_VALUES.
const FALSY_VALUES = ['false', 'no', 'off', 'nil', '0'];

/**
 * `extend/os/mac/utils/bottles.rb` `find_matching_tag`: on a prerelease macOS, with
 * HOMEBREW_DEVELOPER (`boolean: :set`) and HOMEBREW_SKIP_OR_LATER_BOTTLES (`boolean: true`) both
 * set, only the host's own tag or `all` will do ({@link MatchOptions.noOlderVersions}); on a
 * released macOS, and on Linux, the variable changes nothing.
 */
export function skipOrLaterBottles(
  hostTag: string,
  env: Record<string, string | undefined> = process.env,
  newestUnsupported: string = MACOS_NEWEST_UNSUPPORTED,
): boolean {
  const developer = (env.HOMEBREW_DEVELOPER ?? '').trim() !== '';
  const skip = (env.HOMEBREW_SKIP_OR_LATER_BOTTLES ?? '').trim();
  if (!developer || skip === '' || FALSY_VALUES.includes(skip.toLowerCase())) return false;
  let version: string | undefined;
  try {
    version = macosVersionOfTag(hostTag);
  } catch {
    return false;
  }
  return version !== undefined && compareVersions(version, newestUnsupported) >= 0;
}
