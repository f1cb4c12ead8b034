import { brandError, errorBrand, FerryError } from '@ferry/oci';

/** Codes the registry client adds to `@ferry/oci`'s. */
export const RegistryErrorCode = {
  /** The registry answered with an error status; see `status` and `registryCode`. */
  Response: 'ERR_REGISTRY_RESPONSE',
  /** The registry refused our credentials, or wanted some and we had none. */
  Unauthorized: 'ERR_UNAUTHORIZED',
  /** The token server refused or answered nonsense. */
  TokenExchange: 'ERR_TOKEN_EXCHANGE',
  /** A redirect or token realm that would downgrade https to http. */
  InsecureRedirect: 'ERR_INSECURE_REDIRECT',
  TooManyRedirects: 'ERR_TOO_MANY_REDIRECTS',
  /** The connection failed, after retries. */
  Network: 'ERR_NETWORK',
  /** The server broke the protocol (a missing Location, a Content-Range that does not add up). */
  Protocol: 'ERR_REGISTRY_PROTOCOL',
  /** The registry dropped an interrupted upload session; the upload must start again. */
  UploadDiscarded: 'ERR_UPLOAD_DISCARDED',
  /** The operation was aborted through its AbortSignal. */
  Aborted: 'ERR_ABORTED',
} as const;

export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** What a registry request was about, read from the distribution-spec path the client built. */
export type RegistryResourceKind = 'manifest' | 'blob' | 'upload' | 'tags' | 'referrers';

/** One entry of the distribution spec's error body. https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes */
export interface DistributionError {
  code: string;
  message?: string;
  detail?: unknown;
}

/**
 * A registry answered with an error. The message names the request (method and URL with secrets
 * removed) and the registry's own code, e.g.
 * `GET https://ghcr.io/v2/a/b/manifests/v9: 404 MANIFEST_UNKNOWN: manifest unknown`.
 */
export class RegistryError extends FerryError {
  static {
    brandError(this, 'registry-response');
  }

  readonly status: number;
  readonly method: string;
  /** The request URL with credentials and query secrets redacted. */
  readonly url: string;
  readonly errors: DistributionError[];
  /** The response's Retry-After, for callers that retry whole sequences themselves. */
  retryAfter?: string;
  /**
   * The registry the request was for, when the URL is another host's (a token server that
   * refused the credentials): what the user logs in to.
   */
  registry?: string;
  /** The registry's host, e.g. `ghcr.io` or `localhost:5000`. */
  readonly host: string | undefined;
  /** The repository the request was for (`a/b`), when it was for one. */
  readonly repository: string | undefined;
  /** Whether it was about a manifest, a blob, an upload, the tag list or referrers. */
  readonly kind: RegistryResourceKind | undefined;
  /** The tag or digest asked for, for manifests, blobs and referrers. */
  readonly reference: string | undefined;

  constructor(
    init: {
      status: number;
      method: string;
      url: string | URL;
      /**
       * The URL the client built, when a redirect led to `url`: host, repository, kind and
       * reference describe it, never a path the registry chose (a Location is untrusted).
       */
      requested?: string | URL | undefined;
      errors?: DistributionError[];
    },
    code: string = init.status === 401
      ? RegistryErrorCode.Unauthorized
      : RegistryErrorCode.Response,
  ) {
    const url = redactUrl(init.url);
    const errors = init.errors ?? [];
    const first = errors[0];
    const detail = first
      ? `${first.code}${first.message ? `: ${first.message}` : ''}`
      : statusText(init.status);
    super(code, `${init.method} ${url}: ${init.status} ${detail}`);
    this.status = init.status;
    this.method = init.method;
    this.url = url;
    this.errors = errors;
    const resource = resourceOf(init.requested ?? init.url);
    const answeredBy = resourceOf(init.url).host;
    // Answered by another host than the one asked: hints name the registry, not that host.
    if (init.requested !== undefined && resource.host !== answeredBy) this.registry = resource.host;
    this.host = resource.host;
    this.repository = resource.repository;
    this.kind = resource.kind;
    this.reference = resource.reference;
    // A registry's 404 for a manifest, blob or tag list is the same "not found" a layout raises:
    // `instanceof NotFoundError` and `isNotFound` from @ferry/oci recognise it, so callers need
    // not test both. Not any 404: callers read a not-found as "free to write" (homebrew push's
    // existing-tag check), so a token server's 404 or a lost upload session must not pass for one.
    if (
      init.status === 404 &&
      code === RegistryErrorCode.Response &&
      (this.kind === 'manifest' || this.kind === 'blob' || this.kind === 'tags')
    ) {
      Object.defineProperty(this, errorBrand('not-found'), { value: true });
    }
  }

  /** The registry's code for the first error (`MANIFEST_UNKNOWN`, `DENIED`, `TOOMANYREQUESTS`…). */
  get registryCode(): string | undefined {
    return this.errors[0]?.code;
  }
}

const RESOURCE_PATH =
  /\/v2\/(.+)\/(?:(manifests|blobs|referrers)\/([^/]+)|(blobs\/uploads)\/.*|(tags)\/list)$/;

/** `https://host/v2/<name>/manifests/<ref>` → host, repository, kind and reference. */
function resourceOf(url: string | URL): {
  host?: string;
  repository?: string;
  kind?: RegistryResourceKind;
  reference?: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return {};
  }
  const match = RESOURCE_PATH.exec(parsed.pathname);
  if (!match) return { host: parsed.host };
  const [, repository, plural, reference, uploads, tags] = match;
  const kind: RegistryResourceKind | undefined = uploads
    ? 'upload'
    : tags
      ? 'tags'
      : plural === 'manifests'
        ? 'manifest'
        : plural === 'blobs'
          ? 'blob'
          : 'referrers';
  return {
    host: parsed.host,
    ...(repository ? { repository: decoded(repository) } : {}),
    kind,
    ...(reference ? { reference: decoded(reference) } : {}),
  };
}

/**
 * A path segment decoded, or as sent when it does not decode: the URL may be a redirect's
 * Location, which a hostile registry chooses, and an error must never fail to be made.
 */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The connection failed (after retries): no HTTP answer at all. `reason` is the system or TLS
 * code found in the cause chain (`ECONNREFUSED`, `ENOTFOUND`, `SELF_SIGNED_CERT_IN_CHAIN`,
 * `ERR_SSL_WRONG_VERSION_NUMBER`, `UND_ERR_SOCKET`…), which is what a caller branches on.
 */
export class NetworkError extends FerryError {
  static {
    brandError(this, 'network');
  }

  /** The request URL with secrets redacted. */
  readonly url: string;
  readonly method: string;
  readonly host: string | undefined;
  /** Whether the request was over https (TLS reasons only apply then). */
  readonly secure: boolean;
  readonly reason: string | undefined;
  /**
   * The registry had answered and the connection broke while its body was read (a download that
   * gave up after resuming): connecting, TLS and the protocol were fine, whatever `reason` says.
   */
  readonly answered: boolean;

  constructor(init: {
    method: string;
    url: string | URL;
    detail: string;
    cause?: unknown;
    answered?: boolean | undefined;
  }) {
    const url = redactUrl(init.url);
    super(RegistryErrorCode.Network, `${init.method} ${url}: ${init.detail}`, {
      cause: init.cause,
    });
    this.url = url;
    this.method = init.method;
    let host: string | undefined;
    try {
      host = new URL(String(init.url)).host;
    } catch {
      host = undefined;
    }
    this.host = host;
    this.secure = url.startsWith('https:');
    this.reason = networkReason(init.cause);
    this.answered = init.answered === true;
  }
}

/** The first string `code` in an error's cause chain (undici wraps node's socket and TLS errors). */
export function networkReason(error: unknown): string | undefined {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== RegistryErrorCode.Network) return code;
  }
  return undefined;
}

/** Parses the distribution spec's `{"errors": [...]}` body; anything else gives an empty list. */
export function parseErrorBody(text: string): DistributionError[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    return body.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
        ...(typeof e.message === 'string' ? { message: e.message } : {}),
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
      }));
  } catch {
    return [];
  }
}

// Docker Hub's blob CDN signs with `verify=<expiry>-<signature>`; the rest are S3, CloudFront,
// Azure SAS, GCS, OAuth and api-key spellings.
const SECRET_PARAMS =
  /^(?:_state|token|access_token|refresh_token|password|x-amz-[a-z-]*|sig|signature|x-goog-signature|se|sp|sv|sr|skoid|sktid|skt|ske|sks|skv|key-pair-id|policy|verify|client_secret|api[-_]?key)$/i;

/**
 * A URL safe to print: no userinfo, and query parameters that carry secrets (upload state,
 * pre-signed storage signatures, tokens) replaced by `REDACTED`.
 */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return String(input);
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) url.searchParams.set(key, 'REDACTED');
  }
  return url.toString();
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    408: 'Request Timeout',
    409: 'Conflict',
    413: 'Payload Too Large',
    416: 'Range Not Satisfiable',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[status] ?? 'Unexpected status';
}
