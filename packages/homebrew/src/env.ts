/**
 * What Homebrew's environment variables mean for reaching a bottle registry
 * (Library/Homebrew/env_config.rb, download_strategy.rb, github_packages.rb).
 */
import { FerryError } from '@ferry/oci';

export interface BottleRegistryOptions {
  /** The host to contact (the mirror's, when HOMEBREW_ARTIFACT_DOMAIN is set). */
  host: string;
  basePath?: string;
  plainHttp?: boolean;
  /** Sent before any challenge; a 401 still falls back to the token exchange. */
  staticBearerToken?: string;
  staticAuthorization?: string;
}

/** The anonymous token Homebrew sends to ghcr.io: base64 of "A". */
export const GHCR_ANONYMOUS_TOKEN = 'QQ==';

/**
 * - HOMEBREW_ARTIFACT_DOMAIN replaces `https://ghcr.io/` in bottle URLs (a mirror, maybe with a
 *   path prefix, maybe plain http); private mirrors get no Homebrew token.
 * - HOMEBREW_DOCKER_REGISTRY_TOKEN is a bearer token; HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN a
 *   ready-made Basic credential; else ghcr.io gets `Bearer QQ==`.
 */
export function bottleRegistryOptions(
  registry: string,
  env: Record<string, string | undefined> = process.env,
): BottleRegistryOptions {
  const domain = env.HOMEBREW_ARTIFACT_DOMAIN?.trim();
  const options: BottleRegistryOptions = { host: registry };
  const mirrored = Boolean(domain) && registry === 'ghcr.io';
  if (mirrored && domain) {
    let url: URL;
    try {
      url = new URL(domain);
    } catch {
      throw new FerryError(
        'ERR_INVALID_OPTIONS',
        `HOMEBREW_ARTIFACT_DOMAIN=${JSON.stringify(domain)} is not a URL (e.g. https://artifacts.example.com/ghcr)`,
      );
    }
    options.host = url.host;
    if (url.pathname !== '/') options.basePath = url.pathname;
    if (url.protocol === 'http:') options.plainHttp = true;
  }
  const token = env.HOMEBREW_DOCKER_REGISTRY_TOKEN?.trim();
  const basic = env.HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN?.trim();
  if (token) options.staticBearerToken = token;
  else if (basic) options.staticAuthorization = `Basic ${basic}`;
  else if (registry === 'ghcr.io' && !mirrored) options.staticBearerToken = GHCR_ANONYMOUS_TOKEN;
  return options;
}
