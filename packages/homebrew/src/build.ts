/**
 * Building a bottle image byte for byte as `brew pr-upload` does (`GitHubPackages#upload_bottle`
 * in `Library/Homebrew/github_packages.rb`). Per bottle: a config blob (the platform plus
 * `rootfs.diff_ids`), a manifest with one gzip layer, and an index entry; then the index.
 *
 * Two generations of annotations are supported. `current` is today's github_packages.rb.
 * `homebrew-3.6` is what Homebrew wrote in 2022 (the sqlite 3.40.1 fixture): the index's license
 * key is the singular `org.opencontainers.image.license`, and entries carry no
 * `sh.brew.bottle.size`, `sh.brew.bottle.installed_size`, `sh.brew.license` or
 * `sh.brew.path_exec_files`.
 */
import {
  FerryError,
  MediaType,
  computeDigest,
  type Annotations,
  type Descriptor,
  type ImageIndex,
  type Platform,
} from '@ferry/oci';
import { buildBottleIndex, mergeBottleIndex, type BuiltIndex } from './bottle-index.js';
import { HomebrewErrorCode } from './errors.js';
import {
  bottleConfigBytes,
  bottlePlatform,
  type AnnotationStyle,
  type PlatformOptions,
} from './bottle-platform.js';
import { compactBlank, homebrewJsonBytes, sortByKey } from './json.js';
import { formatFormulaFullName, parseFormulaFullName, tapRepository } from './names.js';
import { sbomSupplementAnnotation } from './sbom.js';
import { truncateLicense } from './spdx.js';
import { standardizeBottleTag } from './tags.js';
import { bottleFileName, refName } from './versions.js';

/** Keys Homebrew writes that @ferry/oci's `Annotation` does not list. */
export const BrewAnnotation = {
  License: 'sh.brew.license',
  PathExecFiles: 'sh.brew.path_exec_files',
  SbomSupplement: 'sh.brew.sbom.supplement',
} as const;

// `github_packages.rb` VALID_OCI_TAG_REGEX: what `image_version_rebuild` accepts.
const VALID_OCI_TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/**
 * `GitHubPackages.image_version_rebuild(version_rebuild)`: the image tag `<pkg_version>[-<rebuild>]`,
 * refused (ERR_INVALID_BOTTLE_VERSION) when it is not a valid OCI tag. Current Homebrew raises
 * "GitHub Packages versions must match …" rather than replacing characters as it once did.
 */
export function pushImageTag(pkgVersion: string, rebuild = 0): string {
  const versionRebuild = rebuild > 0 ? `${pkgVersion}-${rebuild}` : pkgVersion;
  if (!VALID_OCI_TAG.test(versionRebuild)) {
    throw new FerryError(
      HomebrewErrorCode.InvalidVersion,
      `version ${JSON.stringify(versionRebuild)} cannot be pushed: GitHub Packages versions must match ${VALID_OCI_TAG.source} (declare a version without other characters)`,
    );
  }
  return versionRebuild;
}

export interface BottleInput {
  /** Full formula name: `sqlite`, `homebrew/core/openssl@3` (core prefix dropped), `user/tap/foo`. */
  name: string;
  pkgVersion: string;
  rebuild?: number;
  /** The bottle tag (`arm64_sonoma`); written standardized. */
  tag: string;
  tarball: {
    /** sha256 hex of the .tar.gz (the layer and `sh.brew.bottle.digest`). */
    digest: string;
    size: number;
    /** sha256 hex of the uncompressed tar (the config's diff_id). */
    diffId?: string;
  };
  /** The tab; an object is serialized compactly (`tab.to_json`), a string is used as is. */
  tab: Record<string, unknown> | string;
  installedSize?: number;
  pathExecFiles?: string[];
  license?: string;
  description?: string;
  homepage?: string;
  /** The tap's git revision (`tap_git_revision`). */
  revision?: string;
  /** `org.opencontainers.image.source`; see {@link homebrewSourceUrl}. */
  sourceUrl?: string;
  /** Defaults to formulae.brew.sh for homebrew/core formulae. */
  documentation?: string;
  /** `bottle.date`, e.g. `2022-12-30`. */
  created: string;
  glibcVersion?: string;
  cpuVariant?: string;
  /** Overrides `os.version` (default: the tab's `built_on.os_version`). */
  osVersion?: string;
  /** Overrides the vendor (default: the namespace's org, `homebrew`). */
  vendor?: string;
  /** Overrides the layer title (default: {@link bottleFileName}). */
  fileName?: string;
  /** A config already written, when the uncompressed tar's digest is not at hand. */
  config?: { digest: string; size: number };
  /** The bottle JSON's per-tag `sbom` supplement (`sh.brew.sbom.supplement`). */
  sbom?: unknown;
  /** The bottle JSON's `bottle.root_url`, for the SBOM's download location. */
  rootUrl?: string;
}

export interface BuildOptions extends PlatformOptions {
  /** An index already under the image tag; requires `keepOld`. */
  existingIndex?: ImageIndex;
  keepOld?: boolean;
}

export interface BuiltBottle {
  tag: string;
  refName: string;
  fileName: string;
  platform: Platform;
  /** The config's bytes; absent when `config` was given instead of `tarball.diffId`. */
  configBytes?: Uint8Array;
  config: Descriptor;
  layer: Descriptor;
  manifestBytes: Uint8Array;
  /** The index entry for this bottle (digest and size of `manifestBytes`). */
  entry: Descriptor;
}

export interface BuiltBottleImage {
  /** The tag to push the index under (`image_version_rebuild`). */
  imageTag: string;
  bottles: BuiltBottle[];
  index: BuiltIndex;
}

function invalid(message: string): FerryError {
  return new FerryError(HomebrewErrorCode.InvalidBottle, message);
}

/** `https://github.com/<org>/homebrew-<repo>/blob/<revision or HEAD>/<path>`. */
export function homebrewSourceUrl(namespace: string, path: string, revision?: string): string {
  return `https://github.com/${tapRepository(namespace)}/blob/${revision || 'HEAD'}/${path}`;
}

/** The index's annotations for a formula (`formula_annotations_hash`), in Homebrew's order. */
export function formulaAnnotations(
  bottle: BottleInput,
  style: AnnotationStyle = 'current',
): Annotations {
  const { namespace, name } = parseFormulaFullName(bottle.name);
  const license = bottle.license ?? '';
  // Current Homebrew: `SPDX.truncate_license(license)` (utils/spdx.rb); 2022's wrote it whole.
  const licenseValue = (style === 'current' ? truncateLicense(license) : license) || undefined;
  return compactBlank({
    'com.github.package.type': 'homebrew_bottle',
    'org.opencontainers.image.created': bottle.created,
    'org.opencontainers.image.description': bottle.description,
    'org.opencontainers.image.documentation': documentationOf(bottle),
    [`org.opencontainers.image.${style === 'current' ? 'licenses' : 'license'}`]: licenseValue,
    'org.opencontainers.image.ref.name': versionRebuild(bottle),
    'org.opencontainers.image.revision': bottle.revision,
    'org.opencontainers.image.source': bottle.sourceUrl,
    'org.opencontainers.image.title': formatFormulaFullName({ namespace, name }),
    'org.opencontainers.image.url': bottle.homepage,
    'org.opencontainers.image.vendor': bottle.vendor ?? namespace.split('/')[0],
    'org.opencontainers.image.version': bottle.pkgVersion,
  });
}

function versionRebuild(bottle: BottleInput): string {
  const rebuild = bottle.rebuild ?? 0;
  return rebuild > 0 ? `${bottle.pkgVersion}-${rebuild}` : bottle.pkgVersion;
}

function documentationOf(bottle: BottleInput): string | undefined {
  const { namespace, name } = parseFormulaFullName(bottle.name);
  if (bottle.documentation !== undefined) return bottle.documentation;
  return namespace === 'homebrew/core' ? `https://formulae.brew.sh/formula/${name}` : undefined;
}

/** Builds one bottle's config, manifest and index entry against the index's annotations. */
export function buildBottleManifest(
  bottle: BottleInput,
  indexAnnotations: Annotations,
  options: BuildOptions = {},
): BuiltBottle {
  const style = options.style ?? 'current';
  const { namespace, name } = parseFormulaFullName(bottle.name);
  const fullName = formatFormulaFullName({ namespace, name });
  const tag = standardizeBottleTag(bottle.tag);
  const rebuild = bottle.rebuild ?? 0;
  const ref = refName(bottle.pkgVersion, tag, rebuild);
  const fileName = bottle.fileName ?? bottleFileName(name, bottle.pkgVersion, tag, rebuild);
  const { digest, size, diffId } = bottle.tarball;
  if (!/^[0-9a-f]{64}$/.test(digest)) throw invalid(`invalid bottle sha256 ${digest}`);
  if (!Number.isSafeInteger(size) || size < 0) throw invalid(`invalid bottle size ${size}`);

  const { platform, glibcVersion, cpuVariant } = bottlePlatform(bottle, options);
  let configBytes: Uint8Array | undefined;
  let config: Descriptor;
  if (diffId !== undefined) {
    configBytes = bottleConfigBytes(platform, diffId);
    config = {
      mediaType: MediaType.OciConfig,
      digest: computeDigest(configBytes),
      size: configBytes.byteLength,
    };
  } else if (bottle.config) {
    config = {
      mediaType: MediaType.OciConfig,
      digest: bottle.config.digest as Descriptor['digest'],
      size: bottle.config.size,
    };
  } else {
    throw invalid(`bottle ${ref}: needs tarball.diffId (or a config descriptor)`);
  }

  const current = style === 'current';
  // github_packages.rb: an `all` bottle's tab loses `arch` and `built_on` (they describe the build
  // host, not where the bottle runs) and its index entry gets no platform.
  const allBottle = current && tag === 'all';
  const tabJson = allBottle
    ? JSON.stringify(withoutHostKeys(bottle.tab))
    : typeof bottle.tab === 'string'
      ? bottle.tab
      : JSON.stringify(bottle.tab);
  const sbomSupplement = current
    ? sbomSupplementAnnotation(bottle.sbom, {
        formulaFullName: fullName,
        formulaName: name,
        version: bottle.pkgVersion,
        tarGzSha256: digest,
        rootUrl: bottle.rootUrl ?? '',
        license: bottle.license ?? '',
        createdDate: bottle.created,
      })
    : undefined;
  const descriptorAnnotations = compactBlank({
    'org.opencontainers.image.ref.name': ref,
    'sh.brew.bottle.cpu.variant': cpuVariant,
    'sh.brew.bottle.digest': digest,
    'sh.brew.bottle.glibc.version': glibcVersion,
    'sh.brew.bottle.size': current ? String(size) : undefined,
    'sh.brew.bottle.installed_size': current ? bottle.installedSize?.toString() : undefined,
    [BrewAnnotation.License]: current ? bottle.license : undefined,
    'sh.brew.tab': tabJson,
    [BrewAnnotation.SbomSupplement]: sbomSupplement,
    [BrewAnnotation.PathExecFiles]: current ? bottle.pathExecFiles?.join(',') : undefined,
  });
  // Index annotations, then the entry's, then created/documentation/title; blanks out; sorted.
  const annotations = sortByKey(
    compactBlank({
      ...indexAnnotations,
      ...descriptorAnnotations,
      'org.opencontainers.image.created': bottle.created,
      'org.opencontainers.image.documentation': documentationOf(bottle),
      'org.opencontainers.image.title': `${fullName} ${ref}`,
    }),
  );
  const layer: Descriptor = {
    mediaType: MediaType.OciLayerGzip,
    digest: `sha256:${digest}`,
    size,
    annotations: { 'org.opencontainers.image.title': fileName },
  };
  const manifestBytes = homebrewJsonBytes({
    schemaVersion: 2,
    config,
    layers: [layer],
    annotations,
  });
  const entry: Descriptor = {
    mediaType: MediaType.OciManifest,
    digest: computeDigest(manifestBytes),
    size: manifestBytes.byteLength,
    ...(allBottle ? {} : { platform }),
    annotations: descriptorAnnotations,
  };
  return {
    tag,
    refName: ref,
    fileName,
    platform,
    ...(configBytes && { configBytes }),
    config,
    layer,
    manifestBytes,
    entry,
  };
}

/** `tab.except("arch", "built_on")`, keys otherwise in their order. */
function withoutHostKeys(tab: Record<string, unknown> | string): Record<string, unknown> {
  const parsed: unknown = typeof tab === 'string' ? JSON.parse(tab) : tab;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('an all bottle needs its tab as a JSON object');
  }
  return Object.fromEntries(
    Object.entries(parsed as Record<string, unknown>).filter(
      ([key]) => key !== 'arch' && key !== 'built_on',
    ),
  );
}

const FORMULA_FIELDS = [
  'name',
  'pkgVersion',
  'rebuild',
  'license',
  'description',
  'homepage',
  'revision',
  'sourceUrl',
  'documentation',
  'created',
  'vendor',
] as const;

/**
 * Builds every bottle of one formula version (one image tag) and the index. All bottles must agree
 * on the formula-level fields. With `existingIndex` and `keepOld`, its annotations are kept and
 * the new bottles appended; a tag already there is refused (ERR_BOTTLE_EXISTS).
 */
export function buildBottleImage(
  bottles: BottleInput[],
  options: BuildOptions = {},
): BuiltBottleImage {
  const first = bottles[0];
  if (!first) throw invalid('no bottles to build');
  const formulaField = (bottle: BottleInput, field: (typeof FORMULA_FIELDS)[number]) =>
    field === 'rebuild' ? (bottle.rebuild ?? 0) : bottle[field];
  for (const bottle of bottles) {
    const differs = FORMULA_FIELDS.find((f) => formulaField(bottle, f) !== formulaField(first, f));
    if (differs) throw invalid(`bottles of one image must agree on ${differs}`);
  }
  const style = options.style ?? 'current';
  const tag = pushImageTag(first.pkgVersion, first.rebuild ?? 0);
  const annotations =
    options.existingIndex && options.keepOld
      ? (options.existingIndex.annotations ?? {})
      : formulaAnnotations(first, style);
  const built = bottles.map((bottle) => buildBottleManifest(bottle, annotations, options));
  const merged = mergeBottleIndex(
    options.existingIndex,
    built.map((bottle) => bottle.entry),
    { keepOld: options.keepOld, annotations },
  );
  return {
    imageTag: tag,
    bottles: built,
    index: buildBottleIndex(merged.manifests, merged.annotations ?? {}),
  };
}
