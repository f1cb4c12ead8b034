/**
 * Where `ferry bottle push` sends a bottle, and the vendor and source that follow from it, as
 * `GitHubPackages#preupload_check`/`#upload_bottle` (`Library/Homebrew/github_packages.rb`) derive
 * them from the bottle JSON's `root_url`:
 * - `URL_REGEX` takes `<org>/<repo>` from `https://ghcr.io/v2/<org>/<repo>`; the image goes to
 *   `ghcr.io/<org lowercased>/<repo without homebrew->/<image>` (`root_url(org, repo)`);
 * - `org.opencontainers.image.vendor` is that org as written, and `…source` is
 *   `https://github.com/<org>/homebrew-<repo>/blob/<revision or HEAD>/<tap_git_path>`.
 * ferry's rule on top: `--registry` names the host when given (else root_url's host), `--namespace`
 * the repository path when given (else root_url's, else the formula's tap, else homebrew/core); and
 * it never guesses homebrew/core on ghcr.io, where that is Homebrew's own namespace.
 */
import { ErrorCode, FerryError } from '@ferry/oci';
import type { BottleInput } from './build.js';
import { HomebrewErrorCode } from './errors.js';
import type { BottleFile } from './inputs.js';
import { CORE_NAMESPACE, DEFAULT_REGISTRY, imageName, parseFormulaFullName } from './names.js';

export interface DestinationOptions {
  /** `--registry`, when given. */
  registry?: string | undefined;
  /** `--namespace`, when given: the repository path, before the image name. */
  namespace?: string | undefined;
}

export interface BottleDestination {
  host: string;
  /** `myorg/tap`, `homebrew/core`. */
  namespace: string;
  /** `myorg/tap/foo`, `homebrew/core/openssl/3`. */
  repository: string;
  /** `org.opencontainers.image.vendor`. */
  vendor: string;
  /** `<org>/homebrew-<repo>` on GitHub, for `org.opencontainers.image.source`; none for odd paths. */
  sourceRepository: string | undefined;
  /** `https://<host>/v2/<namespace>`: the bottle JSON's root_url, or the one brew would write. */
  rootUrl: string;
}

// github_packages.rb URL_REGEX, widened to any host: `<scheme>://<host>/v2/<org>/<repo>`.
const ROOT_URL = /^(https?):\/\/([^/]+)\/v2\/([\w-]+)\/([\w-]+)\/?$/;

/** A bottle `root_url`'s registry host and `<org>/<repo>`, or undefined when it is not one. */
function parseRootUrl(url: string): { host: string; org: string; repo: string } | undefined {
  const match = ROOT_URL.exec(url);
  if (!match) return undefined;
  // Every group of ROOT_URL takes part in a match: the defaults are for the type checker.
  const [, , host = '', org = '', repo = ''] = match;
  return { host, org, repo };
}

function invalid(message: string): FerryError {
  return new FerryError(HomebrewErrorCode.InvalidBottle, message);
}

/** The org/repo of a two-part namespace: `homebrew-` added for GitHub (`repo = "homebrew-#{repo}"`). */
function githubRepository(org: string, repo: string): string {
  return `${org}/${repo.startsWith('homebrew-') ? repo : `homebrew-${repo}`}`;
}

export function bottleDestination(
  file: BottleFile,
  options: DestinationOptions = {},
): BottleDestination {
  const { namespace: tap, name } = parseFormulaFullName(file.bottle.name);
  const image = imageName(name);
  const given = options.namespace?.replace(/^\/+|\/+$/g, '');
  let host = options.registry;
  let namespace: string;
  let vendor: string;
  let sourceRepository: string | undefined;
  let rootUrl = file.rootUrl;
  const fromRoot = file.rootUrl ? parseRootUrl(file.rootUrl) : undefined;
  if (file.rootUrl && !fromRoot) {
    throw invalid(
      `${file.tarballPath}: root_url ${JSON.stringify(file.rootUrl)} (from its bottle JSON or --root-url) is not <scheme>://<host>/v2/<org>/<repo>; fix it or pass --namespace`,
    );
  }
  if (given) {
    // Registries take lowercase repository names (`root_url` downcases the org likewise); the
    // vendor and the GitHub source keep the case given.
    namespace = given.toLowerCase();
    const parts = given.split('/');
    vendor = parts[0] ?? given;
    sourceRepository = parts.length === 2 ? githubRepository(parts[0]!, parts[1]!) : undefined;
    host ??= fromRoot?.host ?? DEFAULT_REGISTRY;
    rootUrl = `https://${host}/v2/${namespace}`;
  } else if (fromRoot) {
    const { host: rootHost, org, repo } = fromRoot;
    host ??= rootHost;
    namespace = `${org.toLowerCase()}/${repo.replace(/^homebrew-/, '')}`;
    vendor = org;
    sourceRepository = githubRepository(org, repo);
  } else {
    host ??= DEFAULT_REGISTRY;
    namespace = tap;
    if (host === DEFAULT_REGISTRY && namespace === CORE_NAMESPACE) {
      throw new FerryError(
        ErrorCode.InvalidOptions,
        `${file.tarballPath}: pushing to ghcr.io without --namespace would target homebrew/core, Homebrew's own packages; pass --namespace <org>/<repo> (e.g. --namespace myorg/tap), or give the .bottle.json that names its root_url`,
      );
    }
    const [org = namespace, repo] = namespace.split('/');
    vendor = org;
    sourceRepository = repo !== undefined ? githubRepository(org, repo) : undefined;
    rootUrl = `https://${host}/v2/${namespace}`;
  }
  return {
    host,
    namespace,
    repository: `${namespace}/${image}`,
    vendor,
    sourceRepository,
    rootUrl: rootUrl ?? `https://${host}/v2/${namespace}`,
  };
}

/** The bottle as it will be written for `destination`: vendor, source URL and root_url filled in. */
export function bottleForDestination(
  file: BottleFile,
  destination: BottleDestination,
): BottleInput {
  const { bottle } = file;
  const source = destination.sourceRepository
    ? `https://github.com/${destination.sourceRepository}/blob/${bottle.revision || 'HEAD'}/${file.gitPath ?? ''}`
    : undefined;
  return {
    ...bottle,
    vendor: bottle.vendor ?? destination.vendor,
    ...(bottle.sourceUrl === undefined && source !== undefined ? { sourceUrl: source } : {}),
    rootUrl: destination.rootUrl,
  };
}
