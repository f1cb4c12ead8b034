// `ferry manifest index create` and `update` against registry:2: the index's bytes (Go's field
// order, as ORAS writes them), platforms read from the image configs, --output instead of a
// push, tags, and refusals that leave the registry as it was.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import {
  ferryBytes,
  ferryOk,
  ferryOkIn,
  pushedDigest,
  resolveDigest,
  scratch,
  sha256,
  shortHex,
} from './support/interop-tools.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let registry: TestRegistry;
let work: string;
let repo: string;
const dirs = scratch('index');
interface Pushed {
  digest: string;
  size: number;
}
let amd64: Pushed;
let arm64: Pushed;
let windows: Pushed;
let artifact: Pushed;

/** An image (config + manifest) whose config carries `platform`, tagged `tag`. */
async function pushImage(tag: string, platform: Record<string, unknown>): Promise<Pushed> {
  const config = Buffer.from(
    JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const configPath = join(work, `${tag}.config.json`);
  await writeFile(configPath, config);
  await ferryOk('blob', 'push', repo, configPath);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.byteLength,
      },
      layers: [],
    }),
  );
  const manifestPath = join(work, `${tag}.manifest.json`);
  await writeFile(manifestPath, manifest);
  await ferryOk('manifest', 'push', `${repo}:${tag}`, manifestPath);
  return { digest: sha256(manifest), size: manifest.byteLength };
}

/** What ORAS (Go's encoding/json over image-spec structs) writes for these entries. */
function expectedIndex(entries: string[], extra = '', annotations = ''): Buffer {
  return Buffer.from(
    `{"schemaVersion":2,"mediaType":"${INDEX}"${extra},"manifests":[${entries.join(',')}]${annotations}}`,
  );
}
const entry = (p: Pushed, platform?: string) =>
  `{"mediaType":"${MANIFEST}","digest":"${p.digest}","size":${p.size}${platform ? `,"platform":${platform}` : ''}}`;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  work = await dirs.make();
  repo = `${registry.host}/hello`;
  amd64 = await pushImage('linux-amd64', { architecture: 'amd64', os: 'linux' });
  arm64 = await pushImage('linux-arm64', { architecture: 'arm64', os: 'linux', variant: 'v8' });
  windows = await pushImage('win', {
    architecture: 'amd64',
    os: 'windows',
    'os.version': '10.0.17763.1234',
    'os.features': ['win32k'],
  });
  await writeFile(join(work, 'notes.txt'), 'just a file\n');
  const digest = await pushedDigest(work, 'push', `${repo}:notes`, 'notes.txt');
  const bytes = (await ferryBytes(['manifest', 'fetch', `${repo}@${digest}`])).stdout;
  artifact = { digest, size: bytes.byteLength };
});

afterAll(async () => {
  await registry?.stop();
  await dirs.cleanup();
});

describe('ferry manifest index create', () => {
  it('pushes ORAS’s bytes: platforms from the configs, none for an artifact; tags by comma', async () => {
    const result = JSON.parse(
      await ferryOk(
        'manifest',
        'index',
        'create',
        `${repo}:v1,stable`,
        'linux-amd64',
        arm64.digest,
        'win',
        'notes',
        '-a',
        'org.opencontainers.image.version=1.0',
        '--artifact-type',
        'application/vnd.example.bundle',
        '--format',
        'json',
      ),
    ) as Record<string, unknown>;
    const expected = expectedIndex(
      [
        entry(amd64, '{"architecture":"amd64","os":"linux"}'),
        entry(arm64, '{"architecture":"arm64","os":"linux","variant":"v8"}'),
        entry(
          windows,
          '{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1234","os.features":["win32k"]}',
        ),
        entry(artifact),
      ],
      ',"artifactType":"application/vnd.example.bundle"',
      ',"annotations":{"org.opencontainers.image.version":"1.0"}',
    );
    expect(result).toMatchObject({
      reference: `${repo}@${sha256(expected)}`,
      mediaType: INDEX,
      digest: sha256(expected),
      size: expected.byteLength,
      tags: ['v1', 'stable'],
    });
    const fetched = await ferryBytes(['manifest', 'fetch', `${repo}:v1`]);
    expect(fetched.stdout.toString()).toBe(expected.toString());
    expect(await resolveDigest(`${repo}:stable`)).toBe(sha256(expected));
  });

  it('prints ORAS’s status lines, and pushes by digest without a tag', async () => {
    const out = await ferryOk('manifest', 'index', 'create', repo, 'linux-amd64', arm64.digest);
    const digest = sha256(
      expectedIndex([
        entry(amd64, '{"architecture":"amd64","os":"linux"}'),
        entry(arm64, '{"architecture":"arm64","os":"linux","variant":"v8"}'),
      ]),
    );
    expect(out).toBe(
      [
        'Fetching   linux-amd64',
        `Fetched    ${amd64.digest} linux-amd64`,
        `Fetching   ${arm64.digest}`,
        `Fetched    ${arm64.digest}`,
        `Packed     ${shortHex(digest)} ${INDEX}`,
        `Pushed     [registry] ${repo}@${digest}`,
        `Digest: ${digest}`,
        '',
      ].join('\n'),
    );
    expect(await resolveDigest(`${repo}@${digest}`)).toBe(digest);
  });

  it('--output writes the index (fsync’ed file, or stdout with --pretty) and pushes nothing', async () => {
    const expected = expectedIndex([entry(amd64, '{"architecture":"amd64","os":"linux"}')]);
    const file = join(work, 'index.json');
    const out = await ferryOk(
      'manifest',
      'index',
      'create',
      `${repo}:unpushed`,
      'linux-amd64',
      '--output',
      file,
    );
    expect(out).toContain(`Digest: ${sha256(expected)}\n`);
    expect((await readFile(file)).toString()).toBe(expected.toString());
    const stdout = await ferryBytes([
      'manifest',
      'index',
      'create',
      `${repo}:unpushed`,
      'linux-amd64',
      '--output',
      '-',
      '--pretty',
    ]);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout.toString()).toBe(
      `${JSON.stringify(JSON.parse(expected.toString()), null, 2)}\n`,
    );
    const missing = await ferryBytes(['resolve', `${repo}:unpushed`]);
    expect(missing.code).toBe(1);
  });

  it('refuses a source that is not in the repository, naming it, and pushes nothing', async () => {
    const result = await ferryBytes([
      'manifest',
      'index',
      'create',
      `${repo}:broken`,
      'linux-amd64',
      'nope',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nope');
    expect((await ferryBytes(['resolve', `${repo}:broken`])).code).toBe(1);
  });
});

describe('ferry manifest index update', () => {
  it('removes, adds, merges and annotates; the tag and --tag name the new index', async () => {
    const before = await pushedDigest(
      work,
      'manifest',
      'index',
      'create',
      `${repo}:multi`,
      'linux-amd64',
      'linux-arm64',
    );
    await ferryOk('manifest', 'index', 'create', `${repo}:windows-only`, 'win');
    const out = await ferryOkIn(
      work,
      'manifest',
      'index',
      'update',
      `${repo}:multi`,
      '--remove',
      amd64.digest,
      '--add',
      'notes',
      '--merge',
      'windows-only',
      '-a',
      'com.example=updated',
      '--tag',
      'multi-2',
    );
    const expected = expectedIndex(
      [
        entry(arm64, '{"architecture":"arm64","os":"linux","variant":"v8"}'),
        entry(artifact),
        entry(
          windows,
          '{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1234","os.features":["win32k"]}',
        ),
      ],
      '',
      ',"annotations":{"com.example":"updated"}',
    );
    const digest = sha256(expected);
    expect(out).toContain(`Fetched    ${before} multi\n`);
    expect(out).toContain(`Removed    ${amd64.digest}\n`);
    expect(out).toContain(`Added      ${artifact.digest} notes\n`);
    expect(out).toContain(`Updated    ${digest}\n`);
    expect(out).toContain(`Pushed     [registry] ${repo}:multi\n`);
    expect(out).toContain('Tagged     multi-2\n');
    expect(out.endsWith(`Digest: ${digest}\n`)).toBe(true);
    expect((await ferryBytes(['manifest', 'fetch', `${repo}:multi`])).stdout.toString()).toBe(
      expected.toString(),
    );
    expect(await resolveDigest(`${repo}:multi-2`)).toBe(digest);
    // The old index stays, by digest.
    expect(await resolveDigest(`${repo}@${before}`)).toBe(before);
  });

  it('refuses to remove what the index lacks (exit 1) or a tag (exit 2), changing nothing', async () => {
    const before = await pushedDigest(
      work,
      'manifest',
      'index',
      'create',
      `${repo}:keep`,
      'linux-amd64',
    );
    const absent = await ferryBytes([
      'manifest',
      'index',
      'update',
      `${repo}:keep`,
      '--remove',
      arm64.digest,
    ]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain(`${arm64.digest} does not exist in ${repo}:keep`);
    const tag = await ferryBytes([
      'manifest',
      'index',
      'update',
      `${repo}:keep`,
      '--remove',
      'linux-amd64',
    ]);
    expect(tag.code).toBe(2);
    expect(tag.stderr).toContain('--remove linux-amd64');
    const badTag = await ferryBytes([
      'manifest',
      'index',
      'update',
      `${repo}:keep`,
      '--add',
      'win',
      '--tag',
      'bad!tag',
    ]);
    expect(badTag.code).toBe(2);
    expect(badTag.stderr).toContain('--tag "bad!tag"');
    expect(await resolveDigest(`${repo}:keep`)).toBe(before);
    const notIndex = await ferryBytes([
      'manifest',
      'index',
      'update',
      `${repo}:linux-amd64`,
      '--add',
      'win',
    ]);
    expect(notIndex.code).toBe(1);
    expect(notIndex.stderr).toContain('is not an index');
  });

  it('updates an index named by digest: pushed by digest, tagged only with --tag', async () => {
    const before = await pushedDigest(work, 'manifest', 'index', 'create', repo, 'linux-amd64');
    const out = await ferryOk(
      'manifest',
      'index',
      'update',
      `${repo}@${before}`,
      '--add',
      'linux-arm64',
      '--tag',
      'by-digest',
    );
    const digest = sha256(
      expectedIndex([
        entry(amd64, '{"architecture":"amd64","os":"linux"}'),
        entry(arm64, '{"architecture":"arm64","os":"linux","variant":"v8"}'),
      ]),
    );
    expect(out).toContain(`Fetched    ${before}\n`);
    expect(out).toContain(`Pushed     [registry] ${repo}@${digest}\nTagged     by-digest\n`);
    expect(await resolveDigest(`${repo}:by-digest`)).toBe(digest);
  });

  it('says so when nothing is asked, and --output - prints the updated index only', async () => {
    expect(await ferryOk('manifest', 'index', 'update', `${repo}:keep`)).toBe(
      'Nothing to update as no change is requested\n',
    );
    const result = await ferryBytes([
      'manifest',
      'index',
      'update',
      `${repo}:keep`,
      '--add',
      'win',
      '--output',
      '-',
    ]);
    expect(result.code).toBe(0);
    const index = JSON.parse(result.stdout.toString()) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([amd64.digest, windows.digest]);
  });
});

describe('manifest index on an OCI layout (--oci-layout)', () => {
  it('creates and updates an index of the layout’s manifests, tagging it there', async () => {
    const layout = join(await dirs.make(), 'layout');
    const amd = await pushedDigest(
      work,
      'push',
      '--oci-layout',
      `${layout}:amd`,
      'notes.txt',
      '--artifact-platform',
      'linux/amd64',
    );
    const arm = await pushedDigest(
      work,
      'push',
      '--oci-layout',
      `${layout}:arm`,
      'notes.txt',
      '--artifact-platform',
      'linux/arm64',
    );
    const created = await pushedDigest(
      work,
      'manifest',
      'index',
      'create',
      '--oci-layout',
      `${layout}:idx`,
      'amd',
      'arm',
    );
    const updated = await pushedDigest(
      work,
      'manifest',
      'index',
      'update',
      '--oci-layout',
      `${layout}:idx`,
      '--remove',
      amd,
      '--tag',
      'idx2',
    );
    expect(updated).not.toBe(created);
    expect(await resolveDigest('--oci-layout', `${layout}:idx2`)).toBe(updated);
    expect(await resolveDigest('--oci-layout', `${layout}:idx`)).toBe(updated);
    const index = JSON.parse(
      (await ferryBytes(['manifest', 'fetch', '--oci-layout', `${layout}:idx`])).stdout.toString(),
    ) as { manifests: { digest: string; platform: object }[] };
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: arm, platform: { architecture: 'arm64', os: 'linux' } }),
    ]);
  });
});
