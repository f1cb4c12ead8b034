// Test-only registry client: just enough of the distribution auth flow (Basic, Bearer via the
// realm) and blob upload to check the harness independently of ferry's own client.
import { createHash } from 'node:crypto';
import { Agent, Headers, fetch } from 'undici';
import type { RequestInit, Response } from 'undici';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"`; quoted values may contain commas. */
export function parseChallenge(header: string): Challenge {
  const match = /^\s*(\S+)\s*(.*)$/.exec(header);
  const scheme = match?.[1] ?? '';
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of (match?.[2] ?? '').matchAll(re)) {
    const key = m[1];
    if (key) params[key.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: scheme.toLowerCase(), params };
}

export interface JwtAccess {
  type: string;
  name: string;
  actions: string[];
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown> & { access?: JwtAccess[] };
} {
  const [h, c] = token.split('.');
  const part = (s: string | undefined) => JSON.parse(Buffer.from(s ?? '', 'base64url').toString());
  return { header: part(h), claims: part(c) };
}

export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`token request failed with ${status}: ${body}`);
  }
}

export const sha256 = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface PushResult {
  digest: string;
  start: Response;
  location: string | null;
  /** Absent when the upload could not be started. */
  finish?: Response;
}

export class RegistryClient {
  readonly dispatcher: Agent | undefined;
  /** The last bearer token obtained, so tests can inspect what was granted. */
  lastToken: string | undefined;
  private authorization: string | undefined;

  constructor(
    private readonly registry: { url: string; caPem?: string },
    private readonly creds?: Credentials,
  ) {
    this.dispatcher = registry.caPem ? new Agent({ connect: { ca: registry.caPem } }) : undefined;
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  private basic(): string | undefined {
    if (!this.creds) return undefined;
    const raw = `${this.creds.username}:${this.creds.password}`;
    return `Basic ${Buffer.from(raw).toString('base64')}`;
  }

  /** Follows a Bearer challenge to its realm, as `docker login` would. */
  async fetchToken(challenge: Challenge): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new Error('Bearer challenge without realm');
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of (challenge.params.scope ?? '').split(' ')) {
      if (scope) url.searchParams.append('scope', scope);
    }
    const basic = this.basic();
    const res = await fetch(url, { headers: basic ? { authorization: basic } : {} });
    const text = await res.text();
    if (res.status !== 200) throw new TokenRequestError(res.status, text);
    const body = JSON.parse(text) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token response without a token: ${text}`);
    this.lastToken = token;
    return token;
  }

  /** Sends a request, answering one 401 challenge (Basic or Bearer) and retrying once. */
  async request(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(pathOrUrl, this.registry.url);
    const send = (authorization: string | undefined) => {
      const headers = new Headers(init.headers as Record<string, string> | undefined);
      if (authorization) headers.set('authorization', authorization);
      return fetch(url, { ...init, headers, dispatcher: this.dispatcher });
    };
    const first = await send(this.authorization);
    const header = first.headers.get('www-authenticate');
    if (first.status !== 401 || !header) return first;
    const challenge = parseChallenge(header);
    let authorization: string | undefined;
    if (challenge.scheme === 'basic') authorization = this.basic();
    else if (challenge.scheme === 'bearer')
      authorization = `Bearer ${await this.fetchToken(challenge)}`;
    if (!authorization) return first;
    await first.body?.cancel();
    this.authorization = authorization;
    return send(authorization);
  }

  async pushBlob(repo: string, bytes: Uint8Array): Promise<PushResult> {
    const digest = sha256(bytes);
    const start = await this.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location');
    await start.body?.cancel();
    if (start.status !== 202 || !location) return { digest, start, location };
    // The Location carries the registry's signed `_state`; rebuilding it would break the upload.
    const target = new URL(location, this.registry.url).toString();
    const sep = target.includes('?') ? '&' : '?';
    const finish = await this.request(`${target}${sep}digest=${digest}`, {
      method: 'PUT',
      body: bytes,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.byteLength),
      },
    });
    await finish.body?.cancel();
    return { digest, start, location, finish };
  }

  getBlob(repo: string, digest: string): Promise<Response> {
    return this.request(`/v2/${repo}/blobs/${digest}`);
  }

  headBlob(repo: string, digest: string): Promise<Response> {
    return this.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  }
}
