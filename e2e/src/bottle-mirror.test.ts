// `ferry bottle mirror`: bottle images copied under a prefix with every digest kept and every
// image at its ghcr.io path (what HOMEBREW_ARTIFACT_DOMAIN=<registry>/v2/<prefix> finds), idempotent, a --tag subset, and --with-deps following
// the tabs through a chain zed → libz → zstd where each tab lists only its direct dependency.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileSha256, useBottleRegistry, type Index } from './support/bottle-fixture.js';
import { makeTab, writeBottle, type Bottle, type Dependency } from './support/bottle-tarball.js';

const fx = useBottleRegistry('anonymous');
const TAGS = ['x86_64_linux', 'arm64_sonoma'] as const;
/** Formula → its bottles by tag. */
const bottles = new Map<string, Map<string, Bottle>>();
/** `homebrew/core/<name>:<version>` → the index digest `bottle push` reported. */
const sources = new Map<string, string>();

interface Mirrored {
  referenceAsTag: string;
  digest: string;
  size: number;
  source: string;
  bottleTags: string[];
  transferred: number;
}

const mirrorArgs = (formula: string, to: string, extra: string[]) => [
  'bottle',
  'mirror',
  formula,
  '--to',
  `${fx.host}/${to}`,
  '--registry',
  fx.host,
  ...extra,
];

/** `bottle mirror` that must succeed; its text output. */
async function mirror(formula: string, to: string, extra: string[] = []): Promise<string> {
  return (await fx.ok(mirrorArgs(formula, to, extra))).stdout;
}

async function mirrorJson(formula: string, to: string, extra: string[] = []): Promise<Mirrored[]> {
  const result = await fx.ok(mirrorArgs(formula, to, [...extra, '--format', 'json']));
  return (JSON.parse(result.stdout) as { images: Mirrored[] }).images;
}

async function resolve(reference: string): Promise<string> {
  return (await fx.ok(['resolve', `${fx.host}/${reference}`])).stdout.trim();
}

async function pushFormula(name: string, version: string, dependencies: Dependency[]) {
  const dir = await fx.dir(name);
  const byTag = new Map<string, Bottle>();
  for (const tag of TAGS) {
    const linux = tag === 'x86_64_linux';
    const receipt = makeTab({
      arch: linux ? 'x86_64' : 'arm64',
      os: linux ? 'Linux' : 'Macintosh',
      dependencies,
    });
    byTag.set(tag, await writeBottle(dir, { name, version, tag, receipt }));
  }
  bottles.set(name, byTag);
  const paths = [...byTag.values()].map((b) => b.path);
  const pushed = await fx.ok([
    'bottle',
    'push',
    ...paths,
    '--registry',
    fx.host,
    '--format',
    'json',
  ]);
  const [image] = (JSON.parse(pushed.stdout) as { images: { digest: string }[] }).images;
  sources.set(`homebrew/core/${name}:${version}`, image!.digest);
}

beforeAll(async () => {
  await Promise.all([
    pushFormula('zstd', '1.5.6', []),
    pushFormula('libz', '1.3', [{ name: 'zstd', version: '1.5.6' }]),
    pushFormula('zed', '0.9', [{ name: 'libz', version: '1.3' }]),
  ]);
});

describe('bottle mirror', () => {
  it('copies the index byte for byte: the mirror tag names the source digest', async () => {
    const source = sources.get('homebrew/core/zed:0.9');
    expect(await resolve('homebrew/core/zed:0.9')).toBe(source);
    const [image] = await mirrorJson('zed', 'mirror');
    expect(image).toMatchObject({
      referenceAsTag: `${fx.host}/mirror/homebrew/core/zed:0.9`,
      source: `${fx.host}/homebrew/core/zed:0.9`,
      digest: source,
      bottleTags: [...TAGS],
    });
    expect(image?.transferred).toBeGreaterThan(0);
    expect(await resolve('mirror/homebrew/core/zed:0.9')).toBe(source);
    await Promise.all(
      TAGS.map(async (tag) => {
        const out = await fx.dir(`mirror-${tag}`);
        const pull = ['bottle', 'pull', 'zed', '--tag', tag, '-o', out];
        await fx.ok([...pull, '--registry', fx.host, '--namespace', 'mirror/homebrew/core']);
        const bottle = bottles.get('zed')!.get(tag)!;
        expect(await fileSha256(join(out, bottle.fileName))).toBe(bottle.sha256);
      }),
    );
  });

  it('a second run is already up to date and transfers nothing', async () => {
    const text = await mirror('zed', 'mirror');
    expect(text).toContain('already up to date');
    expect(text).not.toMatch(/^(Copied|Mounted) /m);
    const [again] = await mirrorJson('zed', 'mirror');
    expect(again?.transferred).toBe(0);
  });

  it('every JSON result has reference, mediaType, digest and size: mirror’s and info’s too', async () => {
    const source = sources.get('homebrew/core/zed:0.9');
    const [[image], fetched, infoResult] = await Promise.all([
      mirrorJson('zed', 'mirror'),
      fx.ok(['manifest', 'fetch', `${fx.host}/mirror/homebrew/core/zed:0.9`]),
      fx.ok(['bottle', 'info', 'zed', '--registry', fx.host, '--format', 'json']),
    ]);
    const indexSize = Buffer.byteLength(fetched.stdout.replace(/\n$/, ''));
    expect(image).toMatchObject({ digest: source, size: indexSize });
    const info = JSON.parse(infoResult.stdout) as { digest: string; size: number };
    expect(info).toMatchObject({ digest: source, size: indexSize });
  });

  it('--tag mirrors a subset: an index listing only that bottle', async () => {
    const fetchIndex = async (reference: string) =>
      JSON.parse((await fx.ok(['manifest', 'fetch', `${fx.host}/${reference}`])).stdout) as Index;
    const [image] = await mirrorJson('zed', 'subset', ['--tag', 'x86_64_linux']);
    expect(image?.bottleTags).toEqual(['x86_64_linux']);
    const info = [
      'bottle',
      'info',
      'zed',
      '--registry',
      fx.host,
      '--namespace',
      'subset/homebrew/core',
    ];
    const [source, subset, digest, infoResult, missing] = await Promise.all([
      fetchIndex('homebrew/core/zed:0.9'),
      fetchIndex('subset/homebrew/core/zed:0.9'),
      resolve('subset/homebrew/core/zed:0.9'),
      fx.ok([...info, '--format', 'json']),
      fx.run(mirrorArgs('zed', 'subset', ['--tag', 'arm64_linux'])),
    ]);
    expect(digest).toBe(image?.digest);
    expect(subset.annotations).toEqual(source.annotations);
    expect(subset.manifests).toEqual([source.manifests.find((m) => m.platform?.os === 'linux')]);
    const tags = (JSON.parse(infoResult.stdout) as { bottles: { tag: string }[] }).bottles;
    expect(tags.map((b) => b.tag)).toEqual(['x86_64_linux']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('arm64_linux');
    expect(missing.stderr).toContain('x86_64_linux, arm64_sonoma');
  });

  it('--with-deps mirrors the dependency images recursively, digests kept', async () => {
    const mirrored = await mirrorJson('zed', 'deps', ['--with-deps']);
    const images = ['zed:0.9', 'libz:1.3', 'zstd:1.5.6'];
    expect(mirrored.map((i) => i.referenceAsTag).sort()).toEqual(
      [...images].sort().map((r) => `${fx.host}/deps/homebrew/core/${r}`),
    );
    const digests = await Promise.all(
      images.map((image) => resolve(`deps/homebrew/core/${image}`)),
    );
    expect(digests).toEqual(images.map((image) => sources.get(`homebrew/core/${image}`)));
    for (const image of mirrored) {
      expect(image.digest).toBe(sources.get(image.source.slice(fx.host.length + 1)));
    }
  });
});
