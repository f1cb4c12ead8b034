/**
 * Following a registry's redirects: GET and HEAD only, at most ten hops, never from https down
 * to http, and nothing that could be a credential carried to another origin.
 */
import { FerryError } from '@ferry/oci';
import { discard } from './body.js';
import { redactUrl, RegistryErrorCode } from './errors.js';
import { crossOriginHeaders } from './origin-policy.js';
import type { TransportRequest, TransportResponse } from './transport.js';

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** One request and its response, with `authorization` (if any) as its Authorization header. */
export type Exchange = (
  request: TransportRequest,
  authorization: string | undefined,
) => Promise<TransportResponse>;

/**
 * Sends `request` through `exchange` and follows redirects to the final response, which names
 * what was asked in `requested` when it came from elsewhere.
 */
export async function followRedirects(
  request: TransportRequest,
  authorization: string | undefined,
  exchange: Exchange,
): Promise<TransportResponse> {
  let url = request.url;
  let method = request.method;
  for (let hop = 0; ; hop++) {
    // One rule for every request, whatever field carries the secret: nothing that could be a
    // credential crosses an origin. A blob redirected to storage elsewhere (S3, a CDN) gets no
    // Authorization header, which is also what pre-signed URLs expect; a token realm that
    // redirects elsewhere does not get the Basic header the token request carried.
    const sameOrigin = url.origin === request.url.origin;
    const response = await exchange(
      {
        ...request,
        method,
        url,
        headers: sameOrigin ? request.headers : crossOriginHeaders(request.headers),
      },
      sameOrigin ? authorization : undefined,
    );
    const location = response.headers.location;
    const final = hop === 0 ? response : { ...response, requested: request.url };
    if (!REDIRECT_STATUS.has(response.status) || typeof location !== 'string') return final;
    if (method !== 'GET' && method !== 'HEAD') return final;
    await discard(response);
    if (hop >= MAX_REDIRECTS) {
      throw new FerryError(
        RegistryErrorCode.TooManyRedirects,
        `${method} ${redactUrl(request.url)}: more than ${MAX_REDIRECTS} redirects`,
      );
    }
    const next = new URL(location, url);
    if (url.protocol === 'https:' && next.protocol !== 'https:') {
      throw new FerryError(
        RegistryErrorCode.InsecureRedirect,
        `${method} ${redactUrl(url)}: refusing a redirect from https to ${redactUrl(next)}`,
      );
    }
    url = next;
    if (response.status === 303) method = 'GET';
  }
}
