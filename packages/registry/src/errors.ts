import { FerryError } from '@ferry/oci';

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

  constructor(
    init: { status: number; method: string; url: string | URL; errors?: DistributionError[] },
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
  }

  /** The registry's code for the first error (`MANIFEST_UNKNOWN`, `DENIED`, `TOOMANYREQUESTS`…). */
  get registryCode(): string | undefined {
    return this.errors[0]?.code;
  }
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

const SECRET_PARAMS =
  /^(?:_state|token|access_token|refresh_token|password|x-amz-[a-z-]*|sig|signature|x-goog-signature|se|sp|sv|sr|skoid|sktid|skt|ske|sks|skv|key-pair-id|policy)$/i;

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
