/**
 * pkg_versions, rebuilds and the three names Homebrew derives from them: the image tag, the
 * per-platform ref name and the bottle file name.
 *
 * - `PkgVersion.parse` (`Library/Homebrew/pkg_version.rb`): `\A(.+?)(?:_(\d+))?\z`, so `1.7.1_1`
 *   is version 1.7.1 revision 1; `to_s` omits a zero revision.
 * - `GitHubPackages.version_rebuild` (`github_packages.rb`): `<pkg_version>-<rebuild>` for the image
 *   tag and `<pkg_version>.<bottle_tag>.<rebuild>` for the ref name, the rebuild only when > 0;
 *   `image_version_rebuild` turns characters an OCI tag cannot hold into `.`.
 * - `Bottle::Filename#to_s` (`bottle.rb`): `<name>--<pkg_version>.<tag>.bottle[.<rebuild>].tar.gz`,
 *   parsed back by `HOMEBREW_BOTTLES_EXTNAME_REGEX` (`global.rb`).
 */
import { FerryError } from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { compareVersions } from './version-compare.js';

export { compareVersions, versionTokens } from './version-compare.js';

export interface PkgVersion {
  /** The formula's version (`1.7.1`). */
  version: string;
  /** The formula's revision; 0 when absent. */
  revision: number;
}

export interface VersionRebuild {
  /** The pkg_version as text (`1.7.1_1`). */
  pkgVersion: string;
  /** The bottle rebuild; 0 when absent. */
  rebuild: number;
}

// `github_packages.rb` VALID_OCI_TAG_REGEX and INVALID_OCI_TAG_CHARS_REGEX.
const VALID_OCI_TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const INVALID_OCI_TAG_CHARS = /[^a-zA-Z0-9._-]/g;
// `HOMEBREW_BOTTLES_EXTNAME_REGEX` (global.rb), anchored, with the name and version before it.
const BOTTLE_FILE_NAME = /^(.+?)--(.+)\.([a-z0-9_]+)\.bottle\.(?:(\d+)\.)?tar\.gz$/;
// A ref name ends in `.<bottle tag>[.<rebuild>]`. Real tags start with a letter (codenames,
// `arm64_…`, `x86_64_linux`, `all`), which is what tells a tag from a trailing rebuild number.
const REF_NAME = /^(.+)\.([a-z][a-z0-9_]*)(?:\.(\d+))?$/;

function invalid(what: string, input: string, reason: string): FerryError {
  return new FerryError(
    HomebrewErrorCode.InvalidVersion,
    `invalid ${what} ${JSON.stringify(input)}: ${reason}`,
  );
}

function checkRebuild(rebuild: number): void {
  if (!Number.isSafeInteger(rebuild) || rebuild < 0) {
    throw invalid('rebuild', String(rebuild), 'expected a non-negative integer');
  }
}

function checkVersionText(what: string, version: string): void {
  if (version === '' || /\s/.test(version)) {
    throw invalid(what, version, 'must be non-empty and hold no whitespace');
  }
}

/** `1.7.1_1` → { version: '1.7.1', revision: 1 }; `1.7.1` → revision 0 (`PkgVersion.parse`). */
export function parsePkgVersion(pkgVersion: string): PkgVersion {
  checkVersionText('pkg_version', pkgVersion);
  const match = /^(.+?)(?:_(\d+))?$/.exec(pkgVersion);
  /* c8 ignore next */
  if (!match?.[1]) throw invalid('pkg_version', pkgVersion, 'empty version');
  return { version: match[1], revision: match[2] === undefined ? 0 : Number(match[2]) };
}

/** `PkgVersion#to_s`: the revision only when it is positive. */
export function formatPkgVersion({ version, revision }: PkgVersion): string {
  checkVersionText('version', version);
  checkRebuild(revision);
  return revision > 0 ? `${version}_${revision}` : version;
}

/** `PkgVersion#<=>`: versions first, then revisions. */
export function comparePkgVersions(a: string, b: string): -1 | 0 | 1 {
  const left = parsePkgVersion(a);
  const right = parsePkgVersion(b);
  const order = compareVersions(left.version, right.version);
  if (order !== 0) return order;
  return left.revision === right.revision ? 0 : left.revision > right.revision ? 1 : -1;
}

/** Orders (pkg_version, rebuild) pairs: a rebuild is newer than the bottle it rebuilds. */
export function compareVersionRebuilds(a: VersionRebuild, b: VersionRebuild): -1 | 0 | 1 {
  const order = comparePkgVersions(a.pkgVersion, b.pkgVersion);
  if (order !== 0) return order;
  return a.rebuild === b.rebuild ? 0 : a.rebuild > b.rebuild ? 1 : -1;
}

/**
 * The image tag: `1.6`, `1.6-1` (rebuild 1), `1.7.1_1`. Characters an OCI tag cannot hold become `.`
 * as in `image_version_rebuild` (Homebrew deprecates such versions); throws if still invalid.
 */
export function imageTag(pkgVersion: string, rebuild = 0): string {
  checkVersionText('pkg_version', pkgVersion);
  checkRebuild(rebuild);
  const raw = rebuild > 0 ? `${pkgVersion}-${rebuild}` : pkgVersion;
  const tag = VALID_OCI_TAG.test(raw) ? raw : raw.replace(INVALID_OCI_TAG_CHARS, '.');
  if (!VALID_OCI_TAG.test(tag)) throw invalid('image tag', raw, 'not a valid OCI tag');
  return tag;
}

/**
 * Reads an image tag back into (pkg_version, rebuild), or `undefined` for tags that are not
 * bottle versions (`latest`, `sha256-….sig`, anything not starting with a digit). A trailing
 * `-<n>` (n > 0) is read as the rebuild, as Homebrew writes it; a version that itself ends in
 * `-<digits>` (dates such as `2023-09-28`) reads the same way, so round trips stay exact but
 * such a tag's split is a guess — ordering by {@link compareImageTags} still ranks it correctly
 * against its own rebuilds.
 */
export function parseImageTag(tag: string): VersionRebuild | undefined {
  if (!VALID_OCI_TAG.test(tag) || !/^[0-9]/.test(tag)) return undefined;
  const match = /^(.+?)(?:-([1-9][0-9]*))?$/.exec(tag);
  if (!match?.[1]) return undefined;
  return { pkgVersion: match[1], rebuild: match[2] === undefined ? 0 : Number(match[2]) };
}

/** Orders two image tags by (pkg_version, rebuild); both must parse. */
export function compareImageTags(a: string, b: string): -1 | 0 | 1 {
  const left = parseImageTag(a);
  const right = parseImageTag(b);
  if (!left) throw invalid('image tag', a, 'not <pkg_version>[-<rebuild>]');
  if (!right) throw invalid('image tag', b, 'not <pkg_version>[-<rebuild>]');
  return compareVersionRebuilds(left, right);
}

/**
 * The newest bottle tag among a repository's tags (from the tags list API), ignoring tags that are
 * not `<pkg_version>[-<rebuild>]`; `undefined` when none is. Ties (e.g. `1.0` and `1.0.0`, equal to
 * Homebrew) keep the first seen.
 */
export function newestImageTag(tags: Iterable<string>): string | undefined {
  let best: { tag: string; parsed: VersionRebuild } | undefined;
  for (const tag of tags) {
    const parsed = parseImageTag(tag);
    if (!parsed) continue;
    if (!best || compareVersionRebuilds(parsed, best.parsed) > 0) best = { tag, parsed };
  }
  return best?.tag;
}

/** Per-platform ref name: `3.40.1.x86_64_linux`, `1.6.arm64_sonoma.1`. */
export function refName(pkgVersion: string, bottleTag: string, rebuild = 0): string {
  checkVersionText('pkg_version', pkgVersion);
  checkRebuild(rebuild);
  if (!/^[a-z][a-z0-9_]*$/.test(bottleTag)) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottleTag,
      `invalid bottle tag ${JSON.stringify(bottleTag)}`,
    );
  }
  return rebuild > 0 ? `${pkgVersion}.${bottleTag}.${rebuild}` : `${pkgVersion}.${bottleTag}`;
}

export interface ParsedRefName extends VersionRebuild {
  /** The bottle tag exactly as written (not standardized). */
  tag: string;
}

/**
 * Reads `<pkg_version>.<tag>[.<rebuild>]`; `undefined` if it is not one. The tag is the last
 * dot-separated part starting with a letter, optionally followed by a number (the rebuild).
 */
export function parseRefName(ref: string): ParsedRefName | undefined {
  const match = REF_NAME.exec(ref);
  if (!match?.[1] || !match[2]) return undefined;
  return { pkgVersion: match[1], tag: match[2], rebuild: match[3] ? Number(match[3]) : 0 };
}

/**
 * Bottle file name, the layer's `org.opencontainers.image.title`:
 * `sqlite--3.40.1.x86_64_linux.bottle.tar.gz`, `jq--1.6.arm64_sonoma.bottle.1.tar.gz`.
 * `name` is the short formula name (`Bottle::Filename` takes `File.basename`): a full name's tap
 * prefix is dropped.
 */
export function bottleFileName(
  name: string,
  pkgVersion: string,
  bottleTag: string,
  rebuild = 0,
): string {
  const short = name.slice(name.lastIndexOf('/') + 1);
  if (short === '' || short.includes('--')) {
    throw new FerryError(
      HomebrewErrorCode.InvalidFormulaName,
      `invalid formula name ${JSON.stringify(name)} for a bottle file name`,
    );
  }
  refName(pkgVersion, bottleTag, rebuild); // validates the parts
  const suffix = rebuild > 0 ? `.${rebuild}` : '';
  return `${short}--${pkgVersion}.${bottleTag}.bottle${suffix}.tar.gz`;
}

export interface ParsedBottleFileName extends ParsedRefName {
  name: string;
}

/**
 * Reads a bottle file name back. The tag and rebuild come from Homebrew's own
 * `HOMEBREW_BOTTLES_EXTNAME_REGEX`; the name ends at the first `--` (formula names never hold
 * `--`, while versions may hold `-`), so `openssl@3--3.3.1.x86_64_linux.bottle.tar.gz` →
 * openssl@3, 3.3.1.
 */
export function parseBottleFileName(fileName: string): ParsedBottleFileName | undefined {
  const match = BOTTLE_FILE_NAME.exec(fileName);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return {
    name: match[1],
    pkgVersion: match[2],
    tag: match[3],
    rebuild: match[4] ? Number(match[4]) : 0,
  };
}
