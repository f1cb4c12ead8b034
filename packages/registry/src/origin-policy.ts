/**
 * What may cross an origin. Credentials and the user's own headers belong to the origin they were
 * given for; on a redirect to another origin only headers that cannot carry one go along.
 */

/**
 * The request headers that may follow a redirect to another origin. An allow-list rather than a
 * deny-list: a credential can travel in any field (`authorization`, `cookie`, a proxy's or a
 * vendor's own header, one a caller passed), and none of them may leave its origin.
 */
const CROSS_ORIGIN_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'user-agent',
]);

/** The headers of `headers` that may go to another origin (see CROSS_ORIGIN_HEADERS). */
export function crossOriginHeaders(
  headers: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!headers) return headers;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CROSS_ORIGIN_HEADERS.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}

/**
 * Whether `url` is `home`, the origin the credentials were given for (unset: every origin is).
 * `plainHttp(host)` tells whether a host may be reached over plain http as itself.
 */
export function ownsCredentials(
  url: URL,
  home: URL | undefined,
  plainHttp: (host: string) => boolean,
): boolean {
  if (!home) return true;
  if (url.host !== home.host) return false;
  if (url.protocol === home.protocol) return true;
  // A loopback registry that speaks plain http is still the same registry (the token
  // transport never probes, so it goes by the fallback rule rather than by what it found).
  return home.protocol === 'https:' && url.protocol === 'http:' && plainHttp(url.host);
}

/** The user's own headers (`-H`), lower-cased, as request headers. */
export function userHeaders(
  given: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(given)) headers[name.toLowerCase()] = [...values];
  return headers;
}

/** `headers` for a debug trace: the user's own values hidden, as any may be a credential. */
export function redactUserHeaders(
  headers: Record<string, string | string[]>,
  given: Readonly<Record<string, readonly string[]>> | undefined,
): Record<string, string | string[]> {
  if (!given) return headers;
  const traced = { ...headers };
  for (const name of Object.keys(given)) {
    if (traced[name.toLowerCase()] !== undefined) traced[name.toLowerCase()] = 'REDACTED';
  }
  return traced;
}
