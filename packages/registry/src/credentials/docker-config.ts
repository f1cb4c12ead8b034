/**
 * Docker's `config.json`, read and written the way docker and oras do, so that `docker login`,
 * `oras login` and `ferry login` share one set of credentials. Everything this module does not
 * understand (proxies, plugins, unknown keys, other hosts' entries) is carried through untouched.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { FerryError } from '@ferry/oci';
import { makeDirectory } from '../make-directory.js';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`). */
  identityToken?: string;
  /** A bearer token to send as is (docker's `registrytoken`). */
  registryToken?: string;
}

export const CredentialErrorCode = {
  /** config.json cannot be read, parsed or written. */
  Config: 'ERR_CREDENTIALS_CONFIG',
  /** A `docker-credential-*` helper is missing or failed. */
  Helper: 'ERR_CREDENTIAL_HELPER',
  NotLoggedIn: 'ERR_NOT_LOGGED_IN',
  /** Nothing to store, or a host that cannot be a registry. */
  InvalidCredential: 'ERR_INVALID_CREDENTIAL',
} as const;

export type CredentialErrorCode = (typeof CredentialErrorCode)[keyof typeof CredentialErrorCode];

export type ConfigObject = Record<string, unknown>;

/** The key docker has always used for Docker Hub, kept for compatibility with every tool. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function resolveConfigPath(configPath: string | undefined, env: NodeJS.ProcessEnv): string {
  if (configPath) return resolve(configPath);
  if (env['DOCKER_CONFIG']) return join(resolve(env['DOCKER_CONFIG']), 'config.json');
  return join(env['HOME'] || env['USERPROFILE'] || homedir(), '.docker', 'config.json');
}

/**
 * Reduces a config key or a host to the registry it names, like docker's ConvertToHostname:
 * `https://ghcr.io/v2/` → `ghcr.io`. All of Docker Hub's names become `docker.io`.
 */
export function normaliseHost(key: string): string {
  let host = key.trim();
  const scheme = host.indexOf('://');
  if (scheme >= 0) host = host.slice(scheme + 3);
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/** The key to write (and to hand to helpers): docker's Hub URL, or the bare host. */
export function canonicalKey(host: string): string {
  const normal = normaliseHost(host);
  if (!/^[\w.\-:[\]]+$/.test(normal)) {
    throw new FerryError(
      CredentialErrorCode.InvalidCredential,
      `invalid registry host ${JSON.stringify(host.slice(0, 200))}`,
    );
  }
  return normal === 'docker.io' ? DOCKER_HUB_KEY : normal;
}

/** Keys of `record` that name `host`: the canonical key first, then variants in file order. */
export function matchingKeys(record: ConfigObject, host: string): string[] {
  const key = canonicalKey(host);
  const normal = normaliseHost(host);
  const keys = Object.hasOwn(record, key) ? [key] : [];
  for (const k of Object.keys(record)) {
    if (k !== key && normaliseHost(k) === normal) keys.push(k);
  }
  return keys;
}

export function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property even for a key such as `__proto__`, which assignment would not. */
export function setOwn(target: ConfigObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export function configError(file: string, problem: string, cause?: unknown): FerryError {
  return new FerryError(CredentialErrorCode.Config, `${file}: ${problem}`, { cause });
}

/** A missing file is no configuration at all, which is not an error. */
export async function readConfig(file: string): Promise<ConfigObject | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw configError(file, `cannot read the file: ${(error as Error).message}`, error);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): ConfigObject {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return {}; // docker treats an empty file as an empty configuration
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    // Not chained as the cause: V8's message quotes the surrounding text, secrets included.
    throw configError(file, `invalid JSON: ${describeJsonError(error, body)}`);
  }
  if (!isObject(data)) throw configError(file, 'expected a JSON object at the top level');
  for (const field of ['auths', 'credHelpers']) {
    const value = data[field];
    if (value != null && !isObject(value)) throw configError(file, `"${field}" must be an object`);
  }
  const store = data['credsStore'];
  if (store != null && typeof store !== 'string') {
    throw configError(file, '"credsStore" must be a string');
  }
  return data;
}

function describeJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/^Unexpected token/.test(message)) return 'unexpected token';
  const position = /at position (\d+)/.exec(message);
  const kind = message.replace(/ in JSON.*$/s, '').replace(/ at position.*$/s, '');
  if (!position) return kind.slice(0, 100);
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${kind.slice(0, 100)} at line ${line} column ${column}`;
}

/** Reads one `auths` entry; `undefined` when it holds nothing usable (docker writes `{}`). */
export function decodeEntry(entry: unknown, file: string, key: string): Credential | undefined {
  if (entry == null) return undefined;
  const where = `auths[${JSON.stringify(key)}]`;
  if (!isObject(entry)) throw configError(file, `${where} must be an object`);
  const field = (name: string): string | undefined => {
    const value = entry[name];
    if (value == null || value === '') return undefined;
    if (typeof value !== 'string') throw configError(file, `${where}.${name} must be a string`);
    return value;
  };
  // Like oras, plain username/password fields are honoured, and `auth` overrides them.
  let username = field('username');
  let password = field('password');
  const auth = field('auth');
  if (auth !== undefined) {
    const decoded = decodeAuth(auth);
    if (!decoded) {
      throw configError(file, `${where}.auth is not the base64 encoding of "username:password"`);
    }
    [username, password] = decoded;
  }
  const identityToken = field('identitytoken');
  const registryToken = field('registrytoken');
  // With an identity token the username is a placeholder (usually `<token>`), not a login.
  if (identityToken !== undefined && username === '<token>') username = undefined;
  const credential: Credential = {};
  if (username) credential.username = username;
  if (password) credential.password = password;
  if (identityToken) credential.identityToken = identityToken;
  if (registryToken) credential.registryToken = registryToken;
  return Object.keys(credential).length > 0 ? credential : undefined;
}

/** Base64 of `user:password`; the password may contain ':', so only the first one splits. */
function decodeAuth(auth: string): [string, string] | undefined {
  const compact = auth.replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return undefined;
  const text = Buffer.from(compact, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  // docker trims NUL padding some old tools left at the end of the password.
  return [text.slice(0, colon), text.slice(colon + 1).replace(/\0+$/, '')];
}

/** The secret-bearing fields of an entry; anything else in it (e.g. `email`) is kept. */
const SECRET_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'];

export function withoutSecrets(entry: unknown): ConfigObject {
  const kept: ConfigObject = {};
  if (isObject(entry)) {
    for (const [k, v] of Object.entries(entry)) if (!SECRET_FIELDS.includes(k)) setOwn(kept, k, v);
  }
  return kept;
}

/** Docker's on-disk form: `auth` only when there is a username or password. */
export function encodeEntry(previous: unknown, credential: Credential): ConfigObject {
  const entry = withoutSecrets(previous);
  const { username = '', password = '', identityToken, registryToken } = credential;
  if (username || password) {
    entry['auth'] = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  }
  if (identityToken) entry['identitytoken'] = identityToken;
  if (registryToken) entry['registrytoken'] = registryToken;
  return entry;
}

/**
 * Replaces the file in one step: a temp file in the same directory (so rename cannot cross file
 * systems), created 0600 and fsynced before the rename, so a crash or a full disk leaves either
 * the old file or the new one, never half of either, and secrets are never world-readable.
 */
export async function writeConfigAtomic(file: string, data: ConfigObject): Promise<void> {
  let target = file;
  try {
    target = await realpath(file); // a symlinked config (dotfiles) is updated, not replaced
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw configError(file, `cannot write the file: ${(error as Error).message}`, error);
    }
  }
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const text = `${JSON.stringify(data, null, '\t')}\n`; // docker indents with tabs
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await makeDirectory(dir, { mode: 0o700 });
    handle = await open(temp, 'wx', 0o600);
    await handle.chmod(0o600); // open's mode is filtered by the umask; make it exact
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw configError(target, `cannot write the file: ${(error as Error).message}`, error);
  }
  // Persist the rename itself; best effort, as not every platform can fsync a directory.
  try {
    const dirHandle = await open(dir, 'r');
    await dirHandle.sync().finally(() => dirHandle.close());
  } catch {
    // ignored on purpose
  }
}
