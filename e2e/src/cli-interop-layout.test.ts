// ferry's commands on OCI image layouts (--oci-layout), what skopeo makes of those layouts, and
// referrers copied between a registry:2 (no referrers API: the sha256-<hex> tag index) and a layout.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import {
  discoverAll,
  ferryBytes,
  ferryOk,
  ferryOkIn,
  pushedDigest,
  resolveDigest,
  scratch,
  sha256,
  skopeoOk,
  writeImageFiles,
} from './support/interop-tools.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

interface Manifest {
  config: { digest: string };
  layers: { digest: string; annotations?: Record<string, string> }[];
}

let registry: TestRegistry;
let work: string;
const dirs = scratch('layout');

beforeAll(async () => {
  await skopeoOk('--version'); // a missing skopeo fails the file with a clear message
  registry = await startRegistry({ mode: 'anonymous' });
  work = await dirs.make();
  await writeFile(join(work, 'readme.md'), '# layout\n');
  await mkdir(join(work, 'assets'));
  await writeFile(join(work, 'assets', 'a.txt'), 'a\n');
  await writeFile(join(work, 'sbom.json'), '{"spdxVersion":"SPDX-2.3"}\n');
  await writeFile(join(work, 'sig.bin'), 'signature\n');
});

afterAll(async () => {
  await registry?.stop();
  await dirs.cleanup();
});

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

describe('ferry commands on an OCI image layout', () => {
  it('push, pull, repo tags, resolve, manifest fetch, tag, attach, discover, blob fetch', async () => {
    const layout = join(await dirs.make(), 'store');
    const digest = await pushedDigest(
      work,
      'push',
      '--oci-layout',
      `${layout}:v1`,
      'readme.md',
      'assets/',
      '-a',
      'com.example.kind=layout',
    );
    expect(await readJson(join(layout, 'oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = await readJson<{ manifests: { digest: string; annotations?: object }[] }>(
      join(layout, 'index.json'),
    );
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({ digest, annotations: { [REF_NAME]: 'v1' } });

    const out = join(await dirs.make(), 'out');
    const pulled = await ferryOk('pull', '--oci-layout', `${layout}:v1`, '-o', out);
    expect(pulled).toContain(`Pulled [oci-layout] ${layout}:v1\nDigest: ${digest}\n`);
    expect(await readFile(join(out, 'readme.md'), 'utf8')).toBe('# layout\n');
    expect(await readFile(join(out, 'assets', 'a.txt'), 'utf8')).toBe('a\n');

    expect(await resolveDigest('--oci-layout', `${layout}:v1`)).toBe(digest);
    const fetched = await ferryBytes(['manifest', 'fetch', '--oci-layout', `${layout}:v1`]);
    expect(sha256(fetched.stdout)).toBe(digest);
    const blobFile = join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
    expect(fetched.stdout.equals(await readFile(blobFile))).toBe(true);

    await ferryOk('tag', '--oci-layout', `${layout}:v1`, 'stable', 'latest');
    expect(await ferryOk('repo', 'tags', '--oci-layout', layout)).toBe('v1\nstable\nlatest\n');
    expect(await resolveDigest('--oci-layout', `${layout}:stable`)).toBe(digest);
    expect(await resolveDigest('--oci-layout', `${layout}@${digest}`)).toBe(digest);

    const attached = await pushedDigest(
      work,
      'attach',
      '--oci-layout',
      `${layout}:v1`,
      'sbom.json',
      '--artifact-type',
      'application/spdx+json',
    );
    expect(await discoverAll('--oci-layout', `${layout}:latest`)).toEqual([
      `application/spdx+json@${attached}`,
    ]);
    const tree = await ferryOk('discover', '--oci-layout', `${layout}:v1`);
    expect(tree).toBe(`${layout}@${digest}\n└── application/spdx+json\n    └── ${attached}\n`);
    // Referrers are found by digest, not listed as tags.
    expect(await ferryOk('repo', 'tags', '--oci-layout', layout)).toBe('v1\nstable\nlatest\n');

    const manifest = JSON.parse(fetched.stdout.toString()) as Manifest;
    const readme = manifest.layers.find(
      (l) => l.annotations?.['org.opencontainers.image.title'] === 'readme.md',
    );
    expect(readme).toBeDefined();
    const blob = await ferryBytes([
      'blob',
      'fetch',
      '--oci-layout',
      `${layout}@${readme?.digest}`,
      '-o',
      '-',
    ]);
    expect(blob).toMatchObject({ code: 0, stderr: '' });
    expect(blob.stdout.toString()).toBe('# layout\n');

    // skopeo reads the artifact's manifest out of ferry's layout under every tag.
    for (const tag of ['v1', 'stable', 'latest']) {
      const raw = await skopeoOk('inspect', '--raw', `oci:${layout}:${tag}`);
      expect(raw.equals(fetched.stdout)).toBe(true);
    }
  });

  it('an image built with blob push and manifest push --oci-layout is an image to skopeo', async () => {
    const image = await writeImageFiles(work, 'base', { os: 'linux', architecture: 'arm64' });
    const layout = join(await dirs.make(), 'image');
    for (const path of [image.layerPath, image.configPath]) {
      await ferryOk('blob', 'push', '--oci-layout', layout, path);
    }
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: image.configDigest,
          size: (await readFile(image.configPath)).byteLength,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar',
            digest: image.layerDigest,
            size: (await readFile(image.layerPath)).byteLength,
          },
        ],
      }),
    );
    const manifestPath = join(work, 'base.manifest.json');
    await writeFile(manifestPath, manifestBytes);
    const digest = await pushedDigest(
      work,
      'manifest',
      'push',
      '--oci-layout',
      `${layout}:v1,edge`,
      manifestPath,
    );
    expect(digest).toBe(sha256(manifestBytes));
    expect(await ferryOk('repo', 'tags', '--oci-layout', layout)).toBe('v1\nedge\n');

    // An attachment leaves index.json readable to skopeo.
    await ferryOkIn(
      work,
      'attach',
      '--oci-layout',
      `${layout}:v1`,
      'sig.bin',
      '--artifact-type',
      'application/vnd.example.sig',
    );
    for (const tag of ['v1', 'edge']) {
      const raw = await skopeoOk('inspect', '--raw', `oci:${layout}:${tag}`);
      expect(raw.equals(manifestBytes)).toBe(true);
      const fetched = await ferryBytes(['manifest', 'fetch', '--oci-layout', `${layout}:${tag}`]);
      expect(fetched.stdout.equals(raw)).toBe(true);
    }
    const inspected = JSON.parse((await skopeoOk('inspect', `oci:${layout}:v1`)).toString()) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Layers: string[];
    };
    expect(inspected).toEqual(
      expect.objectContaining({
        Digest: digest,
        Architecture: 'arm64',
        Os: 'linux',
        Layers: [image.layerDigest],
      }),
    );

    // skopeo copies out of ferry's layout into its own; ferry reads that one.
    const copy = join(await dirs.make(), 'skopeo-copy');
    await skopeoOk('copy', '--preserve-digests', `oci:${layout}:v1`, `oci:${copy}:v1`);
    expect(await resolveDigest('--oci-layout', `${copy}:v1`)).toBe(digest);
    const layer = await ferryBytes([
      'blob',
      'fetch',
      '--oci-layout',
      `${copy}@${image.layerDigest}`,
      '-o',
      '-',
    ]);
    expect(layer.stdout.equals(await readFile(image.layerPath))).toBe(true);
  });
});

describe('cp -r between a registry and a layout', () => {
  /** An artifact with three referrers of it and one referrer of a referrer. */
  async function artifactWithReferrers(repo: string) {
    const ref = `${registry.host}/${repo}:v1`;
    const subject = await pushedDigest(work, 'push', ref, 'readme.md');
    const attach = (target: string, file: string, type: string, ...more: string[]) =>
      pushedDigest(work, 'attach', target, file, '--artifact-type', type, ...more);
    const sbom = await attach(ref, 'sbom.json', 'application/spdx+json');
    const sig = await attach(ref, 'sig.bin', 'application/vnd.example.sig', '-a', 'k=v');
    const note = await attach(ref, 'readme.md', 'application/vnd.example.note');
    const counter = await attach(
      `${registry.host}/${repo}@${sig}`,
      'sig.bin',
      'application/vnd.example.countersig',
    );
    const expected = [
      `application/spdx+json@${sbom}`,
      `application/vnd.example.countersig@${counter}`,
      `application/vnd.example.note@${note}`,
      `application/vnd.example.sig@${sig}`,
    ].sort();
    expect(await discoverAll(ref)).toEqual(expected);
    return { ref, subject, expected };
  }

  it('copies referrers from the registry into the layout, where discover finds them', async () => {
    const { ref, subject, expected } = await artifactWithReferrers('refs/src');
    const layout = join(await dirs.make(), 'with-referrers');
    const copied = await ferryOk('cp', '-r', ref, `${layout}:v1`, '--to-oci-layout');
    expect(copied).toContain(`Digest: ${subject}\n`);
    expect(await discoverAll('--oci-layout', `${layout}:v1`)).toEqual(expected);
    // Only the tag is listed; skopeo reads the layout.
    expect(await ferryOk('repo', 'tags', '--oci-layout', layout)).toBe('v1\n');
    expect(sha256(await skopeoOk('inspect', '--raw', `oci:${layout}:v1`))).toBe(subject);
  });

  it('copies every referrer back to a registry without the referrers API', async () => {
    const { ref, subject, expected } = await artifactWithReferrers('refs/round');
    const layout = join(await dirs.make(), 'round-trip');
    await ferryOk('cp', '-r', ref, `${layout}:v1`, '--to-oci-layout');
    expect(await discoverAll('--oci-layout', `${layout}:v1`)).toEqual(expected);

    const back = `${registry.host}/refs/back:v1`;
    const copied = await ferryOk('cp', '-r', `${layout}:v1`, back, '--from-oci-layout');
    expect(copied).toContain(`Digest: ${subject}\n`);
    // Sibling referrers are pushed concurrently; each must end up in the sha256-<hex> tag index.
    expect.soft(await discoverAll(back), 'layout → registry').toEqual(expected);

    const mirror = `${registry.host}/refs/mirror:v1`;
    await ferryOk('cp', '-r', ref, mirror);
    expect.soft(await discoverAll(mirror), 'registry → registry').toEqual(expected);
  });
});
