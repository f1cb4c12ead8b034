// Shared plumbing for the client-*.test.ts files: one registry:2 per file, @ferry/registry clients
// built the way a user builds them (credentials from a real Docker config.json), a debug trace per
// client, and deterministic data.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Digest } from '@ferry/oci';
import { CredentialStore, credentialProvider, Registry } from '@ferry/registry';
import type { RegistryOptions } from '@ferry/registry';
import { startRegistry } from '../harness/index.js';
import type { RegistryMode, TestRegistry, TestUser } from '../harness/index.js';

/** What goes into config.json's `auths` entry for the registry. */
export type AuthEntry =
  { user: Pick<TestUser, 'username' | 'password'> } | { identityToken: string };

export interface OpenOptions extends RegistryOptions {
  /** Whose credentials go into the config file; null for none. Default: the mode's usual ones. */
  auth?: AuthEntry | null;
}

export interface ClientFixture {
  readonly mode: RegistryMode;
  readonly reg: TestRegistry;
  /** The client most tests use, built with {@link open}'s defaults. */
  readonly registry: Registry;
  /** Every line the main client's debug option produced. */
  readonly trace: string[];
  /** Repositories this file created (for the catalog test). */
  readonly repositories: Set<string>;
  /** The read-write user in basic and token modes. */
  readonly writer: TestUser | undefined;
  readonly reader: TestUser | undefined;
  /** A new client; `debug` lines are also collected in the returned `lines`. */
  open(options?: OpenOptions): { registry: Registry; lines: string[] };
  /** A fresh repository name, remembered in {@link repositories} unless `track` is false. */
  repoName(prefix: string, track?: boolean): string;
  /** The debug lines the main client produced while `fn` ran. */
  traced<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }>;
}

/** Starts a registry in beforeAll and stops it (and every client) in afterAll. */
export function useClientFixture(mode: RegistryMode): ClientFixture {
  let reg: TestRegistry | undefined;
  let main: Registry | undefined;
  let configDir: string | undefined;
  const clients: Registry[] = [];
  const trace: string[] = [];
  const repositories = new Set<string>();
  let configs = 0;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not ready: did beforeAll fail?`);
    return value;
  };

  const fixture: ClientFixture = {
    mode,
    get reg() {
      return need(reg, 'the registry');
    },
    get registry() {
      return need(main, 'the client');
    },
    trace,
    repositories,
    get writer() {
      return need(reg, 'the registry').users.find((u) => u.access === 'read-write');
    },
    get reader() {
      return need(reg, 'the registry').users.find((u) => u.access === 'pull-only');
    },
    open(options = {}) {
      const r = need(reg, 'the registry');
      const { auth: explicit, debug, ...rest } = options;
      const writer = fixture.writer;
      const auth = explicit !== undefined ? explicit : writer ? { user: writer } : null;
      const lines: string[] = [];
      const registry = new Registry(r.host, {
        ...(auth
          ? {
              credentials: credentialProvider(
                new CredentialStore({ configPath: writeConfig(auth) }),
              ),
            }
          : {}),
        ...(mode === 'tls' ? { ca: r.caPem } : {}),
        // Tests that count requests or order them need no https probe in front of each client's
        // first request; the probe itself is covered by the CLI tests, which run without this.
        ...(mode !== 'tls' && rest.plainHttp === undefined && rest.ca === undefined
          ? { plainHttp: true }
          : {}),
        ...rest,
        debug: (line) => {
          lines.push(line);
          debug?.(line);
        },
      });
      clients.push(registry);
      return { registry, lines };
    },
    repoName(prefix, track = true) {
      const name = `ferry-e2e/client-${mode}-${prefix}-${randomBytes(3).toString('hex')}`;
      if (track) repositories.add(name);
      return name;
    },
    async traced(fn) {
      const start = trace.length;
      const result = await fn();
      return { result, lines: trace.slice(start) };
    },
  };

  /** A real Docker config.json in its own directory, as `docker login` would leave it. */
  const writeConfig = (auth: AuthEntry): string => {
    const dir = need(configDir, 'the config directory');
    const path = join(dir, `config-${++configs}.json`);
    const host = need(reg, 'the registry').host;
    const entry =
      'user' in auth
        ? { auth: Buffer.from(`${auth.user.username}:${auth.user.password}`).toString('base64') }
        : { identitytoken: auth.identityToken };
    writeFileSync(path, JSON.stringify({ auths: { [host]: entry } }, null, 2), { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    configDir = await mkdtemp(join(tmpdir(), `ferry-client-${mode}-`));
    reg = await startRegistry({ mode });
    main = fixture.open({ debug: (line) => trace.push(line) }).registry;
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await reg?.stop();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });
  return fixture;
}

/** Lines of a debug trace that are requests of `method` whose URL path matches `path`. */
export function requests(lines: readonly string[], method: string, path?: RegExp): string[] {
  return lines.filter((line) => {
    if (!line.startsWith(`> ${method} `)) return false;
    const url = line.slice(method.length + 3).split(' ')[0] ?? '';
    return path === undefined || path.test(new URL(url).pathname);
  });
}

/** How many successful responses to a URL path matching `path` carried a `rel="next"` Link. */
export function nextLinks(lines: readonly string[], path: RegExp): number {
  return lines.filter((line) => {
    const url = /^< 200 GET (\S+)/.exec(line)?.[1];
    return url !== undefined && path.test(new URL(url).pathname) && /rel="next"/.test(line);
  }).length;
}

export function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Hashes a stream without holding it: the digest and the number of bytes. */
export async function hashStream(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * `size` pseudo-random bytes determined by `seed` (AES-128-CTR over zeros), in pieces of at most
 * `piece` bytes: the same seed always gives the same bytes, and nothing holds them all at once.
 */
export function seededStream(seed: string, size: number, piece = 1024 * 1024): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const zeros = Buffer.alloc(piece);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(piece, left);
      left -= n;
      this.push(cipher.update(n === piece ? zeros : zeros.subarray(0, n)));
    },
  });
}

export function seededBytes(seed: string, size: number): Promise<Buffer> {
  return readAll(seededStream(seed, size));
}

/** Awaits a promise that must reject and returns what it rejected with. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.fail('expected the operation to fail, but it succeeded');
}
