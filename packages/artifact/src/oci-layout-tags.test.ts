/** OciLayoutTarget: tags in index.json, referrers and delete. Blobs and opening: oci-layout.test.ts. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Annotation, MediaType, computeDigest, type Descriptor } from '@ferry/oci';
import { OciLayoutTarget } from './oci-layout.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-oci-layout-'));
  dirs.push(dir);
  return dir;
}

async function layout(): Promise<OciLayoutTarget> {
  return OciLayoutTarget.open(join(await tempDir(), 'layout'));
}

function describeBytes(
  bytes: Uint8Array,
  mediaType: string = MediaType.OctetStream,
  algorithm: 'sha256' | 'sha512' = 'sha256',
): Descriptor {
  return { mediaType, digest: computeDigest(bytes, algorithm), size: bytes.byteLength };
}

/** Pushes a blob, a config and a manifest (with an optional subject); returns all three. */
async function pushImage(target: OciLayoutTarget, text: string, extra: object = {}) {
  const layerBytes = Buffer.from(text);
  const layer = describeBytes(layerBytes, MediaType.OciLayer);
  const configBytes = Buffer.from('{}');
  const config = describeBytes(configBytes, MediaType.OciEmpty);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config,
      layers: [layer],
      ...extra,
    }),
  );
  const manifest = describeBytes(manifestBytes, MediaType.OciManifest);
  await target.push(layer, layerBytes);
  await target.push(config, configBytes);
  await target.push(manifest, manifestBytes);
  return { layer, config, manifest, manifestBytes };
}

async function indexJson(target: OciLayoutTarget): Promise<{ manifests: Descriptor[] }> {
  return JSON.parse(await readFile(join(target.dir, 'index.json'), 'utf8'));
}

describe('tags', () => {
  it('tags, resolves, lists and replaces, writing the entries skopeo and ORAS write', async () => {
    const target = await layout();
    const a = await pushImage(target, 'a');
    const b = await pushImage(target, 'b');
    for (const tag of ['latest', 'v1.0', '3.40.1.x86_64_linux']) await target.tag(a.manifest, tag);
    expect(await target.tags()).toEqual(['latest', 'v1.0', '3.40.1.x86_64_linux']);
    const resolved = await target.resolve('v1.0');
    expect(resolved).toEqual({ ...a.manifest, annotations: { [Annotation.RefName]: 'v1.0' } });

    await target.tag(b.manifest, 'latest');
    expect(await target.tags()).toEqual(['v1.0', '3.40.1.x86_64_linux', 'latest']);
    expect((await target.resolve('latest')).digest).toBe(b.manifest.digest);
    expect((await indexJson(target)).manifests).toHaveLength(3);
  });

  it('keeps platform and artifactType but not other annotations, and other index fields', async () => {
    const target = await layout();
    const { manifest } = await pushImage(target, 'p');
    const indexPath = join(target.dir, 'index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    await writeFile(indexPath, JSON.stringify({ ...index, annotations: { keep: 'me' } }));
    const platform = { architecture: 'arm64', os: 'linux' };
    const artifactType = 'application/vnd.example+type';
    await target.tag({ ...manifest, platform, artifactType, annotations: { x: 'y' } }, 'v1');
    expect(await indexJson(target)).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { ...manifest, platform, artifactType, annotations: { [Annotation.RefName]: 'v1' } },
      ],
      annotations: { keep: 'me' },
    });
  });

  it('refuses invalid tags, blobs it does not hold, and descriptors of the wrong size', async () => {
    const target = await layout();
    const { manifest } = await pushImage(target, 'x');
    for (const tag of ['', '-x', '.x', 'a:b', 'a/b', 'x'.repeat(129)]) {
      await expect(target.tag(manifest, tag)).rejects.toMatchObject({
        code: 'ERR_INVALID_REFERENCE',
      });
    }
    const absent = describeBytes(Buffer.from('{}x'), MediaType.OciManifest);
    await expect(target.tag(absent, 'v1')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(target.tag({ ...manifest, size: 1 }, 'v1')).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
    await expect(
      target.tag({ ...manifest, mediaType: MediaType.OciLayer }, 'v1'),
    ).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
    await expect(
      target.tag({ ...manifest, platform: { os: 'linux' } } as Descriptor, 'v1'),
    ).rejects.toMatchObject({ code: 'ERR_MANIFEST_INVALID' });
    expect(await target.tags()).toEqual([]);
  });

  it('fails to resolve an unknown tag with ERR_NOT_FOUND', async () => {
    const target = await layout();
    await expect(target.resolve('missing')).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: `tag missing not found in ${target.name}`,
    });
  });

  it('resolves digests of manifests, listed in index.json or not', async () => {
    const target = await layout();
    const listed = await pushImage(target, 'listed');
    await target.tag({ ...listed.manifest, mediaType: MediaType.DockerManifest }, 'v1');
    expect(await target.resolve(listed.manifest.digest)).toEqual({
      ...listed.manifest,
      mediaType: MediaType.DockerManifest, // as index.json says
    });
    const unlisted = await pushImage(target, 'unlisted');
    expect(await target.resolve(unlisted.manifest.digest)).toEqual(unlisted.manifest);
    await expect(target.resolve(unlisted.layer.digest)).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringContaining('not a manifest'),
    });
    const absent = computeDigest('absent');
    await expect(target.resolve(absent)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('loses no entry when 20 tags are written at once through two instances', async () => {
    const target = await layout();
    const other = await OciLayoutTarget.open(join(target.dir, '..', 'layout', '.'));
    const { manifest } = await pushImage(target, 'concurrent');
    const tags = Array.from({ length: 20 }, (_, i) => `t${i}`);
    // Readers alongside the writers: index.json is replaced whole, never seen half-written.
    const reads = Array.from({ length: 20 }, () => target.tags());
    await Promise.all([
      ...tags.map((tag, i) => (i % 2 ? other : target).tag(manifest, tag)),
      ...reads,
    ]);
    expect((await target.tags()).sort()).toEqual([...tags].sort());
    expect((await readdir(target.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('referrers and delete', () => {
  it('finds manifests by subject, filtered by artifactType, sorted by digest', async () => {
    const target = await layout();
    const subject = await pushImage(target, 'subject');
    const sig = await pushImage(target, 'sig', {
      artifactType: 'application/vnd.example.sig',
      subject: subject.manifest,
      annotations: { kind: 'signature' },
    });
    const sbom = await pushImage(target, 'sbom', { subject: subject.manifest });
    await pushImage(target, 'unrelated', { subject: sig.manifest });
    const all = await target.referrers(subject.manifest);
    expect(all).toEqual(
      [
        {
          ...sig.manifest,
          artifactType: 'application/vnd.example.sig',
          annotations: { kind: 'signature' },
        },
        { ...sbom.manifest, artifactType: MediaType.OciEmpty }, // config.mediaType
      ].sort((x, y) => (x.digest < y.digest ? -1 : 1)),
    );
    const sigs = await target.referrers(subject.manifest, {
      artifactType: 'application/vnd.example.sig',
    });
    expect(sigs.map((d) => d.digest)).toEqual([sig.manifest.digest]);
    expect(await target.referrers(sbom.manifest)).toEqual([]);
  });

  it('deletes a blob and the index entries pointing at it', async () => {
    const target = await layout();
    const a = await pushImage(target, 'a');
    const b = await pushImage(target, 'b');
    await target.tag(a.manifest, 'one');
    await target.tag(b.manifest, 'two');
    await target.tag(a.manifest, 'three');
    await target.delete(a.manifest);
    expect(await target.tags()).toEqual(['two']);
    expect(await target.exists(a.manifest)).toBe(false);
    await target.delete(a.layer);
    expect(await target.exists(a.layer)).toBe(false);
    await expect(target.delete(a.layer)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('ignores temp files and strays when scanning', async () => {
    const target = await layout();
    const subject = await pushImage(target, 's');
    await mkdir(join(target.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(target.dir, 'blobs', 'sha256', '.abc.123.tmp'), '{"subject":1}');
    await writeFile(join(target.dir, 'blobs', 'sha256', 'README'), '{}');
    expect(await target.referrers(subject.manifest)).toEqual([]);
  });
});
