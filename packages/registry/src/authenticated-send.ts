/**
 * Answering a registry's 401: the request goes out with what the authenticator already holds,
 * and a 401 from the same origin is answered once with what its challenge asks for.
 */
import type { Authenticator } from './auth.js';
import { discard } from './body.js';
import { parseWwwAuthenticate } from './challenge.js';
import type { Exchange } from './redirects.js';
import type { TransportRequest, TransportResponse } from './transport.js';

/**
 * Sends `request` through `send` with `auth`'s credentials (none when `auth` is undefined); on a
 * 401 from the request's own origin learns the challenge and tries once more. A 401 that the
 * authenticator has nothing better for is handed back as it is, error body and all.
 */
export async function sendAuthenticated(
  request: TransportRequest,
  auth: Authenticator | undefined,
  send: Exchange,
): Promise<TransportResponse> {
  const host = request.url.host;
  const scopes = request.scopes ?? [];
  const first = auth ? await auth.authorization(host, scopes, request.signal) : undefined;
  const response = await send(request, first);
  if (response.status !== 401 || !auth || response.url.origin !== request.url.origin) {
    return response;
  }

  const challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
  const retryWith = await auth.onChallenge(
    { host, secure: request.url.protocol === 'https:', challenges, scopes, rejected: first },
    request.signal,
  );
  if (retryWith === undefined) return response;
  await discard(response);
  return send(request, retryWith);
}
