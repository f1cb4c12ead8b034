// Shared plumbing for the fault-*.test.ts files: one registry:2 per file behind a fault-injecting
// proxy, the built `ferry` binary pointed at the proxy (credentials from a config.json of our own),
// a temporary directory per test, and assertions about what a failed command left behind.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startRegistry } from '../harness/index.js';
import type { RegistryMode, TestRegistry } from '../harness/index.js';
import { spawnFerry } from '../support/cli-fixture.js';
import type { FerryResult } from '../support/cli-fixture.js';
import { startFaultProxy } from './proxy.js';
import type { FaultProxy, ProxyRequest } from './proxy.js';
import { restartable } from './restart.js';
import type { RestartableRegistry } from './restart.js';

export const MiB = 1024 * 1024;
/** Blob paths (not upload sessions), for rule matches. */
export const BLOB = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/;
export const UPLOAD = /^\/v2\/.+\/blobs\/uploads\//;
export const MANIFEST = /^\/v2\/.+\/manifests\//;

export interface FaultFixture {
  readonly reg: TestRegistry;
  readonly proxy: FaultProxy;
  readonly restarter: RestartableRegistry;
  /** The current test's temporary directory (with an empty `out/`). */
  readonly dir: string;
  /** A fresh `<proxy host>/faults/<name>-<hex>` repository (no tag). */
  repo(name: string): string;
  /** Runs the built binary against the proxy; never throws on a non-zero exit. */
  run(args: readonly string[], input?: Buffer | string): Promise<FerryResult>;
  /** Runs it and expects exit 0. */
  ok(args: readonly string[], input?: Buffer | string): Promise<FerryResult>;
  /** Writes a file in the test's directory and returns its path. */
  write(name: string, content: Buffer | string): Promise<string>;
  /** The config.json with the registry's credentials that `run` passes to ferry. */
  readonly configPath: string;
}

export const sha256 = (data: Buffer | string): string =>
  createHash('sha256').update(data).digest('hex');

/** Random bytes: incompressible, so every byte really crosses the proxy. */
export const randomBlob = (size: number): Buffer => randomBytes(size);

/** Every entry under `dir`, hidden ones included, as relative paths. */
export async function entries(dir: string): Promise<string[]> {
  const found = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return found.map(String).sort();
}

/** Requests of the proxy's log with this method whose path matches. */
export function requestsTo(proxy: FaultProxy, method: string, path: RegExp): ProxyRequest[] {
  return proxy.requests.filter((r) => r.method === method && path.test(r.path));
}

export function useFaultFixture(mode: RegistryMode): FaultFixture {
  let reg: TestRegistry | undefined;
  let proxy: FaultProxy | undefined;
  let restarter: RestartableRegistry | undefined;
  let home: string | undefined;
  let dir: string | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not ready: did beforeAll fail?`);
    return value;
  };
  const configPath = () => join(need(home, 'the fixture directory'), 'config.json');

  const fixture: FaultFixture = {
    get reg() {
      return need(reg, 'the registry');
    },
    get proxy() {
      return need(proxy, 'the proxy');
    },
    get restarter() {
      return need(restarter, 'the restarter');
    },
    get dir() {
      // Outside a test (beforeAll), the fixture's own directory.
      return dir ?? need(home, 'the fixture directory');
    },
    get configPath() {
      return configPath();
    },
    repo(name) {
      return `${fixture.proxy.host}/faults/${name}-${randomBytes(3).toString('hex')}`;
    },
    run(args, input) {
      return spawnFerry([...args, '--registry-config', configPath()], {
        cwd: fixture.dir,
        // A download cache per test, so that every pull really crosses the proxy.
        env: {
          DOCKER_CONFIG: need(home, 'the fixture directory'),
          FERRY_CACHE: join(fixture.dir, 'cache'),
        },
        ...(input !== undefined ? { input } : {}),
      });
    },
    async ok(args, input) {
      const result = await fixture.run(args, input);
      expect(result.code, `ferry ${args.join(' ')}\n${result.stderr}`).toBe(0);
      return result;
    },
    async write(name, content) {
      const path = join(fixture.dir, name);
      await writeFile(path, content);
      return path;
    },
  };

  beforeAll(async () => {
    reg = await startRegistry({ mode });
    restarter = restartable(reg);
    proxy = await startFaultProxy({ upstream: reg.url, restarter });
    home = await mkdtemp(join(tmpdir(), `ferry-faults-${mode}-`));
    const user = reg.users.find((u) => u.access === 'read-write');
    const auths = user
      ? {
          [proxy.host]: {
            auth: Buffer.from(`${user.username}:${user.password}`).toString('base64'),
          },
        }
      : {};
    await writeFile(configPath(), JSON.stringify({ auths }), { mode: 0o600 });
  });
  beforeEach(async () => {
    fixture.proxy.script([]);
    dir = await mkdtemp(join(need(home, 'the fixture directory'), 'test-'));
    await mkdir(join(dir, 'out'));
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  afterAll(async () => {
    await proxy?.close();
    await restarter?.close();
    await reg?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });
  return fixture;
}

/** Pushes `content` as one titled file with no fault and returns the manifest digest. */
export async function pushFile(
  fx: FaultFixture,
  ref: string,
  name: string,
  content: Buffer,
): Promise<string> {
  await fx.write(name, content);
  const result = await fx.ok(['push', ref, name, '--format', 'json']);
  return (JSON.parse(result.stdout) as { digest: string }).digest;
}

/**
 * Reads `<path>` (`manifests/v1`, `blobs/sha256:…`) of a repository straight from the registry,
 * bypassing proxy and ferry: what the registry really stored. Undefined on 404. Anonymous mode.
 */
export async function stored(fx: FaultFixture, repo: string, path: string) {
  const name = repo.slice(repo.indexOf('/') + 1);
  const res = await fetch(`${fx.reg.url}/v2/${name}/${path}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status === 404) return undefined;
  expect(res.status, `GET ${path} from the registry`).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** The registry holds `data` as a blob of `repo`. */
export async function expectStoredBlob(fx: FaultFixture, repo: string, data: Buffer) {
  const bytes = await stored(fx, repo, `blobs/sha256:${sha256(data)}`);
  expect(bytes && sha256(bytes), 'the blob the registry stored').toBe(sha256(data));
}

/** The registry holds `repo:tag` as a manifest whose one layer is `data`. */
export async function expectStoredArtifact(
  fx: FaultFixture,
  repo: string,
  tag: string,
  data: Buffer,
) {
  const manifest = await stored(fx, repo, `manifests/${tag}`);
  const layers = (JSON.parse(manifest?.toString() ?? '{}') as { layers?: { digest: string }[] })
    .layers;
  expect(layers?.map((l) => l.digest)).toEqual([`sha256:${sha256(data)}`]);
  await expectStoredBlob(fx, repo, data);
}

/**
 * What ferry itself must not do around a failed or retried upload: send a manifest before every
 * blob it names was accepted. registry:2 already refuses a manifest whose blobs are missing, so the
 * registry's state could never show ferry trying; the proxy's log does. `blobs` are hex digests.
 */
export function expectManifestOnlyAfterBlobs(fx: FaultFixture, repo: string, blobs: string[]) {
  const name = repo.slice(repo.indexOf('/') + 1);
  const manifestPuts = fx.proxy.requests.filter(
    (r) => r.method === 'PUT' && r.path.startsWith(`/v2/${name}/manifests/`),
  );
  for (const put of manifestPuts) {
    for (const hex of blobs) {
      const accepted = fx.proxy.requests.some(
        (r) =>
          r.endedAt !== undefined &&
          r.endedAt <= put.startedAt &&
          ((r.method === 'PUT' && r.status === 201 && blobDigestParam(r.path) === hex) ||
            (r.method === 'HEAD' &&
              r.status === 200 &&
              r.path === `/v2/${name}/blobs/sha256:${hex}`)),
      );
      expect(accepted, `manifest PUT #${put.seq} sent before blob sha256:${hex} was accepted`).toBe(
        true,
      );
    }
  }
  return manifestPuts;
}

/** The hex of an upload PUT's `digest=sha256:…` query parameter. */
function blobDigestParam(path: string): string | undefined {
  const query = path.split('?')[1];
  const digest = query ? new URLSearchParams(query).get('digest') : null;
  return digest?.startsWith('sha256:') ? digest.slice('sha256:'.length) : undefined;
}

/** The repository's tags, or none when a push failed before the repository existed. */
export async function listedTags(fx: FaultFixture, repo: string): Promise<string[]> {
  const tags = await fx.run(['repo', 'tags', repo, '--format', 'json']);
  if (tags.code !== 0 && /NAME_UNKNOWN/.test(tags.stderr)) return [];
  expect(tags.code, tags.stderr).toBe(0);
  return (JSON.parse(tags.stdout) as { tags: string[] }).tags;
}
