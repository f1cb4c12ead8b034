// Homebrew's environment, end to end, with loopback stand-ins for every host: a fault proxy in
// front of the registry plays ghcr.io (FERRY_TEST_GHCR_HOST) and records what it was sent, another
// answers 404 for everything (a broken HOMEBREW_ARTIFACT_DOMAIN). Covers HOMEBREW_ARTIFACT_DOMAIN
// (with /v2 and a prefix, the ghcr.io fallback, _NO_FALLBACK), HOMEBREW_BOTTLE_DOMAIN and its
// fallback, HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN=none, a mirror that keeps namespaces, and how
// many requests `bottle pull sqlite` makes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './faults/proxy.js';
import { useBottleRegistry } from './support/bottle-fixture.js';
import { makeTab, writeBottle, type Bottle } from './support/bottle-tarball.js';

const fx = useBottleRegistry('anonymous');
/** Stands in for ghcr.io: forwards to the registry, records every request. */
let ghcr: FaultProxy;
/** A broken artifact domain: 404 for everything. */
let broken: FaultProxy;
let hello: Bottle;
let app: Bottle;
let solo: Bottle;
const sqlite = new Map<string, Bottle>();
const SQLITE_TAGS = [
  'arm64_ventura',
  'arm64_monterey',
  'arm64_big_sur',
  'ventura',
  'monterey',
  'big_sur',
  'x86_64_linux',
];

async function push(paths: string[], namespace: string) {
  await fx.ok(['bottle', 'push', ...paths, '--registry', fx.host, '--namespace', namespace]);
}

beforeAll(async () => {
  ghcr = await startFaultProxy({ upstream: fx.reg.url });
  broken = await startFaultProxy({
    upstream: fx.reg.url,
    rules: [
      {
        match: {},
        fault: { status: 404, body: '{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}' },
      },
    ],
  });
  const dir = await fx.dir('bottles');
  hello = await writeBottle(dir, {
    name: 'hello',
    version: '1.0',
    tag: 'x86_64_linux',
    receipt: makeTab(),
  });
  solo = await writeBottle(dir, {
    name: 'solo',
    version: '3',
    tag: 'x86_64_linux',
    receipt: makeTab(),
  });
  app = await writeBottle(dir, {
    name: 'app',
    version: '2.0',
    tag: 'x86_64_linux',
    receipt: makeTab({ dependencies: [{ name: 'hello', version: '1.0' }] }),
  });
  for (const tag of SQLITE_TAGS) {
    const linux = tag === 'x86_64_linux';
    const receipt = makeTab({
      arch: tag.startsWith('arm64') ? 'arm64' : 'x86_64',
      os: linux ? 'Linux' : 'Macintosh',
    });
    sqlite.set(tag, await writeBottle(dir, { name: 'sqlite', version: '3.40.1', tag, receipt }));
  }
  await push([hello.path, solo.path], 'homebrew/core');
  await push(
    [...sqlite.values()].map((b) => b.path),
    'homebrew/core',
  );
  await push([app.path], 'acme/tools');
  // The mirror brew reads through HOMEBREW_ARTIFACT_DOMAIN=http://<registry>/v2/mir1.
  await fx.ok([
    'bottle',
    'mirror',
    'acme/tools/app',
    '--with-deps',
    '--registry',
    fx.host,
    '--to',
    `${fx.host}/mir1`,
  ]);
});

afterAll(async () => {
  await ghcr?.close();
  await broken?.close();
});

/** `bottle pull` with Homebrew's environment only (no --registry): ghcr.io is the stand-in. */
async function pullWith(env: NodeJS.ProcessEnv, args: string[]) {
  const out = await fx.dir('pull');
  ghcr.script([]);
  const result = await fx.run(['bottle', 'pull', ...args, '--tag', 'x86_64_linux', '-o', out], {
    env: { FERRY_TEST_GHCR_HOST: ghcr.host, ...env },
  });
  return { result, out };
}

async function expectFile(out: string, bottle: Bottle) {
  expect((await readFile(join(out, bottle.fileName))).equals(bottle.bytes)).toBe(true);
}

describe('HOMEBREW_ARTIFACT_DOMAIN', () => {
  it('a /v2/<prefix> domain is not given a second /v2, and a mirror keeps every namespace', async () => {
    const { result, out } = await pullWith(
      {
        HOMEBREW_ARTIFACT_DOMAIN: `http://${fx.host}/v2/mir1`,
        HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK: '1',
      },
      ['acme/tools/app', '--with-deps'],
    );
    expect(result.code, result.stderr).toBe(0);
    // The tap formula and its homebrew/core dependency, both from mir1/<their ghcr.io path>.
    await expectFile(out, app);
    await expectFile(out, hello);
    expect(ghcr.requests).toEqual([]);
  });

  it('falls back to ghcr.io when the domain fails, and says so', async () => {
    broken.script([
      { match: {}, fault: { status: 404, body: '{"errors":[{"code":"NAME_UNKNOWN"}]}' } },
    ]);
    const { result, out } = await pullWith(
      { HOMEBREW_ARTIFACT_DOMAIN: `http://${broken.host}/v2/mir1` },
      ['hello'],
    );
    expect(result.code, result.stderr).toBe(0);
    await expectFile(out, hello);
    expect(result.stderr).toMatch(
      /Warning: .*\/mir1\/homebrew\/core\/hello \(HOMEBREW_ARTIFACT_DOMAIN\) failed/,
    );
    expect(broken.requests.length).toBeGreaterThan(0);
    for (const request of broken.requests) {
      expect(request.path).toMatch(/^\/v2\/mir1\/homebrew\/core\/hello\//);
      // The mirror was given no credential of ghcr.io's.
      expect(request.auth).toBeUndefined();
    }
    expect(ghcr.requests.map((r) => r.auth)).toEqual(ghcr.requests.map(() => 'Bearer'));
    expect(ghcr.requests.some((r) => r.path.startsWith('/v2/homebrew/core/hello/blobs/'))).toBe(
      true,
    );
  });

  it('a domain that is down (503) is given up after the client’s retries, then not asked again', async () => {
    broken.script([{ match: {}, fault: { status: 503 } }]);
    const { result, out } = await pullWith(
      { HOMEBREW_ARTIFACT_DOMAIN: `http://${broken.host}/v2/mir1` },
      ['hello'],
    );
    expect(result.code, result.stderr).toBe(0);
    await expectFile(out, hello);
    // Only the first request (the tag list), retried: every later one went straight to ghcr.io.
    const paths = new Set(broken.requests.map((r) => `${r.method} ${r.path}`));
    expect([...paths]).toEqual(['GET /v2/mir1/homebrew/core/hello/tags/list']);
    expect(broken.requests.length).toBeGreaterThan(1);
    expect(result.stderr.match(/Warning: /g)).toHaveLength(1);
    broken.script([
      { match: {}, fault: { status: 404, body: '{"errors":[{"code":"NAME_UNKNOWN"}]}' } },
    ]);
  });

  it('with HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK, a failing domain is an error and ghcr.io is never asked', async () => {
    const { result } = await pullWith(
      {
        HOMEBREW_ARTIFACT_DOMAIN: `http://${broken.host}/v2/mir1`,
        HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK: '1',
      },
      ['hello'],
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: /m);
    expect(result.stderr).not.toMatch(/Warning: .*failed/);
    expect(ghcr.requests).toEqual([]);
  });
});

describe('HOMEBREW_BOTTLE_DOMAIN', () => {
  it('moves homebrew/core bottles to the domain', async () => {
    const { result, out } = await pullWith(
      { HOMEBREW_BOTTLE_DOMAIN: `http://${fx.host}/v2/mir1/homebrew/core` },
      ['hello'],
    );
    expect(result.code, result.stderr).toBe(0);
    await expectFile(out, hello);
    expect(ghcr.requests).toEqual([]);
  });

  it('falls back to the default domain for a bottle the domain lacks', async () => {
    const { result, out } = await pullWith(
      { HOMEBREW_BOTTLE_DOMAIN: `http://${fx.host}/v2/mir1/homebrew/core` },
      ['solo'],
    );
    expect(result.code, result.stderr).toBe(0);
    await expectFile(out, solo);
    expect(result.stderr).toMatch(/\(HOMEBREW_BOTTLE_DOMAIN\) failed/);
    expect(ghcr.requests.some((r) => r.path.startsWith('/v2/homebrew/core/solo/'))).toBe(true);
  });

  it('refuses a domain that is not an OCI registry, naming it', async () => {
    const { result } = await pullWith(
      { HOMEBREW_BOTTLE_DOMAIN: 'https://mirrors.example.com/homebrew-bottles' },
      ['hello'],
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'HOMEBREW_BOTTLE_DOMAIN="https://mirrors.example.com/homebrew-bottles"',
    );
    expect(ghcr.requests).toEqual([]);
  });
});

describe('Authorization to ghcr.io', () => {
  it('is Bearer QQ== by default and absent with HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN=none', async () => {
    const normal = await pullWith({}, ['hello']);
    expect(normal.result.code, normal.result.stderr).toBe(0);
    expect(new Set(ghcr.requests.map((r) => r.auth))).toEqual(new Set(['Bearer']));
    const none = await pullWith({ HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN: 'none' }, ['hello']);
    expect(none.result.code, none.result.stderr).toBe(0);
    await expectFile(none.out, hello);
    expect(ghcr.requests.length).toBeGreaterThan(0);
    expect(ghcr.requests.map((r) => r.auth)).toEqual(ghcr.requests.map(() => undefined));
  });
});

describe('requests for `bottle pull sqlite` (BENCHMARKS.md)', () => {
  it('lists tags only when no version is given, and fetches the index and the blob', async () => {
    const newest = await pullWith({}, ['sqlite']);
    expect(newest.result.code, newest.result.stderr).toBe(0);
    await expectFile(newest.out, sqlite.get('x86_64_linux')!);
    const withoutVersion = ghcr.requests.map((r) => `${r.method} ${r.path}`);
    const pinned = await pullWith({}, ['sqlite', '--version', '3.40.1']);
    expect(pinned.result.code, pinned.result.stderr).toBe(0);
    const withVersion = ghcr.requests.map((r) => `${r.method} ${r.path}`);
    // Before: tags/list, HEAD of the tag, GET of the index, GET of the chosen bottle's manifest,
    // GET of the blob (5, and 4 with --version). Now brew's two, plus the tag list without a version.
    const blob = `GET /v2/homebrew/core/sqlite/blobs/sha256:${sqlite.get('x86_64_linux')!.sha256}`;
    expect(withoutVersion).toEqual([
      'GET /v2/homebrew/core/sqlite/tags/list',
      'GET /v2/homebrew/core/sqlite/manifests/3.40.1',
      blob,
    ]);
    expect(withVersion).toEqual(['GET /v2/homebrew/core/sqlite/manifests/3.40.1', blob]);
  });
});

describe('bottle push refusals that contact nothing', () => {
  it('a bare tarball for ghcr.io without --namespace asks for it (exit 2)', async () => {
    const result = await fx.run(['bottle', 'push', hello.path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--namespace');
    expect(result.stderr).toContain('homebrew/core');
  });

  it('--dry-run reports the image without contacting the registry', async () => {
    const result = await fx.run([
      'bottle',
      'push',
      hello.path,
      '--registry',
      '127.0.0.1:1',
      '--dry-run',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Would push 127.0.0.1:1/homebrew/core/hello:1.0 (1 bottle)');
  });
});
