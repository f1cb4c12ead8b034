/**
 * Bottle tags (`arm64_sonoma`, `ventura`, `x86_64_linux`, `all`) and what they mean.
 *
 * - `Utils::Bottles::Tag.from_symbol` (`Library/Homebrew/utils/bottles.rb`): an optional
 *   `<arch>_` prefix from `Hardware::CPU::ALL_ARCHS`, then the system; no prefix means x86_64;
 *   `all` is its own tag. Tags compare by (system, standardized arch), where `aarch64` is `arm64`,
 *   and print standardized (`Tag#to_sym`): Intel macOS tags are the bare codename, so
 *   `aarch64_linux` prints as `arm64_linux` and `x86_64_sonoma` as `sonoma`.
 * - `MacOSVersion::RELEASES` (`macos_version.rb`) maps codenames to versions, golden_gate (27)
 *   down to el_capitan. Older codenames come from earlier releases of the same table
 *   (`os/mac/version.rb`), kept here so that old indexes still read.
 * - `Tag#valid_combination?`: Apple silicon tags start at big_sur.
 * - `MacOSVersion#strip_patch` / `#to_sym`: 11 and later are known by their major version alone,
 *   10.x by major.minor.
 */
import { FerryError, type Platform } from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { compareVersions } from './version-compare.js';

/** Codename → macOS version, newest first. */
export const MACOS_VERSIONS: Readonly<Record<string, string>> = {
  golden_gate: '27',
  tahoe: '26',
  sequoia: '15',
  sonoma: '14',
  ventura: '13',
  monterey: '12',
  big_sur: '11',
  catalina: '10.15',
  mojave: '10.14',
  high_sierra: '10.13',
  sierra: '10.12',
  el_capitan: '10.11',
  yosemite: '10.10',
  mavericks: '10.9',
  mountain_lion: '10.8',
  lion: '10.7',
  snow_leopard: '10.6',
  leopard: '10.5',
  tiger: '10.4',
};

/** `Hardware::CPU::ALL_ARCHS` (`hardware.rb`), longest first so that a prefix never shadows. */
const ALL_ARCHS = [
  'ppc7400',
  'ppc7450',
  'ppc64le',
  'aarch64',
  'x86_64',
  'ppc970',
  'ppc64',
  'ppc32',
  'arm64',
  'i386',
  'ppc',
];
const TAG = new RegExp(`^(?:(${ALL_ARCHS.join('|')})_)?([A-Za-z0-9_.]+)$`);

export interface BottleTagParts {
  /** Standardized: `x86_64`, `arm64` (for `aarch64`), another arch as written, or `all`. */
  arch: string;
  /** `linux`, a macOS codename, another system as written, or `all`. */
  system: string;
}

/** `arm64_big_sur` → { arm64, big_sur }; `sonoma` → { x86_64, sonoma }; `all` → { all, all }. */
export function parseBottleTag(tag: string): BottleTagParts {
  if (tag === 'all') return { arch: 'all', system: 'all' };
  const match = TAG.exec(tag);
  if (!match?.[2]) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottleTag,
      `invalid bottle tag ${JSON.stringify(tag)}`,
    );
  }
  const arch = match[1] ?? 'x86_64';
  return { arch: arch === 'aarch64' ? 'arm64' : arch, system: match[2] };
}

/** True for a macOS codename ferry knows. */
export function isMacosCodename(system: string): boolean {
  return Object.hasOwn(MACOS_VERSIONS, system);
}

/** `Tag#to_sym`: the tag as Homebrew prints it, from its parts. */
export function formatBottleTag({ arch, system }: BottleTagParts): string {
  if (system === 'all' && arch === 'all') return 'all';
  if (isMacosCodename(system) && arch === 'x86_64') return system;
  return `${arch === 'aarch64' ? 'arm64' : arch}_${system}`;
}

/** `aarch64_linux` → `arm64_linux`, `x86_64_sonoma` → `sonoma`; other tags unchanged. */
export function standardizeBottleTag(tag: string): string {
  return formatBottleTag(parseBottleTag(tag));
}

/** `Tag#==`: same system and standardized arch. */
export function sameBottleTag(a: string, b: string): boolean {
  return standardizeBottleTag(a) === standardizeBottleTag(b);
}

/** The macOS version of a macOS tag (`arm64_ventura` → `13`), else `undefined`. */
export function macosVersionOfTag(tag: string): string | undefined {
  const { system } = parseBottleTag(tag);
  return isMacosCodename(system) ? MACOS_VERSIONS[system] : undefined;
}

/**
 * `MacOSVersion#to_sym`: the codename of a product version (`14.6.1` → sonoma, `10.15.7` →
 * catalina), or `undefined` for versions Homebrew does not know (including `10.16`, which Big Sur
 * reports under SYSTEM_VERSION_COMPAT=1).
 */
export function macosCodename(productVersion: string): string | undefined {
  const match = /^(\d+)(?:\.(\d+))?(?:\.\d+)?$/.exec(productVersion.trim());
  if (!match?.[1]) return undefined;
  const major = Number(match[1]);
  const stripped = major >= 11 ? String(major) : `${major}.${Number(match[2] ?? 0)}`;
  return Object.keys(MACOS_VERSIONS).find((codename) => MACOS_VERSIONS[codename] === stripped);
}

/** True for a tag naming a bottle for macOS (any arch). */
export function isMacosTag(tag: string): boolean {
  return macosVersionOfTag(tag) !== undefined;
}

/** `Tag#valid_combination?`: Apple silicon bottles exist from big_sur on. */
export function isValidBottleTag(tag: string): boolean {
  let parts: BottleTagParts;
  try {
    parts = parseBottleTag(tag);
  } catch {
    return false;
  }
  const version = isMacosCodename(parts.system) ? MACOS_VERSIONS[parts.system] : undefined;
  if (version === undefined || parts.arch !== 'arm64') return true;
  return compareVersions(version, '11') >= 0;
}

/** Homebrew's tab arch → OCI architecture (`TAB_ARCH_TO_PLATFORM_ARCHITECTURE`). */
const OCI_ARCHITECTURE: Readonly<Record<string, string>> = { x86_64: 'amd64', arm64: 'arm64' };

/**
 * The OCI platform of a bottle tag: `x86_64_linux` → linux/amd64, `arm64_sonoma` → darwin/arm64.
 * `undefined` for `all` (newer indexes give its entry no platform) and for systems that have no
 * OCI mapping. `os.version` is left out: Homebrew writes the build host's text there (from the
 * tab), falling back to {@link defaultOsVersion}.
 */
export function bottleTagToPlatform(tag: string): Platform | undefined {
  const { arch, system } = parseBottleTag(tag);
  const architecture = OCI_ARCHITECTURE[arch];
  if (architecture === undefined) return undefined;
  if (system === 'linux') return { architecture, os: 'linux' };
  if (isMacosCodename(system)) return { architecture, os: 'darwin' };
  return undefined;
}

/**
 * `github_packages.rb`'s fallback `os.version` for darwin when the tab has no `built_on`:
 * `"macOS #{bottle_tag.to_macos_version}"` (`macOS 13`). Linux has no tag-derived default.
 */
export function defaultOsVersion(tag: string): string | undefined {
  const version = macosVersionOfTag(tag);
  return version === undefined ? undefined : `macOS ${version}`;
}

/**
 * The tag for a Linux platform (`linux/amd64` → `x86_64_linux`, `linux/arm64` → `arm64_linux`).
 * Darwin platforms do not name a tag: their `os.version` is free text, and choosing by it is what
 * Homebrew never does.
 */
export function linuxBottleTag(
  platform: Pick<Platform, 'os' | 'architecture'>,
): string | undefined {
  if (platform.os !== 'linux') return undefined;
  if (platform.architecture === 'amd64') return 'x86_64_linux';
  if (platform.architecture === 'arm64') return 'arm64_linux';
  return undefined;
}

export interface BottleHost {
  /** `process.platform` values: `darwin`, `linux`. */
  platform?: string;
  /** `process.arch` values: `x64`, `arm64`; also accepts `x86_64`, `amd64`, `aarch64`. */
  arch?: string;
  /** macOS product version (`sw_vers -productVersion`), required on darwin. */
  macosVersion?: string;
}

function unsupported(reason: string): FerryError {
  return new FerryError(HomebrewErrorCode.UnsupportedHost, reason);
}

/**
 * The bottle tag Homebrew would use on a host (`Utils::Bottles.tag`): `x86_64_linux` /
 * `arm64_linux` on Linux (`uname -m` `aarch64` standardizes to arm64), the codename on Intel
 * macOS, `arm64_<codename>` on Apple silicon. Pure: pass the macOS version in (see
 * `readMacosProductVersion` in host.ts). Throws ERR_UNSUPPORTED_HOST for other systems, other
 * arches, and macOS versions Homebrew has no codename for (it would look for a `dunno` bottle).
 */
export function hostBottleTag(host: BottleHost = {}): string {
  const platform = host.platform ?? process.platform;
  const rawArch = host.arch ?? process.arch;
  const arch =
    rawArch === 'x64' || rawArch === 'amd64' || rawArch === 'x86_64'
      ? 'x86_64'
      : rawArch === 'arm64' || rawArch === 'aarch64'
        ? 'arm64'
        : undefined;
  if (arch === undefined) throw unsupported(`Homebrew has no bottles for the ${rawArch} arch`);
  if (platform === 'linux') return `${arch}_linux`;
  if (platform !== 'darwin') throw unsupported(`Homebrew has no bottles for ${platform}`);

  if (host.macosVersion === undefined) {
    throw unsupported('the macOS version is needed to choose a bottle tag');
  }
  const codename = macosCodename(host.macosVersion);
  if (codename === undefined) {
    throw unsupported(
      `macOS ${host.macosVersion} has no Homebrew codename` +
        (host.macosVersion.startsWith('10.16') ? ' (unset SYSTEM_VERSION_COMPAT)' : ''),
    );
  }
  const tag = formatBottleTag({ arch, system: codename });
  if (!isValidBottleTag(tag)) throw unsupported(`Apple silicon cannot run macOS ${codename}`);
  return tag;
}
