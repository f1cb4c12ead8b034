/** What the --debug trace prints of headers (credentials redacted), and how a non-TLS answer looks. */
import type { IncomingHttpHeaders } from 'node:http';
import { redactUrl } from './errors.js';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Headers for the debug trace, with every credential replaced by its scheme and `REDACTED`. */
export function formatHeaders(headers: Record<string, unknown> | IncomingHttpHeaders): string {
  return Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => {
      const text = Array.isArray(value) ? value.join(', ') : String(value);
      // Upload and storage locations carry upload state and pre-signed signatures.
      if (name.toLowerCase() === 'location') return `${name}: ${redactLocation(text)}`;
      if (!SECRET_HEADERS.has(name.toLowerCase())) return `${name}: ${text}`;
      const scheme = /^\S+\s/.exec(text)?.[0] ?? '';
      return `${name}: ${scheme}REDACTED`;
    })
    .join('; ');
}

function redactLocation(location: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(location)) return redactUrl(location);
  const base = 'http://relative.invalid';
  return redactUrl(new URL(location, base)).slice(base.length);
}

/** The server answered the TLS handshake with something that is not TLS (plain HTTP). */
export function isNotTlsError(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = String((e as { code?: unknown }).code ?? '');
    const message = e instanceof Error ? e.message : '';
    if (
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      /wrong version number|packet length too long|http request/i.test(message)
    ) {
      return true;
    }
  }
  return false;
}
