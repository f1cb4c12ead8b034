/**
 * A bottle's OCI platform and config blob, derived from its tab as `GitHubPackages#upload_bottle`
 * does (`Library/Homebrew/github_packages.rb`): `TAB_ARCH_TO_PLATFORM_ARCHITECTURE`,
 * `BUILT_ON_OS_TO_PLATFORM_OS`, the Linux glibc/CPU extras and `write_image_config`.
 */
import { FerryError, type Platform } from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { homebrewJsonBytes } from './json.js';
import { defaultOsVersion, parseBottleTag, standardizeBottleTag } from './tags.js';

/**
 * `current` is today's github_packages.rb; `homebrew-3.6` is what Homebrew wrote in 2022 (the
 * sqlite 3.40.1 fixture). See build.ts for the annotation differences.
 */
export type AnnotationStyle = 'current' | 'homebrew-3.6';

export interface PlatformInput {
  /** The bottle tag (`arm64_sonoma`). */
  tag: string;
  /** The tab, as an object or its JSON text. */
  tab: Record<string, unknown> | string;
  /** Overrides `os.version` (default: the tab's `built_on.os_version`). */
  osVersion?: string;
  glibcVersion?: string;
  cpuVariant?: string;
}

export interface PlatformOptions {
  style?: AnnotationStyle;
  /** Linux `os.version` when the tab has none (`OS::LINUX_CI_OS_VERSION`). */
  linuxOsVersion?: string;
  /** glibc when the tab has none (`OS::LINUX_GLIBC_CI_VERSION`). */
  linuxGlibcVersion?: string;
}

function invalid(message: string): FerryError {
  return new FerryError(HomebrewErrorCode.InvalidBottle, message);
}

// `os.rb` at the time of writing; older Homebrew used Ubuntu 22.04 / 2.35.
const LINUX_CI_OS_VERSION = 'Ubuntu 24.04';
const LINUX_GLIBC_CI_VERSION = '2.39';
// `Hardware::CPU::INTEL_64BIT_OLDEST_CPU` (`hardware.rb`), used on every Linux bottle.
const INTEL_64BIT_OLDEST_CPU = 'core2';
// `TAB_ARCH_TO_PLATFORM_ARCHITECTURE` and `BUILT_ON_OS_TO_PLATFORM_OS`.
const ARCHITECTURES: Record<string, string> = { arm64: 'arm64', x86_64: 'amd64' };
const OSES: Record<string, string> = { Linux: 'linux', Macintosh: 'darwin' };

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** The tab as an object (parsing its JSON text if need be). */
export function tabObject(tab: PlatformInput['tab']): Record<string, unknown> {
  let value: unknown = tab;
  if (typeof tab === 'string') {
    try {
      value = JSON.parse(tab);
    } catch {
      throw invalid('the tab is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('the tab must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * The bottle's platform and Linux extras, derived from its tab as Homebrew does: architecture from
 * `tab.arch` (else the tag), os from `built_on.os` (else the tag), `os.version` from
 * `built_on.os_version` (Linux drops a trailing " LTS"; darwin falls back to `macOS <version>`).
 */
export function bottlePlatform(
  bottle: PlatformInput,
  options: PlatformOptions = {},
): { platform: Platform; glibcVersion?: string; cpuVariant?: string } {
  const tab = tabObject(bottle.tab);
  const tag = standardizeBottleTag(bottle.tag);
  const { arch, system } = parseBottleTag(tag);
  const builtOn = tab.built_on as Record<string, unknown> | undefined;
  const architecture = ARCHITECTURES[str(tab.arch) ?? arch];
  if (!architecture) throw invalid(`unknown tab arch ${JSON.stringify(tab.arch ?? arch)}`);
  const builtOs = str(builtOn?.os);
  const os = builtOs !== undefined ? OSES[builtOs] : system === 'linux' ? 'linux' : 'darwin';
  if (!os) throw invalid(`unknown tab built_on.os ${JSON.stringify(builtOs)}`);

  let osVersion = bottle.osVersion ?? str(builtOn?.os_version);
  let glibcVersion: string | undefined;
  let cpuVariant: string | undefined;
  if (os === 'darwin') {
    osVersion ??= defaultOsVersion(tag);
  } else {
    osVersion = osVersion?.replace(/ LTS$/, '') ?? options.linuxOsVersion ?? LINUX_CI_OS_VERSION;
    glibcVersion =
      bottle.glibcVersion ??
      str(builtOn?.glibc_version) ??
      options.linuxGlibcVersion ??
      LINUX_GLIBC_CI_VERSION;
    // Homebrew 3.6 read a top-level `oldest_cpu_family` that tabs never had; today's reads built_on.
    const oldest =
      options.style === 'homebrew-3.6' ? tab.oldest_cpu_family : builtOn?.oldest_cpu_family;
    cpuVariant = bottle.cpuVariant ?? str(oldest) ?? INTEL_64BIT_OLDEST_CPU;
  }
  // `{ architecture:, os:, "os.version" => os_version }.compact_blank`, in that order.
  const platform: Platform = { architecture, os };
  if (osVersion !== undefined && osVersion.trim() !== '') platform['os.version'] = osVersion;
  return { platform, glibcVersion, cpuVariant };
}

/** The config blob (`write_image_config`): the platform, then `rootfs`. */
export function bottleConfigBytes(platform: Platform, diffIdHex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(diffIdHex)) throw invalid(`invalid diff_id ${diffIdHex}`);
  return homebrewJsonBytes({
    ...platform,
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffIdHex}`] },
  });
}
