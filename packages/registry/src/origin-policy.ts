/**
 * What may cross an origin. Credentials belong to the origin they were given for; on a redirect
 * to another origin only headers that cannot carry one go along.
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
