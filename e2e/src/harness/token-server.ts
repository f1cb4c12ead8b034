import { X509Certificate, createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenAccount {
  username: string;
  password: string;
  /** Repository actions this account may be granted, e.g. ['pull', 'push', 'delete']. */
  actions: string[];
  /** Whether `registry:catalog:*` is granted. */
  catalog: boolean;
}

export interface TokenServerOptions {
  service: string;
  issuer: string;
  keyPem: string;
  certPem: string;
  accounts: TokenAccount[];
  /** What a caller without credentials may do; none by default, so pulls need a login too. */
  anonymousActions?: string[];
  expiresInSeconds?: number;
}

export interface IssuedToken {
  method: 'GET' | 'POST';
  /** '' for anonymous. */
  subject: string;
  scopes: string[];
  access: AccessEntry[];
}

export interface TokenServer {
  /** The token endpoint, i.e. the realm the registry advertises in its Bearer challenge. */
  url: string;
  service: string;
  issuer: string;
  /** Access tokens handed out so far (refused requests don't count). */
  readonly issued: number;
  readonly log: readonly IssuedToken[];
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly oauthError?: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

export function parseScope(
  scope: string,
): { type: string; name: string; actions: string[] } | null {
  // Repository names cannot contain ':', but the resource type may carry a class ("repository(plugin)")
  // and a name may one day include a registry host with a port, so split on the first and last ':'.
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function grantAccess(
  account: TokenAccount | null,
  scopes: string[],
  anonymousActions: string[],
): AccessEntry[] {
  const granted = new Map<string, AccessEntry>();
  for (const scope of scopes) {
    const parsed = parseScope(scope);
    if (parsed === null) continue;
    let allowed: string[] = [];
    if (parsed.type === 'repository' || parsed.type.startsWith('repository(')) {
      allowed = account ? account.actions : anonymousActions;
    } else if (parsed.type === 'registry' && parsed.name === 'catalog') {
      allowed = account?.catalog ? ['*'] : [];
    }
    // Grant the intersection only: a token must never carry more than was asked for.
    const actions = parsed.actions.filter((a) => allowed.includes(a));
    if (actions.length === 0) continue;
    const key = `${parsed.type}\0${parsed.name}`;
    const entry = granted.get(key) ?? { type: parsed.type, name: parsed.name, actions: [] };
    for (const a of actions) if (!entry.actions.includes(a)) entry.actions.push(a);
    granted.set(key, entry);
  }
  return [...granted.values()];
}

function basicCredentials(req: IncomingMessage): { username: string; password: string } | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new HttpError(401, 'UNAUTHORIZED', 'malformed Authorization header');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new HttpError(401, 'UNAUTHORIZED', 'malformed Basic credentials');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'TOO_LARGE', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function scopesFrom(params: URLSearchParams): string[] {
  // GET repeats `scope`; OAuth2 POST packs several into one space-separated value. Accept both.
  return params.getAll('scope').flatMap((s) => s.split(' ').filter((x) => x !== ''));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(opts.keyPem);
  const x5c = new X509Certificate(opts.certPem).raw.toString('base64');
  const expiresIn = opts.expiresInSeconds ?? 300;
  const anonymousActions = opts.anonymousActions ?? [];
  const refreshTokens = new Map<string, string>();
  const log: IssuedToken[] = [];

  const authenticate = (username: string, password: string): TokenAccount => {
    const account = opts.accounts.find((a) => a.username === username);
    if (!account || account.password !== password) {
      throw new HttpError(401, 'UNAUTHORIZED', 'invalid username or password', 'invalid_grant');
    }
    return account;
  };

  const mint = (
    method: IssuedToken['method'],
    account: TokenAccount | null,
    service: string,
    scopes: string[],
  ) => {
    const now = Math.floor(Date.now() / 1000);
    const access = grantAccess(account, scopes, anonymousActions);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [x5c] };
    const claims = {
      iss: opts.issuer,
      sub: account?.username ?? '',
      aud: service,
      exp: now + expiresIn,
      // Backdated a little so a registry whose clock is a hair behind doesn't reject a fresh token.
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64(header)}.${b64(claims)}`;
    const signature = sign('sha256', Buffer.from(input), key).toString('base64url');
    log.push({ method, subject: claims.sub, scopes, access });
    return {
      token: `${input}.${signature}`,
      expires_in: expiresIn,
      issued_at: new Date(now * 1000).toISOString(),
    };
  };

  const newRefreshToken = (username: string): string => {
    const token = randomBytes(24).toString('base64url');
    refreshTokens.set(token, username);
    return token;
  };

  const handleGet = (req: IncomingMessage, params: URLSearchParams): object => {
    const creds = basicCredentials(req);
    const account = creds ? authenticate(creds.username, creds.password) : null;
    const service = params.get('service') ?? opts.service;
    const t = mint('GET', account, service, scopesFrom(params));
    const body: Record<string, unknown> = { ...t, access_token: t.token };
    if (account && params.get('offline_token') === 'true') {
      body.refresh_token = newRefreshToken(account.username);
    }
    return body;
  };

  const handlePost = async (req: IncomingMessage): Promise<object> => {
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get('grant_type');
    let account: TokenAccount;
    let refreshToken: string;
    if (grantType === 'password') {
      account = authenticate(form.get('username') ?? '', form.get('password') ?? '');
      refreshToken = newRefreshToken(account.username);
    } else if (grantType === 'refresh_token') {
      refreshToken = form.get('refresh_token') ?? '';
      const username = refreshTokens.get(refreshToken);
      const found = opts.accounts.find((a) => a.username === username);
      if (!found) {
        throw new HttpError(401, 'UNAUTHORIZED', 'unknown refresh token', 'invalid_grant');
      }
      account = found;
    } else {
      throw new HttpError(
        400,
        'UNSUPPORTED',
        `unsupported grant_type ${JSON.stringify(grantType)}`,
        'unsupported_grant_type',
      );
    }
    const scopes = scopesFrom(form);
    const t = mint('POST', account, form.get('service') ?? opts.service, scopes);
    return {
      access_token: t.token,
      token: t.token,
      expires_in: t.expires_in,
      refresh_token: refreshToken,
      issued_at: t.issued_at,
      scope: scopes.join(' '),
    };
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    const handle = async (): Promise<object> => {
      if (url.pathname !== '/token') throw new HttpError(404, 'NOT_FOUND', 'no such endpoint');
      if (req.method === 'GET') return handleGet(req, url.searchParams);
      if (req.method === 'POST') return handlePost(req);
      throw new HttpError(405, 'UNSUPPORTED', `method ${req.method} not allowed`);
    };
    handle().then(
      (body) => sendJson(res, 200, body),
      (err: unknown) => {
        const e =
          err instanceof HttpError
            ? err
            : new HttpError(500, 'UNKNOWN', String(err), 'server_error');
        if (e.status === 401) res.setHeader('www-authenticate', 'Basic realm="ferry-e2e-token"');
        // Both shapes: the distribution `errors` array and the OAuth2 `error` field, so whichever a
        // client parses, it finds a reason.
        sendJson(res, e.status, {
          errors: [{ code: e.code, message: e.message }],
          ...(e.oauthError ? { error: e.oauthError, error_description: e.message } : {}),
        });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/token`,
    service: opts.service,
    issuer: opts.issuer,
    get issued() {
      return log.length;
    },
    log,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets from clients would otherwise hold close() open indefinitely.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
