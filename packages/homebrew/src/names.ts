/**
 * Formula names ↔ OCI repository names, the way Homebrew lays bottles out in a registry.
 *
 * Rules from Homebrew's `Library/Homebrew/github_packages.rb`:
 * - `image_formula_name`: `@` → `/` and `+` → `x` (`openssl@3` → `openssl/3`, `libstdc++` → `libstdcxx`).
 * - `root_url(org, repo)`: the org is lowercased and the tap repository loses its `homebrew-` prefix,
 *   so the tap `Org/homebrew-name` lives under `org/name`.
 * Homebrew itself does not lowercase formula names (they are lowercase by convention, and registries
 * refuse uppercase repository names, so an uppercase name could never have been pushed); ferry
 * lowercases so that every name it produces is a valid OCI repository path.
 */
import { FerryError } from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';

/** Where homebrew/core's bottles live: `ghcr.io/homebrew/core/<image name>`. */
export const DEFAULT_REGISTRY = 'ghcr.io';
export const CORE_NAMESPACE = 'homebrew/core';

// Formula names as Homebrew's taps spell them: letters, digits and `@+._-` (Formulary accepts
// what a Ruby file name can hold; homebrew/core uses only these). Never `/` or whitespace.
const FORMULA_NAME = /^[A-Za-z0-9][A-Za-z0-9@+._-]*$/;
// One OCI path component (distribution spec), which the mapped name's segments must each be.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// GitHub user/org and repository names.
const GITHUB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** True for a formula name (no tap prefix) that Homebrew could name a bottle after. */
export function isFormulaName(name: string): boolean {
  return FORMULA_NAME.test(name) && !name.includes('--');
}

/**
 * `openssl@3` → `openssl/3`, `python@3.12` → `python/3.12`, `libstdc++` → `libstdcxx`.
 * Throws when the result would not be a valid OCI repository path.
 */
export function imageName(formulaName: string): string {
  if (!isFormulaName(formulaName)) {
    throw new FerryError(
      HomebrewErrorCode.InvalidFormulaName,
      `invalid formula name ${JSON.stringify(formulaName)}`,
    );
  }
  const mapped = formulaName.replaceAll('@', '/').replaceAll('+', 'x').toLowerCase();
  if (!mapped.split('/').every((segment) => PATH_COMPONENT.test(segment))) {
    throw new FerryError(
      HomebrewErrorCode.InvalidFormulaName,
      `formula name ${JSON.stringify(formulaName)} maps to ${JSON.stringify(mapped)}, which is not a valid OCI repository name`,
    );
  }
  return mapped;
}

/** True when `image` is the image name Homebrew would use for `formulaName`. */
export function imageNameMatches(formulaName: string, image: string): boolean {
  try {
    return imageName(formulaName) === image;
  } catch {
    return false;
  }
}

/**
 * Every formula name that maps to `image`. The mapping is lossy: `/` can only come from `@` (formula
 * names hold no `/`), but each `x` may have been `x` or `+`, and case is gone. This lists the
 * lowercase candidates; at most 2^12 are enumerated (a name with more `x`s throws).
 */
export function formulaNameCandidates(image: string): string[] {
  const base = image.replaceAll('/', '@');
  const positions = [...base].flatMap((char, index) => (char === 'x' ? [index] : []));
  if (positions.length > 12) {
    throw new FerryError(
      HomebrewErrorCode.InvalidFormulaName,
      `too many ambiguous "x" characters in ${JSON.stringify(image)}`,
    );
  }
  const candidates: string[] = [];
  for (let mask = 0; mask < 1 << positions.length; mask++) {
    const chars = [...base];
    positions.forEach((position, bit) => {
      if (mask & (1 << bit)) chars[position] = '+';
    });
    const name = chars.join('');
    if (imageNameMatches(name, image)) candidates.push(name);
  }
  return candidates;
}

/**
 * The formula name for `image` when only one name maps to it (no `x` in the image name), else
 * `undefined`: `openssl/3` → `openssl@3`, but `libstdcxx` and `xz` are ambiguous.
 */
export function formulaNameFromImage(image: string): string | undefined {
  const candidates = formulaNameCandidates(image);
  return candidates.length === 1 ? candidates[0] : undefined;
}

/**
 * A tap's registry namespace: `Org/homebrew-name` → `org/name` (`github_packages.rb`
 * `root_url` + `repo_without_prefix`). The repository part is lowercased too: registries require it,
 * and Homebrew's `Tap.fetch` downcases tap names anyway.
 */
export function tapNamespace(tap: string): string {
  const parts = tap.split('/');
  const [org, repo] = parts;
  if (parts.length !== 2 || !org || !repo || !GITHUB_NAME.test(org) || !GITHUB_NAME.test(repo)) {
    throw new FerryError(
      HomebrewErrorCode.InvalidTapName,
      `invalid tap ${JSON.stringify(tap)}: expected user/repo (e.g. homebrew/core)`,
    );
  }
  const name = repo.toLowerCase().replace(/^homebrew-/, '');
  if (name === '') {
    throw new FerryError(HomebrewErrorCode.InvalidTapName, `invalid tap ${JSON.stringify(tap)}`);
  }
  return `${org.toLowerCase()}/${name}`;
}

/** The tap's GitHub repository for a namespace: `org/name` → `org/homebrew-name`. */
export function tapRepository(namespace: string): string {
  const [org, name] = tapNamespace(namespace).split('/') as [string, string];
  return `${org}/homebrew-${name}`;
}

export interface FormulaRef {
  /** Registry namespace: `homebrew/core`, or `user/tap` for `user/homebrew-tap`. */
  namespace: string;
  /** The formula's short name, as Homebrew writes it (`openssl@3`). */
  name: string;
}

/**
 * `openssl@3`, `homebrew/core/openssl@3` → { homebrew/core, openssl@3 };
 * `user/tap/foo` and `user/homebrew-tap/foo` → { user/tap, foo }.
 */
export function parseFormulaFullName(fullName: string): FormulaRef {
  const parts = fullName.split('/');
  let namespace = CORE_NAMESPACE;
  let name: string | undefined;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 3) {
    namespace = tapNamespace(`${parts[0]}/${parts[1]}`);
    name = parts[2];
  }
  if (name === undefined || !isFormulaName(name)) {
    throw new FerryError(
      HomebrewErrorCode.InvalidFormulaName,
      `invalid formula name ${JSON.stringify(fullName)}: expected name or user/tap/name`,
    );
  }
  return { namespace, name };
}

/** The full name as Homebrew prints it: core formulae have no prefix (`Formula#full_name`). */
export function formatFormulaFullName(ref: FormulaRef): string {
  return ref.namespace === CORE_NAMESPACE ? ref.name : `${ref.namespace}/${ref.name}`;
}

/** `homebrew/core/openssl@3` → `homebrew/core/openssl/3`: the repository path in the registry. */
export function formulaRepository(fullName: string): string {
  const { namespace, name } = parseFormulaFullName(fullName);
  return `${namespace}/${imageName(name)}`;
}

/**
 * Splits a repository path into namespace and image name. Homebrew's namespace is always exactly
 * `org/repo` (two segments, `GitHubPackages::URL_REGEX`), so `homebrew/core/openssl/3` →
 * { homebrew/core, openssl/3 } is unambiguous.
 */
export function splitRepository(repository: string): { namespace: string; image: string } {
  const parts = repository.split('/');
  if (parts.length < 3 || parts.some((part) => !PATH_COMPONENT.test(part))) {
    throw new FerryError(
      HomebrewErrorCode.InvalidFormulaName,
      `invalid bottle repository ${JSON.stringify(repository)}: expected org/repo/image`,
    );
  }
  return { namespace: parts.slice(0, 2).join('/'), image: parts.slice(2).join('/') };
}
