/**
 * Registry authentication as Docker and ORAS do it: learn the scheme from a 401's challenge,
 * then send Basic credentials or a bearer token from the token server on every later request,
 * without waiting for another 401.
 * https://distribution.github.io/distribution/spec/auth/token/
 * https://distribution.github.io/distribution/spec/auth/oauth/
 */
import { FerryError } from '@ferry/oci';
import type { Challenge } from './challenge.js';
import type { Credential } from './credentials/index.js';
import { redactUrl, RegistryError, RegistryErrorCode, parseErrorBody } from './errors.js';
import { readText, type Transport } from './transport.js';

/** Where credentials for a registry host come from (Docker's config, a flag, a prompt…). */
export type CredentialProvider = (host: string) => Promise<Credential | undefined>;

export interface AuthenticatorOptions {
  /** Sends token requests; it must not itself authenticate (the token server is another origin). */
  transport: Transport;
  credentials?: CredentialProvider | undefined;
  /**
   * A bearer token sent before any challenge is seen, such as Homebrew's anonymous `QQ==` for
   * ghcr.io; a 401 still falls back to the token exchange.
   */
  staticBearerToken?: string | undefined;
  /** A whole Authorization header sent before any challenge, with the same fallback on 401. */
  staticAuthorization?: string | undefined;
  /** The OAuth2 client id sent with refresh-token grants. */
  clientId?: string;
  now?: () => number;
}

export interface ChallengeContext {
  host: string;
  /** Whether the registry is reached over https: an http token realm is then refused. */
  secure: boolean;
  challenges: Challenge[];
  scopes: string[];
  /** The Authorization header the registry just rejected, if any. */
  rejected: string | undefined;
}

type HostScheme =
  { kind: 'basic' } | { kind: 'bearer'; realm: string; service: string | undefined };

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** Tokens are renewed this long before they expire, so that none expires in flight. */
const EXPIRY_MARGIN_MS = 10_000;
/** The token spec's default lifetime when the server names none. */
const DEFAULT_EXPIRES_IN_S = 60;
const TOKEN_RESPONSE_LIMIT = 1024 * 1024;

export class Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #schemes = new Map<string, HostScheme>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #inflight = new Map<string, Promise<CachedToken>>();
  /** Refresh tokens handed out by OAuth2 token servers, reused for later scopes. */
  readonly #refreshTokens = new Map<string, string>();
  /** Counts token requests actually sent (tests and --debug summaries). */
  tokenRequests = 0;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  /** The Authorization header to send to `host` for `scopes` before any 401, if one is known. */
  async authorization(
    host: string,
    scopes: string[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const scheme = this.#schemes.get(host);
    if (!scheme) {
      if (this.#options.staticAuthorization) return this.#options.staticAuthorization;
      return this.#options.staticBearerToken
        ? `Bearer ${this.#options.staticBearerToken}`
        : undefined;
    }
    if (scheme.kind === 'basic') return this.#basicHeader(await this.#credential(host));
    return (await this.#token(host, scheme, scopes, signal)).header;
  }

  /**
   * Learns from a 401 and returns the header to retry with, or undefined when nothing new can be
   * offered (no credentials, or the same ones were just refused).
   */
  async onChallenge(context: ChallengeContext, signal?: AbortSignal): Promise<string | undefined> {
    const bearer = context.challenges.find((c) => c.scheme === 'bearer');
    const basic = context.challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) {
        throw new FerryError(
          RegistryErrorCode.TokenExchange,
          `${context.host} asked for a bearer token without naming a realm`,
        );
      }
      this.#checkRealm(context, realm);
      const scheme: HostScheme = { kind: 'bearer', realm, service: bearer.params.service };
      this.#schemes.set(context.host, scheme);
      const scopes = mergeScopes(context.scopes, (bearer.params.scope ?? '').split(' '));
      // The rejected token may have expired early or been revoked: never offer it again. A token
      // cached meanwhile by a concurrent request (this one carried none, or another) is kept.
      const key = tokenKey(context.host, scopes);
      if (context.rejected !== undefined && this.#tokens.get(key)?.header === context.rejected) {
        this.#tokens.delete(key);
      }
      const token = await this.#token(context.host, scheme, scopes, signal);
      return token.header === context.rejected ? undefined : token.header;
    }
    if (basic) {
      this.#schemes.set(context.host, { kind: 'basic' });
      const header = this.#basicHeader(await this.#credential(context.host));
      return header === context.rejected ? undefined : header;
    }
    return undefined;
  }

  /** Forgets every token and learned scheme (after a logout, say). */
  reset(): void {
    this.#schemes.clear();
    this.#tokens.clear();
    this.#refreshTokens.clear();
  }

  #checkRealm(context: ChallengeContext, realm: string): void {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new FerryError(
        RegistryErrorCode.TokenExchange,
        `${context.host} named an invalid token realm ${JSON.stringify(realm.slice(0, 200))}`,
      );
    }
    if (context.secure && url.protocol !== 'https:') {
      throw new FerryError(
        RegistryErrorCode.InsecureRedirect,
        `${context.host} is served over https but its token realm ${redactUrl(url)} is not; refusing to send credentials there`,
      );
    }
  }

  async #credential(host: string): Promise<Credential | undefined> {
    return this.#options.credentials ? this.#options.credentials(host) : undefined;
  }

  #basicHeader(credential: Credential | undefined): string | undefined {
    if (credential?.username === undefined || credential.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
  }

  async #token(
    host: string,
    scheme: Extract<HostScheme, { kind: 'bearer' }>,
    scopes: string[],
    signal?: AbortSignal,
  ): Promise<CachedToken> {
    const key = tokenKey(host, scopes);
    const now = (this.#options.now ?? Date.now)();
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > now) return cached;
    // Concurrent requests for the same scopes share one token request.
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#fetchToken(host, scheme, mergeScopes(scopes, []), signal)
        .then((token) => {
          this.#tokens.set(key, token);
          return token;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #fetchToken(
    host: string,
    scheme: Extract<HostScheme, { kind: 'bearer' }>,
    scopes: string[],
    signal?: AbortSignal,
  ): Promise<CachedToken> {
    const credential = await this.#credential(host);
    if (credential?.registryToken) {
      return { header: `Bearer ${credential.registryToken}`, expiresAt: Number.POSITIVE_INFINITY };
    }
    const refreshToken = credential?.identityToken ?? this.#refreshTokens.get(host);
    const response = refreshToken
      ? await this.#oauthRefresh(scheme, scopes, refreshToken, signal)
      : await this.#getToken(scheme, scopes, credential, signal);
    this.tokenRequests++;
    const realm = redactUrl(response.url);
    if (response.status !== 200) {
      const text = await readText(response, 64 * 1024).catch(() => '');
      const errors = parseErrorBody(text);
      const reason = errors[0]?.message ?? oauthError(text) ?? `status ${response.status}`;
      const refused = new RegistryError(
        {
          status: response.status,
          method: refreshToken ? 'POST' : 'GET',
          url: response.url,
          errors: errors.length ? errors : [{ code: 'TOKEN_REFUSED', message: reason }],
        },
        response.status === 401 || response.status === 403
          ? RegistryErrorCode.Unauthorized
          : RegistryErrorCode.TokenExchange,
      );
      refused.registry = host;
      throw refused;
    }
    let body: {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
      refresh_token?: unknown;
    };
    try {
      body = JSON.parse(await readText(response, TOKEN_RESPONSE_LIMIT)) as typeof body;
    } catch (error) {
      throw new FerryError(
        RegistryErrorCode.TokenExchange,
        `${realm}: the token response is not JSON`,
        {
          cause: error,
        },
      );
    }
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new FerryError(
        RegistryErrorCode.TokenExchange,
        `${realm}: the token response holds no token`,
      );
    }
    if (typeof body.refresh_token === 'string' && body.refresh_token) {
      this.#refreshTokens.set(host, body.refresh_token);
    }
    const expiresIn =
      typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_EXPIRES_IN_S;
    const lifetime = expiresIn * 1000;
    const now = (this.#options.now ?? Date.now)();
    return {
      header: `Bearer ${token}`,
      expiresAt: now + Math.max(lifetime - EXPIRY_MARGIN_MS, lifetime / 2),
    };
  }

  async #getToken(
    scheme: Extract<HostScheme, { kind: 'bearer' }>,
    scopes: string[],
    credential: Credential | undefined,
    signal?: AbortSignal,
  ) {
    const url = new URL(scheme.realm);
    if (scheme.service) url.searchParams.set('service', scheme.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const basic = this.#basicHeader(credential);
    if (credential?.username) url.searchParams.set('account', credential.username);
    return this.#options.transport.send({
      method: 'GET',
      url,
      headers: basic ? { authorization: basic } : {},
      signal,
    });
  }

  async #oauthRefresh(
    scheme: Extract<HostScheme, { kind: 'bearer' }>,
    scopes: string[],
    refreshToken: string,
    signal?: AbortSignal,
  ) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: this.#options.clientId ?? 'ferry',
    });
    if (scheme.service) form.set('service', scheme.service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    return this.#options.transport.send({
      method: 'POST',
      url: new URL(scheme.realm),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal,
    });
  }
}

function oauthError(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as {
      error?: unknown;
      error_description?: unknown;
      details?: unknown;
    };
    const parts = [body.error, body.error_description ?? body.details].filter(
      (p) => typeof p === 'string',
    );
    return parts.length ? parts.join(': ') : undefined;
  } catch {
    return undefined;
  }
}

function tokenKey(host: string, scopes: string[]): string {
  return `${host} ${mergeScopes(scopes, []).join(' ')}`;
}

/**
 * Unions two lists of scopes (`type:name:action,action`), merging the actions of one resource, in
 * a stable order, so that equal needs share one cached token.
 */
export function mergeScopes(a: readonly string[], b: readonly string[]): string[] {
  const resources = new Map<string, Set<string>>();
  for (const scope of [...a, ...b]) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const resource = scope.slice(0, last);
    const actions = resources.get(resource) ?? new Set<string>();
    for (const action of scope.slice(last + 1).split(',')) if (action) actions.add(action);
    resources.set(resource, actions);
  }
  return [...resources.entries()]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`);
}

/** The scope for pulling from (and optionally pushing to) a repository. */
export function repositoryScope(
  name: string,
  ...actions: ('pull' | 'push' | 'delete' | '*')[]
): string {
  return `repository:${name}:${(actions.length ? actions : ['pull']).join(',')}`;
}
