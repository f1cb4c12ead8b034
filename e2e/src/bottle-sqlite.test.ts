// The real homebrew/core/sqlite:3.40.1 index (seven bottles) republished with `ferry bottle push`
// from `brew bottle --json`-style files over generated tarballs, then inspected and pulled back for
// every bottle tag, with Homebrew's macOS fallbacks, and through Homebrew's own environment
// (HOMEBREW_ARTIFACT_DOMAIN, HOMEBREW_DOCKER_REGISTRY_TOKEN).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  entryTag,
  fileSha256,
  fixtureJson,
  useBottleRegistry,
  writeSqliteBottleJson,
  type Index,
  type Republished,
} from './support/bottle-fixture.js';

const fx = useBottleRegistry('anonymous');
let sqlite: Republished;
let indexDigest: string;
let refNames: string[];

const core = () => ['--registry', fx.host];

beforeAll(async () => {
  sqlite = await writeSqliteBottleJson(await fx.dir('sqlite'));
  const pushed = await fx.ok([
    'bottle',
    'push',
    sqlite.jsonPath,
    '--registry',
    fx.host,
    '--namespace',
    'homebrew/core',
    '--format',
    'json',
  ]);
  const [image] = (
    JSON.parse(pushed.stdout) as {
      images: { digest: string; referenceAsTag: string; refNames: string[] }[];
    }
  ).images;
  expect(image?.referenceAsTag).toBe(`${fx.host}/homebrew/core/sqlite:3.40.1`);
  indexDigest = image?.digest ?? '';
  refNames = image?.refNames ?? [];
});

/**
 * `ferry bottle pull sqlite --tag <tag>` into a fresh directory and the files it wrote; from
 * `--registry <local>`, or with `env` alone (the default registry, ghcr.io) when env is given.
 */
async function pullTag(tag: string, env?: NodeJS.ProcessEnv, extra: string[] = []) {
  const out = await fx.dir(`pull-${tag}`);
  const where = env ? [] : core();
  const args = ['bottle', 'pull', 'sqlite', '--tag', tag, '-o', out, ...where, ...extra];
  const result = await fx.run(args, env ? { env } : {});
  const files = result.code === 0 ? await readdir(out) : [];
  return { result, out, files };
}

describe('the sqlite 3.40.1 index, republished', () => {
  it('push names the index and its seven per-platform refs', async () => {
    expect(indexDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(refNames).toEqual(
      sqlite.fixture.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']),
    );
    expect((await fx.ok(['resolve', `${fx.host}/homebrew/core/sqlite:3.40.1`])).stdout.trim()).toBe(
      indexDigest,
    );
  });

  it('bottle info lists the seven tags with the fixture platforms and the generated digests', async () => {
    const info = JSON.parse(
      (await fx.ok(['bottle', 'info', 'sqlite', ...core(), '--format', 'json'])).stdout,
    ) as {
      digest: string;
      imageTag: string;
      bottles: { tag: string; platform?: Record<string, string>; digest: string; size: number }[];
    };
    expect(info.digest).toBe(indexDigest);
    expect(info.imageTag).toBe('3.40.1');
    expect(info.bottles.map((b) => b.tag)).toEqual([...sqlite.bottles.keys()]);
    for (const [i, entry] of sqlite.fixture.manifests.entries()) {
      const bottle = sqlite.bottles.get(entryTag(entry, '3.40.1'))!;
      expect(info.bottles[i]).toMatchObject({
        platform: entry.platform,
        digest: `sha256:${bottle.sha256}`,
        size: bottle.bytes.byteLength,
      });
    }
    const text = (await fx.ok(['bottle', 'info', 'sqlite', ...core()])).stdout;
    expect(text).toContain(`${fx.host}/homebrew/core/sqlite:3.40.1  (index ${indexDigest})`);
    expect(text).toContain('Command-line interface for SQLite');
    for (const entry of sqlite.fixture.manifests) {
      const platform = `${entry.platform?.os}/${entry.platform?.architecture}`;
      expect(text).toMatch(new RegExp(`^${entryTag(entry, '3.40.1')} +${platform} `, 'm'));
    }
  });

  it('bottle pull --tag <t> writes each of the seven bottles under its fixture title', async () => {
    const pulled = await Promise.all(
      [...sqlite.bottles].map(async ([tag, bottle]) => ({ tag, bottle, ...(await pullTag(tag)) })),
    );
    for (const { tag, bottle, result, out, files } of pulled) {
      expect(result.code, result.stderr).toBe(0);
      expect(files).toEqual([`sqlite--3.40.1.${tag}.bottle.tar.gz`]);
      expect(await fileSha256(join(out, files[0]!))).toBe(bottle.sha256);
    }
  });

  it("falls back to the newest older macOS of the host's architecture", async () => {
    const arm = await pullTag('arm64_sequoia');
    expect(arm.result.code, arm.result.stderr).toBe(0);
    expect(arm.files).toEqual(['sqlite--3.40.1.arm64_ventura.bottle.tar.gz']);
    expect(await fileSha256(join(arm.out, arm.files[0]!))).toBe(
      sqlite.bottles.get('arm64_ventura')!.sha256,
    );
    const intel = await pullTag('sequoia');
    expect(intel.result.code, intel.result.stderr).toBe(0);
    expect(intel.files).toEqual(['sqlite--3.40.1.ventura.bottle.tar.gz']);
    expect(await fileSha256(join(intel.out, intel.files[0]!))).toBe(
      sqlite.bottles.get('ventura')!.sha256,
    );
  });

  it('has no fallback on Linux: arm64_linux exits 1 naming the available tags', async () => {
    const { result, out } = await pullTag('arm64_linux');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no bottle for arm64_linux');
    for (const tag of sqlite.bottles.keys()) expect(result.stderr).toContain(tag);
    expect(await readdir(out)).toEqual([]);
  });

  it("the index carries the fixture's annotation keys (licenses for today's license key)", async () => {
    const index = JSON.parse(
      (await fx.ok(['manifest', 'fetch', `${fx.host}/homebrew/core/sqlite:3.40.1`])).stdout,
    ) as Index;
    const fixture = sqlite.fixture;
    // Homebrew 3.6 wrote org.opencontainers.image.license; github_packages.rb now writes licenses.
    const expectedKeys = Object.keys(fixture.annotations)
      .map((key) => (key === 'org.opencontainers.image.license' ? `${key}s` : key))
      .sort();
    expect(index.annotations).toMatchObject({
      'com.github.package.type': 'homebrew_bottle',
      'org.opencontainers.image.created': '2022-12-30',
      'org.opencontainers.image.description': 'Command-line interface for SQLite',
      'org.opencontainers.image.documentation': 'https://formulae.brew.sh/formula/sqlite',
      'org.opencontainers.image.licenses': 'blessing',
      'org.opencontainers.image.ref.name': '3.40.1',
      'org.opencontainers.image.revision': fixture.annotations['org.opencontainers.image.revision'],
      'org.opencontainers.image.title': 'sqlite',
      'org.opencontainers.image.url': 'https://sqlite.org/index.html',
      'org.opencontainers.image.vendor': 'homebrew',
      'org.opencontainers.image.version': '3.40.1',
    });
    expect(index.manifests.map((m) => m.platform)).toEqual(
      fixture.manifests.map((m) => m.platform),
    );
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(
      fixture.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']),
    );
    // Today's Homebrew adds sh.brew.bottle.size and sh.brew.license to every entry.
    const linux = (i: Index) => i.manifests.find((m) => m.platform?.os === 'linux')!;
    expect(Object.keys(linux(index).annotations).sort()).toEqual(
      [...Object.keys(linux(fixture).annotations), 'sh.brew.bottle.size', 'sh.brew.license'].sort(),
    );
    expect(linux(index).annotations).toMatchObject({
      'sh.brew.bottle.cpu.variant': 'core2',
      'sh.brew.bottle.glibc.version': '2.35',
      'sh.brew.tab': linux(fixture).annotations['sh.brew.tab'],
    });
    // github_packages.rb always writes the source (from tap_git_path and tap_git_revision).
    expect(Object.keys(index.annotations).sort()).toEqual(expectedKeys);
    expect(index.annotations['org.opencontainers.image.source']).toBe(
      fixture.annotations['org.opencontainers.image.source'],
    );
  });

  it("the Linux manifest carries the fixture manifest's annotation keys", async () => {
    const index = JSON.parse(
      (await fx.ok(['manifest', 'fetch', `${fx.host}/homebrew/core/sqlite:3.40.1`])).stdout,
    ) as Index;
    const entry = index.manifests.find((m) => m.platform?.os === 'linux')!;
    const manifest = JSON.parse(
      (await fx.ok(['manifest', 'fetch', `${fx.host}/homebrew/core/sqlite@${entry.digest}`]))
        .stdout,
    ) as { layers: { digest: string; annotations: Record<string, string> }[] } & Index;
    const fixture = fixtureJson<typeof manifest>('sqlite-3.40.1.x86_64_linux.manifest.json');
    expect(manifest.layers).toEqual([
      expect.objectContaining({
        digest: `sha256:${sqlite.bottles.get('x86_64_linux')!.sha256}`,
        annotations: fixture.layers[0]!.annotations,
      }),
    ]);
    expect(manifest.annotations['org.opencontainers.image.title']).toBe(
      'sqlite 3.40.1.x86_64_linux',
    );
    const expected = Object.keys(fixture.annotations)
      .map((key) => (key === 'org.opencontainers.image.license' ? `${key}s` : key))
      .concat('sh.brew.bottle.size', 'sh.brew.license')
      .sort();
    expect(Object.keys(manifest.annotations)).toEqual(expected);
  });
});

/** The request lines of a --debug trace. */
const requestsOf = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('[debug] > '));

describe("Homebrew's environment", () => {
  it('HOMEBREW_ARTIFACT_DOMAIN sends the default ghcr.io registry to the mirror', async () => {
    // No fallback: a failing mirror must never send this test to the real ghcr.io.
    const env = {
      HOMEBREW_ARTIFACT_DOMAIN: `http://${fx.host}`,
      HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK: '1',
    };
    const { result, out, files } = await pullTag('x86_64_linux', env, ['--debug']);
    expect(result.code, result.stderr).toBe(0);
    expect(files).toEqual(['sqlite--3.40.1.x86_64_linux.bottle.tar.gz']);
    expect(await fileSha256(join(out, files[0]!))).toBe(sqlite.bottles.get('x86_64_linux')!.sha256);
    const requests = requestsOf(result.stderr);
    expect(requests.length).toBeGreaterThan(0);
    for (const line of requests) {
      expect(
        line.startsWith(`[debug] > GET http://${fx.host}/v2/homebrew/core/sqlite/`) ||
          line.startsWith(`[debug] > HEAD http://${fx.host}/v2/homebrew/core/sqlite/`),
        line,
      ).toBe(true);
    }
    expect(result.stderr).not.toContain('ghcr.io');
    // A private mirror gets no Homebrew token: not even the anonymous QQ==.
    expect(result.stderr).not.toMatch(/authorization:/i);
  });

  it('HOMEBREW_DOCKER_REGISTRY_TOKEN is sent as a Bearer token, redacted in --debug', async () => {
    const token = 'hbtok-5ecret-value-0042';
    const env = {
      HOMEBREW_ARTIFACT_DOMAIN: `http://${fx.host}`,
      HOMEBREW_ARTIFACT_DOMAIN_NO_FALLBACK: '1',
      HOMEBREW_DOCKER_REGISTRY_TOKEN: token,
    };
    const { result, files } = await pullTag('x86_64_linux', env, ['--debug']);
    expect(result.code, result.stderr).toBe(0);
    expect(files).toEqual(['sqlite--3.40.1.x86_64_linux.bottle.tar.gz']);
    const requests = requestsOf(result.stderr);
    expect(requests[0]).toContain('authorization: Bearer REDACTED');
    for (const line of requests) expect(line).toContain('authorization: Bearer REDACTED');
    expect(result.stderr).not.toContain(token);
    expect(result.stdout).not.toContain(token);
  });
});
