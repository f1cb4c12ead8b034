// `ferry bottle push` of bare tarballs built by the test (the tab read from INSTALL_RECEIPT.json):
// pulled back byte for byte, reproducible indexes, --keep-old merging and refusing, replacement
// without it, and the errors for files ferry cannot publish or formulae it cannot find.
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileSha256, useBottleRegistry, type Index } from './support/bottle-fixture.js';
import { makeTab, writeBottle, type Bottle } from './support/bottle-tarball.js';

const fx = useBottleRegistry('anonymous');
const tab = makeTab({ dependencies: [] });
let work: string;
let linux: Bottle;
let arm: Bottle;
/** The index that --keep-old built from the two bottles. */
let mergedDigest: string | undefined;

const where = () => ['--registry', fx.host];

/** `bottle push … --format json`: the index digests and refs pushed. */
async function push(files: string[], extra: string[] = []) {
  const result = await fx.ok([
    'bottle',
    'push',
    ...files,
    ...where(),
    ...extra,
    '--format',
    'json',
  ]);
  return (
    JSON.parse(result.stdout) as {
      images: { referenceAsTag: string; digest: string; refNames: string[] }[];
    }
  ).images;
}

async function resolve(reference: string): Promise<string> {
  return (await fx.ok(['resolve', `${fx.host}/${reference}`])).stdout.trim();
}

async function infoTags(formula: string): Promise<string[]> {
  const info = JSON.parse(
    (await fx.ok(['bottle', 'info', formula, ...where(), '--format', 'json'])).stdout,
  ) as { bottles: { tag: string }[] };
  return info.bottles.map((b) => b.tag);
}

async function fetchIndex(reference: string): Promise<Index> {
  return JSON.parse(
    (await fx.ok(['manifest', 'fetch', `${fx.host}/${reference}`])).stdout,
  ) as Index;
}

beforeAll(async () => {
  work = await fx.dir('bottles');
  const receipt = { ...tab, poured_from_bottle: false, time: null, installed_on_request: true };
  linux = await writeBottle(work, { name: 'hello', version: '1.0', tag: 'x86_64_linux', receipt });
  arm = await writeBottle(work, {
    name: 'hello',
    version: '1.0',
    tag: 'arm64_linux',
    receipt: { ...receipt, arch: 'arm64' },
  });
});

describe('bottle push of bare tarballs', () => {
  it('publishes an index whose bottle pulls back byte for byte', async () => {
    const [image] = await push([linux.path]);
    expect(image).toMatchObject({
      referenceAsTag: `${fx.host}/homebrew/core/hello:1.0`,
      refNames: ['1.0.x86_64_linux'],
    });
    expect(await resolve('homebrew/core/hello:1.0')).toBe(image?.digest);
    const out = await fx.dir('pull');
    await fx.ok(['bottle', 'pull', 'hello', '--tag', 'x86_64_linux', ...where(), '-o', out]);
    expect(await readdir(out)).toEqual([linux.fileName]);
    expect((await readFile(join(out, linux.fileName))).equals(linux.bytes)).toBe(true);

    const index = await fetchIndex('homebrew/core/hello:1.0');
    const [entry] = index.manifests;
    // The tab is Tab#to_bottle_hash of the receipt: install-time keys such as `time` left out.
    expect(JSON.parse(entry!.annotations['sh.brew.tab']!)).toEqual(tab);
    expect(entry!.annotations).toMatchObject({
      'org.opencontainers.image.ref.name': '1.0.x86_64_linux',
      'sh.brew.bottle.digest': linux.sha256,
      'sh.brew.bottle.size': String(linux.bytes.byteLength),
      'sh.brew.bottle.glibc.version': '2.35',
      'sh.brew.bottle.cpu.variant': 'core2',
    });
    expect(entry!.platform).toEqual({
      architecture: 'amd64',
      os: 'linux',
      'os.version': 'Ubuntu 22.04',
    });
    // Without SOURCE_DATE_EPOCH the date is the tab's source_modified_time, as Time#utc.iso8601.
    expect(index.annotations['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
  });

  it('the same tarball from another directory plans the same index digest (--dry-run)', async () => {
    const before = await resolve('homebrew/core/hello:1.0');
    const elsewhere = await fx.dir('copy');
    await copyFile(linux.path, join(elsewhere, linux.fileName));
    const [again] = await push([join(elsewhere, linux.fileName)], ['--dry-run']);
    expect(again).toMatchObject({ digest: before, dryRun: true });
    expect(await resolve('homebrew/core/hello:1.0')).toBe(before);
  });

  it('an existing version tag is refused as brew pr-upload refuses it; the tag is left alone', async () => {
    const before = await resolve('homebrew/core/hello:1.0');
    const refused = await fx.run(['bottle', 'push', arm.path, ...where()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Error: ${fx.host}/homebrew/core/hello:1.0 already exists!`);
    expect(refused.stdout).not.toMatch(/Uploaded/);
    expect(await resolve('homebrew/core/hello:1.0')).toBe(before);
    // --warn-on-upload-failure: a warning, exit 0, nothing pushed.
    const warned = await fx.run([
      'bottle',
      'push',
      arm.path,
      ...where(),
      '--warn-on-upload-failure',
    ]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain(
      `Warning: ${fx.host}/homebrew/core/hello:1.0 already exists, skipping upload!`,
    );
    expect(warned.stdout).not.toMatch(/Uploaded|Pushed/);
    expect(await resolve('homebrew/core/hello:1.0')).toBe(before);
  });

  it('--keep-old adds a second bottle tag to the existing index', async () => {
    const before = await fetchIndex('homebrew/core/hello:1.0');
    const [merged] = await push([arm.path], ['--keep-old']);
    expect(merged?.refNames).toEqual(['1.0.x86_64_linux', '1.0.arm64_linux']);
    mergedDigest = merged?.digest;
    const [tags, after] = await Promise.all([
      infoTags('hello'),
      fetchIndex('homebrew/core/hello:1.0'),
    ]);
    expect(tags).toEqual(['x86_64_linux', 'arm64_linux']);
    expect(after.manifests[0]).toEqual(before.manifests[0]);
    expect(after.annotations).toEqual(before.annotations);
    expect(after.manifests[1]?.platform?.architecture).toBe('arm64');
    await Promise.all(
      [linux, arm].map(async (bottle) => {
        const out = await fx.dir('both');
        const tag = bottle === linux ? 'x86_64_linux' : 'arm64_linux';
        await fx.ok(['bottle', 'pull', 'hello', '--tag', tag, ...where(), '-o', out]);
        expect(await fileSha256(join(out, bottle.fileName))).toBe(bottle.sha256);
      }),
    );
  });

  it('--keep-old refuses a bottle tag already in the index and leaves the index alone', async () => {
    const before = await resolve('homebrew/core/hello:1.0');
    const refused = await fx.run(['bottle', 'push', linux.path, ...where(), '--keep-old']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: .*x86_64_linux.*already in the image index/m);
    expect(refused.stdout).not.toMatch(/Uploaded/);
    expect(await resolve('homebrew/core/hello:1.0')).toBe(before);
  });

  it('--keep-old without an existing index publishes a new one', async () => {
    const bottle = await writeBottle(work, {
      name: 'fresh',
      version: '2.1',
      tag: 'x86_64_linux',
      receipt: tab,
    });
    const [image] = await push([bottle.path], ['--keep-old']);
    expect(image?.refNames).toEqual(['2.1.x86_64_linux']);
    expect(await infoTags('fresh')).toEqual(['x86_64_linux']);
  });

  it('both tarballs in one push plan the index that --keep-old merged, digest for digest', async () => {
    const [both] = await push([linux.path, arm.path], ['--dry-run']);
    expect(both?.refNames).toEqual(['1.0.x86_64_linux', '1.0.arm64_linux']);
    expect(both?.digest).toBe(mergedDigest);
    expect(await resolve('homebrew/core/hello:1.0')).toBe(mergedDigest);
  });

  it('a rebuild and an @-versioned name map to Homebrew image names and tags', async () => {
    const bottle = await writeBottle(
      work,
      { name: 'hello@2', version: '2.0_1', tag: 'x86_64_linux', receipt: tab },
      'hello@2--2.0_1.x86_64_linux.bottle.1.tar.gz',
    );
    const [image] = await push([bottle.path]);
    expect(image).toMatchObject({
      referenceAsTag: `${fx.host}/homebrew/core/hello/2:2.0_1-1`,
      refNames: ['2.0_1.x86_64_linux.1'],
    });
    const out = await fx.dir('versioned');
    await fx.ok(['bottle', 'pull', 'hello@2', '--tag', 'x86_64_linux', ...where(), '-o', out]);
    expect(await readdir(out)).toEqual([bottle.fileName]);
    expect(await fileSha256(join(out, bottle.fileName))).toBe(bottle.sha256);
  });
});

describe('bottle push of brew bottle --json output for a tap', () => {
  it('publishes under the tap with the source and documentation Homebrew writes', async () => {
    const dir = await fx.dir('tap');
    const bottle = await writeBottle(dir, { name: 'jq', version: '1.7.1', tag: 'x86_64_linux' });
    const json = {
      'someorg/tools/jq': {
        formula: {
          name: 'jq',
          pkg_version: '1.7.1',
          path: 'Formula/jq.rb',
          tap_git_path: 'Formula/jq.rb',
          tap_git_revision: 'abc123',
          tap_git_remote: 'https://github.com/someorg/homebrew-tools',
          desc: 'Lightweight and flexible command-line JSON processor',
          license: 'MIT',
          homepage: 'https://jqlang.github.io/jq/',
        },
        bottle: {
          root_url: 'https://ghcr.io/v2/someorg/tools',
          rebuild: 0,
          date: '2024-01-02',
          tags: {
            x86_64_linux: {
              filename: 'jq-1.7.1.x86_64_linux.bottle.tar.gz',
              local_filename: bottle.fileName,
              sha256: bottle.sha256,
              tab,
              installed_size: 4096,
              path_exec_files: ['bin/jq'],
            },
          },
        },
      },
    };
    const jsonPath = join(dir, 'jq--1.7.1.x86_64_linux.bottle.json');
    await writeFile(jsonPath, JSON.stringify(json, null, 2));
    const [image] = await push([jsonPath]);
    expect(image?.referenceAsTag).toBe(`${fx.host}/someorg/tools/jq:1.7.1`);
    const out = await fx.dir('tap-pull');
    const pull = ['bottle', 'pull', 'someorg/tools/jq', '--tag', 'x86_64_linux', '-o', out];
    await fx.ok([...pull, ...where()]);
    expect(await fileSha256(join(out, bottle.fileName))).toBe(bottle.sha256);
    const index = await fetchIndex('someorg/tools/jq:1.7.1');
    expect(index.manifests[0]!.annotations).toMatchObject({
      'sh.brew.bottle.installed_size': '4096',
      'sh.brew.license': 'MIT',
      'sh.brew.path_exec_files': 'bin/jq',
    });
    expect(index.annotations).toMatchObject({
      'org.opencontainers.image.created': '2024-01-02',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.revision': 'abc123',
      'org.opencontainers.image.title': 'someorg/tools/jq',
      'org.opencontainers.image.vendor': 'someorg',
    });
    // github_packages.rb: source from tap_git_path and tap_git_revision; documentation, for a
    // tap, from tap_git_remote when it is on GitHub.
    expect(index.annotations).toMatchObject({
      'org.opencontainers.image.source':
        'https://github.com/someorg/homebrew-tools/blob/abc123/Formula/jq.rb',
      'org.opencontainers.image.documentation': 'https://github.com/someorg/homebrew-tools',
    });
  });
});

describe('bottle push: where root_url says (brew pr-upload)', () => {
  async function jqJson(version: string, rootUrl: string) {
    const dir = await fx.dir(`root-url-${version}`);
    const bottle = await writeBottle(dir, { name: 'jq', version, tag: 'x86_64_linux' });
    const json = {
      'someorg/tools/jq': {
        formula: {
          name: 'jq',
          pkg_version: version,
          tap_git_path: 'Formula/jq.rb',
          tap_git_revision: 'abc123',
          license: 'MIT',
        },
        bottle: {
          root_url: rootUrl,
          rebuild: 0,
          date: '2026-01-02T03:04:05Z',
          tags: {
            x86_64_linux: { local_filename: bottle.fileName, sha256: bottle.sha256, tab },
          },
        },
      },
    };
    const jsonPath = join(dir, `jq--${version}.x86_64_linux.bottle.json`);
    await writeFile(jsonPath, JSON.stringify(json, null, 2));
    return jsonPath;
  }

  it('takes the host and repository from root_url when no flag names them', async () => {
    const jsonPath = await jqJson('2.0', `http://${fx.host}/v2/OtherOrg/homebrew-bottles`);
    const result = await fx.ok(['bottle', 'push', jsonPath, '--format', 'json']);
    const document = JSON.parse(result.stdout) as {
      images: {
        reference: string;
        referenceAsTag: string;
        digest: string;
        size: number;
        mediaType: string;
      }[];
    };
    const [image] = document.images;
    expect(image?.referenceAsTag).toBe(`${fx.host}/otherorg/bottles/jq:2.0`);
    expect(image?.reference).toBe(`${fx.host}/otherorg/bottles/jq@${image?.digest}`);
    // Every result carries reference, mediaType, digest and size (README, JSON output).
    expect(image?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const fetched = await fx.ok(['manifest', 'fetch', `${fx.host}/otherorg/bottles/jq:2.0`]);
    expect(image?.size).toBe(Buffer.byteLength(fetched.stdout.replace(/\n$/, '')));
    const index = await fetchIndex('otherorg/bottles/jq:2.0');
    expect(index.annotations).toMatchObject({
      'org.opencontainers.image.vendor': 'OtherOrg',
      'org.opencontainers.image.source':
        'https://github.com/OtherOrg/homebrew-bottles/blob/abc123/Formula/jq.rb',
      'org.opencontainers.image.created': '2026-01-02T03:04:05Z',
    });
  });

  it('--root-url replaces the JSON’s root_url, and --namespace wins over both', async () => {
    const jsonPath = await jqJson('2.1', 'https://ghcr.io/v2/someorg/tools');
    const [image] = await push([jsonPath], ['--root-url', `http://${fx.host}/v2/third/tap`]);
    expect(image?.referenceAsTag).toBe(`${fx.host}/third/tap/jq:2.1`);
    expect(
      (await fetchIndex('third/tap/jq:2.1')).annotations['org.opencontainers.image.vendor'],
    ).toBe('third');
    const [named] = await push([jsonPath], ['--namespace', 'fourth/tap']);
    expect(named?.referenceAsTag).toBe(`${fx.host}/fourth/tap/jq:2.1`);
    expect(
      (await fetchIndex('fourth/tap/jq:2.1')).annotations['org.opencontainers.image.source'],
    ).toBe('https://github.com/fourth/homebrew-tap/blob/abc123/Formula/jq.rb');
  });
});

describe('bottle errors', () => {
  it('an unknown formula exits 1 naming its repository', async () => {
    const out = await fx.dir('unknown');
    const results = await Promise.all(
      [
        ['bottle', 'pull', 'no-such-formula', '--tag', 'x86_64_linux', '-o', out],
        ['bottle', 'info', 'no-such-formula'],
      ].map((args) => fx.run([...args, ...where()])),
    );
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${fx.host}/homebrew/core/no-such-formula`);
    }
    expect(await readdir(out)).toEqual([]);
  });

  it('a file not named like a bottle, with no tab, asks for the .bottle.json', async () => {
    const plain = await writeBottle(
      work,
      { name: 'plain', version: '1.0', tag: 'x86_64_linux' },
      'plain.tar.gz',
    );
    const result = await fx.run(['bottle', 'push', plain.path, ...where()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*plain\.tar\.gz .*\.bottle\.json/m);
  });

  it('a bottle-named tarball without INSTALL_RECEIPT.json asks for the .bottle.json', async () => {
    const bare = await writeBottle(work, { name: 'bare', version: '1.0', tag: 'x86_64_linux' });
    const result = await fx.run(['bottle', 'push', bare.path, ...where()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*bare\/1\.0\/INSTALL_RECEIPT\.json.*\.bottle\.json/m);
    const tags = await fx.run(['repo', 'tags', `${fx.host}/homebrew/core/bare`]);
    expect(tags.code).toBe(1);
  });
});
