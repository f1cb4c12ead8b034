// ORAS 1.3 flags on existing commands, against registry:2: discover --format table, --descriptor
// and --pretty, manifest fetch --media-type, --concurrency on manifest push and tag, pull
// --include-subject, attach --config, and --artifact-platform on push and attach.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
} from './support/interop-tools.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let registry: TestRegistry;
let work: string;
let repo: string;
let v1: string;
const dirs = scratch('flags');

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  work = await dirs.make();
  repo = `${registry.host}/flags`;
  await writeFile(join(work, 'a.txt'), 'subject file\n');
  await writeFile(join(work, 'sig.txt'), 'a signature\n');
  await writeFile(join(work, 'sbom.json'), '{"sbom":true}\n');
  v1 = await pushedDigest(work, 'push', `${repo}:v1`, 'a.txt');
});

afterAll(async () => {
  await registry?.stop();
  await dirs.cleanup();
});

describe('discover --format table', () => {
  it('prints ORAS’s summary, subject digest and Artifact Type / Digest columns', async () => {
    const subject = await pushedDigest(work, 'push', `${repo}:table`, 'a.txt', '-a', 'k=table');
    const sig = await pushedDigest(
      work,
      'attach',
      `${repo}:table`,
      'sig.txt',
      '--artifact-type',
      'application/vnd.example.signature.with.a.long.name',
    );
    const sbom = await pushedDigest(
      work,
      'attach',
      `${repo}:table`,
      'sbom.json',
      '--artifact-type',
      'application/spdx+json',
    );
    const out = await ferryOk('discover', `${repo}:table`, '--format', 'table');
    const type = 'application/vnd.example.signature.with.a.long.name';
    const rows = [
      [type, sig],
      ['application/spdx+json', sbom],
    ].sort((a, b) => ((a[1] ?? '') < (b[1] ?? '') ? -1 : 1));
    const pad = (left: string) => left + ' '.repeat(type.length - left.length + 3);
    const got = out.split('\n');
    expect(got.slice(0, 4)).toEqual([
      `Discovered 2 artifacts referencing ${repo}:table`,
      `Digest: ${subject}`,
      '',
      `${pad('Artifact Type')}Digest`,
    ]);
    expect(got.slice(4, 6).sort()).toEqual(rows.map(([t, d]) => `${pad(t ?? '')}${d}`).sort());
    const none = await ferryOk('discover', `${repo}:v1`, '--format', 'table');
    expect(none).toBe(`Discovered 0 artifact referencing ${repo}:v1\nDigest: ${v1}\n`);
  });
});

describe('--descriptor and --pretty', () => {
  it('manifest fetch, push and delete, and blob push print the bare descriptor', async () => {
    const fetched = await ferryOk('manifest', 'fetch', `${repo}:v1`, '--descriptor', '--pretty');
    const size = (await ferryBytes(['manifest', 'fetch', `${repo}:v1`])).stdout.byteLength;
    const expected = { mediaType: MANIFEST, digest: v1, size };
    expect(fetched).toBe(`${JSON.stringify(expected, null, 2)}\n`);
    expect(await ferryOk('manifest', 'fetch', `${repo}:v1`, '--descriptor')).toBe(
      `${JSON.stringify(expected)}\n`,
    );

    const manifestPath = join(work, 'm.json');
    await writeFile(manifestPath, (await ferryBytes(['manifest', 'fetch', `${repo}:v1`])).stdout);
    const pushed = await ferryOk(
      'manifest',
      'push',
      `${repo}:copy1,copy2,copy3`,
      manifestPath,
      '--descriptor',
      '--concurrency',
      '2',
    );
    expect(pushed).toBe(`${JSON.stringify(expected)}\n`);
    for (const tag of ['copy1', 'copy2', 'copy3']) {
      expect(await resolveDigest(`${repo}:${tag}`)).toBe(v1);
    }

    const blob = join(work, 'blob.bin');
    await writeFile(blob, 'blob bytes\n');
    const blobOut = await ferryOk('blob', 'push', repo, blob, '--descriptor', '--pretty');
    expect(JSON.parse(blobOut)).toEqual({
      mediaType: 'application/octet-stream',
      digest: sha256('blob bytes\n'),
      size: 11,
    });
    expect(blobOut).toContain('\n  "digest"');

    await writeFile(join(work, 'gone.txt'), 'to be deleted\n');
    const gone = await pushedDigest(work, 'push', `${repo}:gone`, 'gone.txt');
    const deleted = await ferryOk('manifest', 'delete', `${repo}:gone`, '--force', '--descriptor');
    expect(JSON.parse(deleted)).toMatchObject({ mediaType: MANIFEST, digest: gone });
    expect((await ferryBytes(['resolve', `${repo}@${gone}`])).code).toBe(1);
  });
});

describe('manifest fetch --media-type', () => {
  it('fetches a manifest of an accepted type and refuses another, naming both', async () => {
    const ok = await ferryBytes([
      'manifest',
      'fetch',
      `${repo}:v1`,
      '--media-type',
      `application/vnd.oci.image.index.v1+json,${MANIFEST}`,
    ]);
    expect(ok.code).toBe(0);
    expect(sha256(ok.stdout)).toBe(v1);
    const refused = await ferryBytes([
      'manifest',
      'fetch',
      `${repo}:v1`,
      '--media-type',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `is a ${MANIFEST}, not one of the accepted --media-type application/vnd.docker.distribution.manifest.v2+json`,
    );
    expect(refused.stdout.byteLength).toBe(0);
  });
});

describe('tag --concurrency', () => {
  it('points every tag, printing them in the order given', async () => {
    const out = await ferryOk('tag', `${repo}:v1`, 't1', 't2', 't3', 't4', '--concurrency', '2');
    expect(out).toBe(
      ['t1', 't2', 't3', 't4'].map((t) => `Tagged     ${t}\n`).join('') + `Digest: ${v1}\n`,
    );
    for (const tag of ['t1', 't2', 't3', 't4'])
      expect(await resolveDigest(`${repo}:${tag}`)).toBe(v1);
    const bad = await ferryBytes(['tag', `${repo}:v1`, 't5', '--concurrency', '0']);
    expect(bad.code).toBe(2);
  });
});

describe('pull --include-subject', () => {
  it('pulls the referrer’s files and its subject’s, recursively; without the flag only its own', async () => {
    const sig = await pushedDigest(
      work,
      'attach',
      `${repo}:v1`,
      'sig.txt',
      '--artifact-type',
      'application/vnd.example.sig',
    );
    const onSig = await pushedDigest(
      work,
      'attach',
      `${repo}@${sig}`,
      'sbom.json',
      '--artifact-type',
      'application/spdx+json',
    );
    const all = await dirs.make();
    const out = await ferryOk('pull', `${repo}@${onSig}`, '-o', all, '--include-subject');
    expect(out).toContain(`Digest: ${onSig}\n`);
    expect(await readFile(join(all, 'sbom.json'), 'utf8')).toBe('{"sbom":true}\n');
    expect(await readFile(join(all, 'sig.txt'), 'utf8')).toBe('a signature\n');
    expect(await readFile(join(all, 'a.txt'), 'utf8')).toBe('subject file\n');
    const own = await dirs.make();
    await ferryOk('pull', `${repo}@${onSig}`, '-o', own);
    await expect(readFile(join(own, 'a.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('attach --config and --artifact-platform; push --artifact-platform', () => {
  interface Manifest {
    artifactType?: string;
    config: { mediaType: string; digest: string; size: number };
  }
  const manifestOf = async (ref: string) =>
    JSON.parse((await ferryBytes(['manifest', 'fetch', ref])).stdout.toString()) as Manifest;

  it('push --artifact-platform: an image config with the platform; index create reads it', async () => {
    const amd = await pushedDigest(
      work,
      'push',
      `${repo}:p-amd64`,
      'a.txt',
      '--artifact-platform',
      'linux/amd64',
    );
    const arm = await pushedDigest(
      work,
      'push',
      `${repo}:p-arm`,
      'a.txt',
      '--artifact-platform',
      'linux/arm/v7',
    );
    const manifest = await manifestOf(`${repo}@${amd}`);
    const config = '{"architecture":"amd64","os":"linux"}';
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    });
    expect(manifest.artifactType).toBe('application/vnd.unknown.artifact.v1');
    const fetched = await ferryBytes(['manifest', 'fetch-config', `${repo}@${amd}`]);
    expect(fetched.stdout.toString()).toBe(config);
    const index = JSON.parse(
      await ferryOk(
        'manifest',
        'index',
        'create',
        `${repo}:p-index`,
        'p-amd64',
        'p-arm',
        '--output',
        '-',
      ),
    ) as { manifests: { digest: string; platform?: object }[] };
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: amd, platform: { architecture: 'amd64', os: 'linux' } }),
      expect.objectContaining({
        digest: arm,
        platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
      }),
    ]);
    const both = await ferryBytes([
      'push',
      `${repo}:bad`,
      join(work, 'a.txt'),
      '--artifact-platform',
      'linux/amd64',
      '--config',
      join(work, 'sbom.json'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--config and --artifact-platform cannot both be given');
  });

  it('attach --config uses the file (with its media type); attach --artifact-platform the platform', async () => {
    const withConfig = await pushedDigest(
      work,
      'attach',
      `${repo}:v1`,
      'sig.txt',
      '--artifact-type',
      'application/vnd.example.c',
      '--config',
      'sbom.json:application/vnd.example.config+json',
    );
    expect((await manifestOf(`${repo}@${withConfig}`)).config).toEqual({
      mediaType: 'application/vnd.example.config+json',
      digest: sha256('{"sbom":true}\n'),
      size: 14,
    });
    const withPlatform = await pushedDigest(
      work,
      'attach',
      `${repo}:v1`,
      'sig.txt',
      '--artifact-type',
      'application/vnd.example.p',
      '--artifact-platform',
      'windows/amd64:10.0.17763',
    );
    const manifest = await manifestOf(`${repo}@${withPlatform}`);
    const config = '{"architecture":"amd64","os":"windows","os.version":"10.0.17763"}';
    expect(manifest.config).toMatchObject({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
    });
    expect(manifest.artifactType).toBe('application/vnd.example.p');
  });
});

void mkdir;
void ferryOkIn;
