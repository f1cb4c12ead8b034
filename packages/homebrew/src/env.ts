/**
 * What Homebrew's environment variables mean for reaching bottle registries
 * (Library/Homebrew/env_config.rb, brew.sh, bottle.rb, download_strategy.rb, github_packages.rb).
 *
 * - HOMEBREW_BOTTLE_DOMAIN (default `https://ghcr.io/v2/homebrew/core`) is where homebrew/core's
 *   bottles come from; when a bottle or manifest is missing there, brew falls back to the default
 *   domain (`Bottle#fallback_on_error?`). Taps keep their own root_url (ghcr.io).
 * - HOMEBREW_ARTIFACT_DOMAIN replaces `https://ghcr.io/` in bottle URLs; a value that already holds
 *   `/v2` (`https://mirror/v2/ghcr-io`) replaces `https://ghcr.io/v2/`, so `/v2` is never doubled.
 *   When it fails, brew tries the original ghcr.io URL next, unless
 *   HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK is set (`CurlDownloadStrategy#fetch`).
 * - brew.sh: HOMEBREW_DOCKER_REGISTRY_TOKEN is sent as `Bearer`, else
 *   HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN as `Basic` (the value `none`: no Authorization at
 *   all), else `Bearer QQ==` (anonymous GitHub Packages).
 * One difference: brew sends that one header to every GitHub Packages URL it tries, the artifact
 * domain's included; ferry sends the token variables to the artifact domain (or `--registry`)
 * they configure and only `QQ==` to ghcr.io as the artifact domain's fallback. Neither sends it
 * to a HOMEBREW_BOTTLE_DOMAIN that is not ghcr.io.
 */
import { ErrorCode, FerryError } from '@ferry/oci';

export interface BottleRegistryOptions {
  /** The host to contact (the mirror's, when HOMEBREW_ARTIFACT_DOMAIN is set). */
  host: string;
  basePath?: string;
  plainHttp?: boolean;
  /** Sent before any challenge; a 401 still falls back to the token exchange. */
  staticBearerToken?: string;
  staticAuthorization?: string;
}

/** One place to try a repository: a registry (with Homebrew's auth) and the name there. */
export interface BottleEndpoint extends BottleRegistryOptions {
  /** The repository at this endpoint (`mir1/homebrew/core/sqlite` behind a `/v2/mir1` mirror). */
  repository: string;
  /** Why this endpoint: `HOMEBREW_ARTIFACT_DOMAIN`, `HOMEBREW_BOTTLE_DOMAIN`, `ghcr.io`, `--registry`. */
  via: string;
}

/** The anonymous token Homebrew sends to ghcr.io: base64 of "A". */
export const GHCR_ANONYMOUS_TOKEN = 'QQ==';
/** `HOMEBREW_BOTTLE_DEFAULT_DOMAIN`. */
export const DEFAULT_BOTTLE_DOMAIN = 'https://ghcr.io/v2/homebrew/core';

type Env = Record<string, string | undefined>;

/** Homebrew's `boolean: :set`: any non-empty value is on. */
const isSet = (value: string | undefined) => value !== undefined && value.trim() !== '';

function badUrl(variable: string, value: string, example: string): FerryError {
  return new FerryError(
    ErrorCode.InvalidOptions,
    `${variable}=${JSON.stringify(value)} is not a URL ferry can use (e.g. ${example})`,
  );
}

function parseUrl(variable: string, value: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badUrl(variable, value, example);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badUrl(variable, value, example);
  return url;
}

/** The Authorization brew.sh derives (`HOMEBREW_GITHUB_PACKAGES_AUTH`), for one endpoint. */
function authFor(env: Env, ghcr: boolean): Partial<BottleRegistryOptions> {
  const token = env.HOMEBREW_DOCKER_REGISTRY_TOKEN?.trim();
  const basic = env.HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN?.trim();
  if (token) return { staticBearerToken: token };
  if (basic === 'none') return {};
  if (basic) return { staticAuthorization: `Basic ${basic}` };
  return ghcr ? { staticBearerToken: GHCR_ANONYMOUS_TOKEN } : {};
}

/**
 * Options for one registry named by `--registry` (or ghcr.io): Homebrew's Authorization, and
 * HOMEBREW_ARTIFACT_DOMAIN's host when `registry` is ghcr.io. Only the first place, and without a
 * `/v2/<prefix>` repository prefix: {@link bottleSources} gives every endpoint with its repository.
 */
export function bottleRegistryOptions(
  registry: string,
  env: Env = process.env,
): BottleRegistryOptions {
  const [first] = ghcrEndpoints('', env, registry);
  const { repository: _repository, via: _via, ...options } = first as BottleEndpoint;
  return options;
}

/** The endpoints for a repository on ghcr.io: the artifact domain first (if any), then ghcr.io. */
function ghcrEndpoints(repository: string, env: Env, ghcrHost: string): BottleEndpoint[] {
  const ghcr: BottleEndpoint = { host: ghcrHost, repository, via: ghcrHost };
  const raw = env.HOMEBREW_ARTIFACT_DOMAIN?.trim();
  // Only ghcr.io URLs are rewritten (or the loopback registry a test stands in for it with).
  const isGhcr = ghcrHost === (env.FERRY_TEST_GHCR_HOST?.trim() || 'ghcr.io');
  if (!raw || !isGhcr) return [{ ...ghcr, ...authFor(env, isGhcr) }];
  const domain = raw.replace(/\/+$/, '');
  const url = parseUrl('HOMEBREW_ARTIFACT_DOMAIN', raw, 'https://artifacts.example.com/ghcr');
  const mirror: BottleEndpoint = { host: url.host, repository, via: 'HOMEBREW_ARTIFACT_DOMAIN' };
  if (url.protocol === 'http:') mirror.plainHttp = true;
  // download_strategy.rb: `domain_contains_v2 = %r{\Ahttps?://[^/]+/v2(?:/|\z)}`; then
  // `https://ghcr.io/v2/` becomes `<domain>/`, i.e. a registry at the host whose repositories
  // carry the rest of the path as a prefix. Otherwise the domain's path is where `/v2/` lives.
  const v2 = /^https?:\/\/[^/]+\/v2(?:\/(.*))?$/.exec(domain);
  if (v2) {
    const prefix = (v2[1] ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix) mirror.repository = repository ? `${prefix}/${repository}` : prefix;
  } else if (url.pathname !== '/') {
    mirror.basePath = url.pathname;
  }
  Object.assign(mirror, authFor(env, false));
  if (isSet(env.HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK)) return [mirror];
  // The fallback is ghcr.io itself: its anonymous token, never the mirror's credentials.
  const basic = env.HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN?.trim();
  return [
    mirror,
    { ...ghcr, ...(basic === 'none' ? {} : { staticBearerToken: GHCR_ANONYMOUS_TOKEN }) },
  ];
}

export interface BottleSourceOptions {
  /** `--registry`, when given. */
  registry?: string | undefined;
  /** `--namespace`, when given. */
  namespace?: string | undefined;
}

export interface BottleSources {
  /** Where formulae without a tap live: `--namespace`, HOMEBREW_BOTTLE_DOMAIN's path, homebrew/core. */
  coreNamespace: string;
  /** The host references are shown with (the first endpoint's). */
  host: string;
  /** Where to look for `repository`, in the order brew would try. */
  endpoints(repository: string): BottleEndpoint[];
}

/**
 * Where bottles are read from, given `--registry`/`--namespace` and Homebrew's environment.
 * Explicit flags win over the environment. `FERRY_TEST_GHCR_HOST` stands in for ghcr.io in
 * tests (this machine never reaches ghcr.io); it is not meant for anything else.
 */
export function bottleSources(
  options: BottleSourceOptions = {},
  env: Env = process.env,
): BottleSources {
  const ghcrHost = env.FERRY_TEST_GHCR_HOST?.trim() || 'ghcr.io';
  const isGhcr = (host: string) => host === 'ghcr.io' || host === ghcrHost;
  if (options.registry) {
    const host = isGhcr(options.registry) ? ghcrHost : options.registry;
    const coreNamespace = options.namespace ?? 'homebrew/core';
    const endpoints = (repository: string): BottleEndpoint[] =>
      isGhcr(host)
        ? ghcrEndpoints(repository, env, ghcrHost)
        : [{ host, repository, via: '--registry', ...authFor(env, false) }];
    return { coreNamespace, host: endpoints('')[0]!.host, endpoints };
  }
  const domainValue = env.HOMEBREW_BOTTLE_DOMAIN?.trim().replace(/\/+$/, '');
  const bottleDomain =
    domainValue && domainValue !== DEFAULT_BOTTLE_DOMAIN
      ? parseBottleDomain(domainValue)
      : undefined;
  const useDomain = bottleDomain !== undefined && options.namespace === undefined;
  const coreNamespace = options.namespace ?? bottleDomain?.namespace ?? 'homebrew/core';
  const endpoints = (repository: string): BottleEndpoint[] => {
    if (!useDomain || !repository.startsWith(`${coreNamespace}/`)) {
      return ghcrEndpoints(repository, env, ghcrHost);
    }
    const image = repository.slice(coreNamespace.length + 1);
    const { namespace: _namespace, ...domain } = bottleDomain;
    // bottle.rb `fallback_on_error?`: a bottle missing at the domain comes from the default one.
    // brew sends its Authorization only to GitHub Packages URLs (CurlGitHubPackagesDownloadStrategy),
    // never to a bottle domain elsewhere; ferry's stored credentials (`ferry login`) still apply.
    return [
      { ...domain, repository, via: 'HOMEBREW_BOTTLE_DOMAIN' },
      ...ghcrEndpoints(`homebrew/core/${image}`, env, ghcrHost),
    ];
  };
  return { coreNamespace, host: endpoints(`${coreNamespace}/x`)[0]!.host, endpoints };
}

/** `http://host:5000/v2/homebrew/core` → a registry at host:5000 and the namespace homebrew/core. */
function parseBottleDomain(value: string): Omit<BottleEndpoint, 'repository' | 'via'> & {
  namespace: string;
} {
  const example = 'https://mirror.example.com/v2/homebrew/core';
  const url = parseUrl('HOMEBREW_BOTTLE_DOMAIN', value, example);
  const match = /^(.*?)\/v2\/(.+)$/.exec(url.pathname.replace(/\/+$/, ''));
  if (!match?.[2]) {
    throw new FerryError(
      ErrorCode.InvalidOptions,
      `HOMEBREW_BOTTLE_DOMAIN=${JSON.stringify(value)} is not an OCI registry URL (<scheme>://<host>/v2/<namespace>, e.g. ${example}); ferry reads bottles only from OCI registries`,
    );
  }
  return {
    host: url.host,
    namespace: match[2],
    ...(match[1] ? { basePath: match[1] } : {}),
    ...(url.protocol === 'http:' ? { plainHttp: true } : {}),
  };
}

export interface UploadCredentials {
  username: string;
  password: string;
}

/**
 * What `brew pr-upload` uploads with (`GitHubPackages#upload_bottles`, `env_config.rb`):
 * HOMEBREW_GITHUB_PACKAGES_USER and HOMEBREW_GITHUB_PACKAGES_TOKEN, both or neither (brew stops
 * with "… is unset." when one is missing; ferry then uses its usual credentials instead).
 */
export function bottleUploadCredentials(
  env: Record<string, string | undefined> = process.env,
): UploadCredentials | undefined {
  const username = env.HOMEBREW_GITHUB_PACKAGES_USER?.trim();
  const password = env.HOMEBREW_GITHUB_PACKAGES_TOKEN?.trim();
  if (!username && !password) return undefined;
  if (!username || !password) {
    throw new FerryError(
      ErrorCode.InvalidOptions,
      `${username ? 'HOMEBREW_GITHUB_PACKAGES_TOKEN' : 'HOMEBREW_GITHUB_PACKAGES_USER'} is unset: set both HOMEBREW_GITHUB_PACKAGES_USER and HOMEBREW_GITHUB_PACKAGES_TOKEN, or neither`,
    );
  }
  return { username, password };
}
