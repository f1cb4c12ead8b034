/**
 * Platforms (`os/arch[/variant][:os.version]`) as the OCI image index describes them, parsed,
 * normalised and matched the way containerd does, so that `--platform` means the same here as in
 * docker, nerdctl and oras:
 * - https://github.com/containerd/platforms/blob/main/platforms.go (syntax)
 * - https://github.com/containerd/platforms/blob/main/database.go (`normalizeArch`, `normalizeOS`)
 * - https://github.com/containerd/platforms/blob/main/compare.go (the ARM variant fallback)
 */
import { InvalidPlatformError } from './errors.js';
import type { Platform } from './types.js';

/** Longer input is rejected before any other work. */
const MAX_PLATFORM_LENGTH = 1024;
// containerd's specifierRe: what an os, architecture or variant may contain.
const SPECIFIER = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `os/arch[/variant][:os.version]`, e.g. `linux/arm64/v8`, `windows/amd64:10.0.17763.1234`,
 * `darwin/arm64:macOS 14`, and normalises it (see {@link normalizePlatform}). The os.version is
 * everything after the first ":" and is kept verbatim. Throws {@link InvalidPlatformError}.
 */
export function parsePlatform(input: string): Platform {
  if (typeof input !== 'string') throw new InvalidPlatformError(typeof input, 'not a string');
  if (input === '') throw new InvalidPlatformError(input, 'empty platform');
  if (input.length > MAX_PLATFORM_LENGTH) {
    throw new InvalidPlatformError(input, `longer than ${MAX_PLATFORM_LENGTH} characters`);
  }
  const colon = input.indexOf(':');
  const path = colon < 0 ? input : input.slice(0, colon);
  const osVersion = colon < 0 ? undefined : input.slice(colon + 1);
  if (osVersion === '') throw new InvalidPlatformError(input, 'empty os.version after ":"');
  const parts = path.split('/');
  if (parts.length < 2) throw new InvalidPlatformError(input, 'missing architecture');
  if (parts.length > 3) throw new InvalidPlatformError(input, 'too many "/"-separated parts');
  const [os = '', architecture = '', variant] = parts;
  for (const [field, value] of [
    ['os', os],
    ['architecture', architecture],
    ['variant', variant],
  ] as const) {
    if (value === undefined) continue;
    if (value === '') throw new InvalidPlatformError(input, `empty ${field}`);
    if (!SPECIFIER.test(value)) {
      throw new InvalidPlatformError(
        input,
        `${field} may contain only letters, digits, "_", "." and "-"`,
      );
    }
  }
  const platform: Platform = { os, architecture };
  if (variant !== undefined) platform.variant = variant;
  if (osVersion !== undefined) platform['os.version'] = osVersion;
  return normalizePlatform(platform);
}

/** `os/arch[/variant][:os.version]`; the inverse of {@link parsePlatform} for normalised input. */
export function formatPlatform(platform: Platform): string {
  const { os, architecture, variant } = platform;
  const osVersion = platform['os.version'];
  return `${os}/${architecture}${variant ? `/${variant}` : ''}${osVersion ? `:${osVersion}` : ''}`;
}

/**
 * containerd's normalisation, so that equal platforms compare equal: os and architecture
 * lowercased (`macos` → `darwin`); architecture aliases (x86_64, x86-64 → amd64; aarch64 → arm64;
 * i386, i686 → 386; armhf → arm/v7; armel → arm/v6); and variants (arm64 `v8`/`8`/`v8.0` and
 * amd64 `v1` are the baseline, written as no variant; a bare `arm` is `arm/v7`; `arm/7` → `v7`).
 * Returns a new object; os.version, os.features and features are copied unchanged.
 */
export function normalizePlatform(platform: Platform): Platform {
  let os = platform.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let architecture = platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case 'i386':
    case 'i686':
      architecture = '386';
      variant = undefined;
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = undefined;
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = undefined;
      break;
    // As in containerd, armhf and armel name the variant themselves, overriding any given.
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === undefined || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  const normalized: Platform = { os, architecture };
  if (variant !== undefined) normalized.variant = variant;
  if (platform['os.version'] !== undefined) normalized['os.version'] = platform['os.version'];
  if (platform['os.features']) normalized['os.features'] = [...platform['os.features']];
  if (platform.features) normalized.features = [...platform.features];
  return normalized;
}

/**
 * Variants that form a compatibility ladder: a CPU of one level runs images built for any lower
 * level (containerd's ARM fallback: v8 runs v7, v6 and v5). For amd64 "no variant" is v1.
 */
const VARIANT_LEVELS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  arm: { v5: 5, v6: 6, v7: 7, v8: 8 },
  amd64: { '': 1, v2: 2, v3: 3, v4: 4 },
};

/**
 * How far `have` is from `want`: undefined when it does not match, else a tuple compared
 * element by element (lower is better). Both platforms are normalised first. The rules:
 *
 * 1. os and architecture must be equal.
 * 2. Variant, for arm and amd64 (the ladders above): the candidate's level must not exceed the
 *    wanted one; distance = wanted level − candidate level, so the exact variant wins, then the
 *    nearest lower one (want arm/v7: v7, then v6, then v5; never v8).
 *    For other architectures: a wanted variant must be equal (distance 0) or absent from the
 *    candidate (distance 100: it may be a generic build); with no wanted variant, a candidate
 *    without variant has distance 0 and one with any variant distance 100.
 * 3. os.version: a wanted os.version must be equal (0) or absent from the candidate (1); with no
 *    wanted os.version every candidate scores 0.
 *
 * Variant distance is compared before os.version; {@link selectPlatform} breaks the remaining ties
 * by the candidates' order (registries list preferred manifests first). os.features and features
 * are not considered.
 */
function matchScore(want: Platform, have: Platform): [number, number] | undefined {
  // Candidates come from registries: a malformed one simply does not match.
  if (!isPlatformLike(have)) return undefined;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;

  let variantDistance: number;
  const ladder = VARIANT_LEVELS[w.architecture];
  if (ladder) {
    const wantLevel = ladder[w.variant ?? ''];
    const haveLevel = ladder[h.variant ?? ''];
    if (wantLevel === undefined || haveLevel === undefined) {
      // Off the ladder (e.g. arm/v9): only an exact match will do.
      if (w.variant !== h.variant) return undefined;
      variantDistance = 0;
    } else {
      if (haveLevel > wantLevel) return undefined;
      variantDistance = wantLevel - haveLevel;
    }
  } else if (w.variant === h.variant) {
    variantDistance = 0;
  } else if (w.variant === undefined || h.variant === undefined) {
    variantDistance = 100;
  } else {
    return undefined;
  }

  let osVersionDistance = 0;
  const wantVersion = w['os.version'];
  const haveVersion = h['os.version'];
  if (wantVersion !== undefined && wantVersion !== haveVersion) {
    if (haveVersion !== undefined) return undefined;
    osVersionDistance = 1;
  }
  return [variantDistance, osVersionDistance];
}

function isPlatformLike(value: Platform): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.os === 'string' &&
    typeof value.architecture === 'string' &&
    (value.variant === undefined || typeof value.variant === 'string')
  );
}

/** Whether an image built for `have` can serve a request for `want` (rules at {@link matchScore}). */
export function platformMatches(want: Platform, have: Platform): boolean {
  return matchScore(want, have) !== undefined;
}

/**
 * A sort comparator for candidates against `want`: negative when `a` is the better match.
 * Non-matching candidates sort after matching ones; equally good ones compare 0 (a stable sort
 * keeps their order).
 */
export function comparePlatformMatch(want: Platform, a: Platform, b: Platform): number {
  const sa = matchScore(want, a);
  const sb = matchScore(want, b);
  if (sa === undefined || sb === undefined) {
    return sa === sb ? 0 : sa === undefined ? 1 : -1;
  }
  return sa[0] - sb[0] || sa[1] - sb[1];
}

/**
 * The index of the candidate that best matches `want`, or -1 if none does. Ties go to the
 * earliest candidate. Candidates may be undefined (descriptors without a platform): they never
 * match.
 */
export function selectPlatform(
  want: Platform,
  candidates: readonly (Platform | undefined)[],
): number {
  let best = -1;
  let bestScore: [number, number] | undefined;
  candidates.forEach((candidate, index) => {
    if (!candidate) return;
    const score = matchScore(want, candidate);
    if (score === undefined) return;
    if (
      !bestScore ||
      score[0] < bestScore[0] ||
      (score[0] === bestScore[0] && score[1] < bestScore[1])
    ) {
      best = index;
      bestScore = score;
    }
  });
  return best;
}

/** Node's names for operating systems that differ from the OCI (Go GOOS) ones. */
const NODE_OS: Readonly<Record<string, string>> = { win32: 'windows', sunos: 'solaris' };
/** Node's names for CPU architectures that differ from the OCI (Go GOARCH) ones. */
const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
  ppc64: 'ppc64le', // Node supports ppc64 only little-endian
};

export interface HostInfo {
  /** A `process.platform` value; default: this process's. */
  platform?: string;
  /** A `process.arch` value; default: this process's. */
  arch?: string;
  /** For arm: the ARM version (e.g. "7"); default: the one Node was built for. */
  armVersion?: string;
}

/**
 * The platform this process runs on, in OCI terms (`process.platform`/`process.arch` mapped to
 * Go's names). os.version is left out even on Windows: image os.versions carry a revision that
 * `os.release()` lacks, so an exact-match rule would reject every candidate.
 */
export function hostPlatform(host: HostInfo = {}): Platform {
  const nodePlatform = host.platform ?? process.platform;
  const nodeArch = host.arch ?? process.arch;
  const platform: Platform = {
    os: NODE_OS[nodePlatform] ?? nodePlatform,
    architecture: NODE_ARCH[nodeArch] ?? nodeArch,
  };
  if (platform.architecture === 'arm') {
    const version = host.armVersion ?? (host.arch === undefined ? nodeArmVersion() : '');
    if (/^[5-8]$/.test(version)) platform.variant = `v${version}`;
  }
  return normalizePlatform(platform);
}

/** The ARM version Node was built for (`process.config` is not typed for it). */
function nodeArmVersion(): string {
  const variables = process.config.variables as Record<string, unknown>;
  const version = variables['arm_version'];
  return typeof version === 'string' || typeof version === 'number' ? String(version) : '';
}
