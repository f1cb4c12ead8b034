import { readFileSync } from 'node:fs';
import { ErrorCode, FerryError } from '@ferry/oci';
import type { Dispatcher } from 'undici';
import { Authenticator, type CredentialProvider } from './auth.js';
import { BulkConnector, type BulkTlsOptions } from './bulk-connector.js';
import { listPaged, type PageOptions } from './paging.js';
import { Repository } from './repository.js';
import { resolvingConnector, type ResolveRule } from './resolve.js';
import { EnvHttpProxyAgent } from './undici-agent.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { discard, responseError, Transport } from './transport.js';

export interface RegistryOptions {
  /** The HTTP layer (undici); by default an agent that honours HTTP(S)_PROXY and NO_PROXY. */
  dispatcher?: Dispatcher | undefined;
  credentials?: CredentialProvider | undefined;
  /**
   * true: plain HTTP. Unset: https, except that localhost, 127.0.0.0/8 and ::1 fall back to plain
   * HTTP when the server does not speak TLS (unless ca, cert or insecure ask for TLS).
   */
  plainHttp?: boolean | undefined;
  /** Extra CA certificates (PEM) to trust. */
  ca?: string | Buffer | (string | Buffer)[] | undefined;
  /** Skip TLS certificate verification. */
  insecure?: boolean | undefined;
  /** A client certificate and key (PEM) for mutual TLS. */
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  userAgent?: string | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Connections per origin. */
  concurrency?: number | undefined;
  /** PATCH chunk size for uploads whose digest is unknown or that are too big for one PUT. */
  chunkSize?: number | undefined;
  /** The largest blob sent in one monolithic PUT. */
  monolithicThreshold?: number | undefined;
  /**
   * A bearer token sent before any challenge (Homebrew's `QQ==` for ghcr.io), to this registry's
   * own origin only: never to an upload Location, a Link or a redirect target elsewhere.
   */
  staticBearerToken?: string | undefined;
  /** A whole Authorization header sent before any challenge (`Basic …` from Homebrew's env). */
  staticAuthorization?: string | undefined;
  /**
   * Headers sent on every request to this registry's own origin (`-H 'Name: value'`), token
   * requests to a realm on that origin included; never to another origin (a token realm, an
   * upload Location, a Link or a redirect elsewhere), since they often carry credentials.
   */
  headers?: Readonly<Record<string, readonly string[]>> | undefined;
  /** curl's --resolve: connect to another address for a `host:port`, keeping the name. */
  resolve?: readonly ResolveRule[] | undefined;
  /**
   * How referrers are kept (`--distribution-spec`): true uses the referrers API only, false the
   * `sha256-<hex>` tag schema only; unset asks the registry and falls back to the tag schema.
   */
  referrersApi?: boolean | undefined;
  /** A path the API lives under on this host, e.g. `/ghcr` for `https://host/ghcr/v2/…`. */
  basePath?: string | undefined;
  /** One line per HTTP request and response, credentials redacted. */
  debug?: ((line: string) => void) | undefined;
  /** Replaces the retry backoff sleep (tests). */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export const DEFAULT_USER_AGENT = `ferry/${version}`;
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
/**
 * A blob of known digest goes up in one streamed PUT whatever its size: registries ingest that
 * fastest (chunked PATCHes of 8 MiB took twice as long for 1 GiB on registry:2). Chunks only when
 * asked for (--chunk-size), for proxies that limit request bodies.
 */
export const DEFAULT_MONOLITHIC_THRESHOLD = Number.MAX_SAFE_INTEGER;

/** Docker Hub's API lives on another host than its name. */
const HOST_ALIASES: Record<string, string> = {
  'docker.io': 'registry-1.docker.io',
  'index.docker.io': 'registry-1.docker.io',
};

/** True for hosts reached over plain HTTP by default, as Docker and ORAS treat them. */
export function isLoopbackHost(host: string): boolean {
  const hostname = host.startsWith('[')
    ? host.slice(0, host.indexOf(']') + 1)
    : (host.split(':')[0] ?? '');
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** A registry host and the connection, credentials and policies used to talk to it. */
export class Registry {
  /** The host as contacted (`registry-1.docker.io` for `docker.io`). */
  readonly host: string;
  readonly baseUrl: URL;
  readonly transport: Transport;
  readonly authenticator: Authenticator;
  readonly #ownsDispatcher: boolean;
  readonly #options: RegistryOptions;
  /** Large blob bodies' own connections (bulk-connector.ts), when this registry uses them. */
  readonly #bulk: BulkConnector | undefined;

  constructor(host: string, options: RegistryOptions = {}) {
    this.host = HOST_ALIASES[host] ?? host;
    this.#options = options;
    // Loopback registries without TLS settings are tried over https first and fall back to http
    // when the server does not speak TLS, as Docker does; --plain-http skips the attempt.
    const tlsAsked =
      options.ca !== undefined || options.cert !== undefined || options.insecure === true;
    const fallback = options.plainHttp === undefined && !tlsAsked && isLoopbackHost(this.host);
    const plain = options.plainHttp === true;
    try {
      // A mirror may serve the API under a path (HOMEBREW_ARTIFACT_DOMAIN=https://host/prefix).
      const basePath = (options.basePath ?? '').replace(/^\/*/, '/').replace(/\/*$/, '/');
      this.baseUrl = new URL(`${plain ? 'http' : 'https'}://${this.host}${basePath}`);
    } catch (error) {
      throw new FerryError(
        ErrorCode.InvalidReference,
        `invalid registry host ${JSON.stringify(host)}`,
        { cause: error },
      );
    }
    this.#ownsDispatcher = options.dispatcher === undefined;
    const dispatcher = options.dispatcher ?? defaultDispatcher(options);
    const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    const registryOrigin = new URL(this.baseUrl.origin);
    this.#bulk = this.#ownsDispatcher && !proxyConfigured() ? bulkConnector(options) : undefined;
    const common = {
      dispatcher,
      bulk: this.#bulk,
      originHeaders: options.headers,
      credentialOrigin: registryOrigin,
      userAgent,
      retry,
      debug: options.debug,
      sleep: options.sleep,
      plainHttpFallback: fallback ? new Set([this.host]) : undefined,
    };
    this.authenticator = new Authenticator({
      transport: new Transport(common),
      credentials: options.credentials,
      staticBearerToken: options.staticBearerToken,
      staticAuthorization: options.staticAuthorization,
    });
    // Credentials, static tokens included, go to this registry's origin and nowhere else.
    this.transport = new Transport({
      ...common,
      authenticator: this.authenticator,
    });
  }

  repository(name: string): Repository {
    return new Repository(
      {
        transport: this.transport,
        baseUrl: this.baseUrl,
        chunkSize: this.#options.chunkSize ?? DEFAULT_CHUNK_SIZE,
        monolithicThreshold: this.#options.monolithicThreshold ?? DEFAULT_MONOLITHIC_THRESHOLD,
        referrersApi: this.#options.referrersApi,
      },
      name,
    );
  }

  /** `GET /v2/`: succeeds when the registry speaks the distribution API and accepts our credentials. */
  async ping(signal?: AbortSignal): Promise<void> {
    const response = await this.transport.send({
      method: 'GET',
      url: new URL('v2/', this.baseUrl),
      signal,
    });
    if (response.status !== 200) throw await responseError(response, 'GET');
    await discard(response);
  }

  /** `GET /v2/_catalog`, all pages (many hosted registries refuse it). */
  async catalog(options: PageOptions = {}): Promise<string[]> {
    return listPaged(
      this.transport,
      new URL('v2/_catalog', this.baseUrl),
      ['registry:catalog:*'],
      'repositories',
      options,
    );
  }

  /** Closes the connections of the dispatcher this registry created (not of an injected one). */
  async close(): Promise<void> {
    this.#bulk?.close();
    if (this.#ownsDispatcher) await this.transport.dispatcher.close();
  }
}

function tlsOptions(options: RegistryOptions): BulkTlsOptions {
  return {
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    rejectUnauthorized: options.insecure !== true,
  };
}

/**
 * Whether undici's EnvHttpProxyAgent would send anything through a proxy. Large blob bodies then
 * go through undici too, which knows how to reach the proxy.
 */
function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'].some(
    (name) => (env[name] ?? '') !== '',
  );
}

/** Large blob bodies over connections of their own, with the agent's TLS settings and --resolve. */
function bulkConnector(options: RegistryOptions): BulkConnector {
  return new BulkConnector({ tls: tlsOptions(options), resolve: options.resolve });
}

function defaultDispatcher(options: RegistryOptions): Dispatcher {
  const tls = tlsOptions(options);
  return new EnvHttpProxyAgent({
    connect: options.resolve?.length ? resolvingConnector(options.resolve, tls) : tls,
    requestTls: tls,
    connections: options.concurrency ?? null,
    keepAliveTimeout: 30_000,
  });
}
