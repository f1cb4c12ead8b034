import { existsSync } from 'node:fs';
// ferry and skopeo (containers/image) against the same anonymous registry:2: what one writes, the
// other reads byte for byte, through the registry and through OCI image layouts.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import {
  ferryBytes,
  ferryOk,
  pushedDigest,
  resolveDigest,
  scratch,
  sha256,
  shortHex,
  skopeo,
  skopeoOk,
  writeImageFiles,
} from './support/interop-tools.js';

const LAYER = 'application/vnd.oci.image.layer.v1.tar';
const IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';

let registry: TestRegistry;
let work: string;
const dirs = scratch('skopeo');

beforeAll(async () => {
  // Fails the file with a clear message when skopeo is missing (never a skip).
  const version = (await skopeoOk('--version')).toString();
  expect(version).toMatch(/^skopeo version \d+\.\d+/);
  registry = await startRegistry({ mode: 'anonymous' });
  work = await dirs.make();
  await writeFile(join(work, 'notes.txt'), 'notes from ferry\n');
  await mkdir(join(work, 'data', 'sub'), { recursive: true });
  await writeFile(join(work, 'data', 'one.bin'), Buffer.from([0, 1, 2, 3, 255]));
  await writeFile(join(work, 'data', 'sub', 'two.txt'), 'two\n');
});

afterAll(async () => {
  await registry?.stop();
  await dirs.cleanup();
});

/** Pushes notes.txt and data/ with annotations; returns the reference and digest. */
async function pushArtifact(repo: string): Promise<{ ref: string; digest: string }> {
  const ref = `${registry.host}/${repo}:v1`;
  const digest = await pushedDigest(
    work,
    'push',
    ref,
    'notes.txt',
    'data/',
    '--artifact-type',
    'application/vnd.example.bundle',
    '-a',
    'org.opencontainers.image.description=interop with skopeo',
    '-a',
    'com.example.answer=42',
  );
  return { ref, digest };
}

describe('skopeo reads what ferry pushes', () => {
  it('skopeo inspect --raw gives the bytes of ferry manifest fetch, whose sha256 is ferry resolve', async () => {
    const { ref, digest } = await pushArtifact('interop/raw');
    const fromSkopeo = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${ref}`);
    const fromFerry = await ferryBytes(['manifest', 'fetch', ref]);
    expect(fromFerry.code).toBe(0);
    expect(fromSkopeo.toString('utf8')).toBe(fromFerry.stdout.toString('utf8'));
    expect(fromSkopeo.equals(fromFerry.stdout)).toBe(true);
    expect(sha256(fromSkopeo)).toBe(await resolveDigest(ref));
    expect(sha256(fromSkopeo)).toBe(digest);

    const manifest = JSON.parse(fromSkopeo.toString('utf8')) as {
      artifactType: string;
      annotations: Record<string, string>;
      layers: { annotations: Record<string, string> }[];
    };
    expect(manifest.artifactType).toBe('application/vnd.example.bundle');
    expect(manifest.annotations).toMatchObject({
      'org.opencontainers.image.description': 'interop with skopeo',
      'com.example.answer': '42',
    });
    const titles = manifest.layers.map((l) => l.annotations['org.opencontainers.image.title']);
    expect(titles).toEqual(['notes.txt', 'data']);
  });

  it('skopeo copy --preserve-digests copies a ferry artifact to an OCI layout that ferry pulls from', async () => {
    const { ref, digest } = await pushArtifact('interop/artifact');
    const layout = join(await dirs.make(), 'layout');
    await skopeoOk(
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci:${layout}:v1`,
    );
    const raw = await skopeoOk('inspect', '--raw', `oci:${layout}:v1`);
    expect(sha256(raw)).toBe(digest);
    expect(raw.equals((await ferryBytes(['manifest', 'fetch', ref])).stdout)).toBe(true);

    // ferry reads skopeo's layout (its index.json has no mediaType, its oci-layout a space).
    expect(await resolveDigest('--oci-layout', `${layout}:v1`)).toBe(digest);
    const out = join(await dirs.make(), 'out');
    await ferryOk('pull', '--oci-layout', `${layout}:v1`, '-o', out);
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('notes from ferry\n');
    expect(await readFile(join(out, 'data', 'sub', 'two.txt'), 'utf8')).toBe('two\n');
    expect([...(await readFile(join(out, 'data', 'one.bin')))]).toEqual([0, 1, 2, 3, 255]);

    // skopeo moves artifacts as opaque blobs, but refuses to interpret one as an image.
    const inspected = await skopeo('inspect', '--tls-verify=false', `docker://${ref}`);
    expect(inspected.code).not.toBe(0);
    expect(inspected.stderr).toContain(
      'unsupported image-specific operation on artifact with type \\"application/vnd.oci.empty.v1+json\\"',
    );
  });

  it('skopeo copies and inspects a ferry push with an image config and a tar layer', async () => {
    const image = await writeImageFiles(work, 'rootfs', { os: 'linux', architecture: 'amd64' });
    const ref = `${registry.host}/interop/image:v1`;
    const digest = await pushedDigest(
      work,
      'push',
      ref,
      `rootfs.tar:${LAYER}`,
      '--config',
      `rootfs.config.json:${IMAGE_CONFIG}`,
      '--image-spec',
      'v1.0',
    );
    const inspected = JSON.parse(
      (await skopeoOk('inspect', '--tls-verify=false', `docker://${ref}`)).toString(),
    ) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
    expect(inspected).toMatchObject({ Digest: digest, Architecture: 'amd64', Os: 'linux' });
    expect(inspected.Layers).toEqual([image.layerDigest]);

    const layout = join(await dirs.make(), 'layout');
    await skopeoOk(
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci:${layout}:v1`,
    );
    expect(sha256(await skopeoOk('inspect', '--raw', `oci:${layout}:v1`))).toBe(digest);
    const config = await ferryBytes(['manifest', 'fetch-config', '--oci-layout', `${layout}:v1`]);
    expect(sha256(config.stdout)).toBe(image.configDigest);
  });

  it('an explicit image-spec v1.1 push with a config but no --artifact-type is refused (exit 2)', async () => {
    await writeImageFiles(work, 'refused', { os: 'linux', architecture: 'amd64' });
    const layout = join(await dirs.make(), 'refused');
    const result = await ferryBytes(
      [
        'push',
        '--oci-layout',
        `${layout}:v1`,
        `refused.tar:${LAYER}`,
        '--config',
        `refused.config.json:${IMAGE_CONFIG}`,
        '--image-spec',
        'v1.1',
      ],
      work,
    );
    // An options conflict is a usage error, found before anything is written.
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: an image-spec v1.1 artifact with a config needs an artifact type: set one (--artifact-type) or use image spec v1.0\nRun 'ferry --help' for usage.\n",
    );
    expect(existsSync(layout)).toBe(false);
  });
});

describe('an image skopeo pushed from a ferry-built OCI layout', () => {
  it('is copied by ferry with mounts, to a layout and back, digests unchanged', async () => {
    const image = await writeImageFiles(work, 'app', { os: 'linux', architecture: 'amd64' });
    const layout = join(await dirs.make(), 'built');
    const built = await pushedDigest(
      work,
      'push',
      '--oci-layout',
      `${layout}:v1`,
      `app.tar:${LAYER}`,
      '--config',
      `app.config.json:${IMAGE_CONFIG}`,
      '--image-spec',
      'v1.0',
    );

    const src = `${registry.host}/src/img:v1`;
    await skopeoOk(
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:v1`,
      `docker://${src}`,
    );
    const srcBytes = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${src}`);
    const skopeoDigest = sha256(srcBytes);
    expect(skopeoDigest).toBe(built);
    expect(await resolveDigest(src)).toBe(skopeoDigest);

    // Same registry: the config and the layer are mounted, only the manifest is sent.
    const dst = `${registry.host}/dst/img:v1`;
    const copied = await ferryOk('cp', src, dst);
    expect(copied).toMatch(new RegExp(`^Mounted +app\\.tar  ${shortHex(image.layerDigest)}$`, 'm'));
    expect(copied).toMatch(
      new RegExp(
        `^Mounted +application/vnd\\.oci\\.image\\.config\\.v1\\+json  ${shortHex(image.configDigest)}$`,
        'm',
      ),
    );
    expect(copied).not.toMatch(
      /^(Copied|Uploaded) +(app\.tar|application\/vnd\.oci\.image\.config)/m,
    );
    expect(copied).toContain(`Digest: ${skopeoDigest}\n`);
    expect(await resolveDigest(dst)).toBe(skopeoDigest);

    const layout2 = join(await dirs.make(), 'copy');
    const toLayout = await ferryOk('cp', dst, `${layout2}:v1`, '--to-oci-layout');
    expect(toLayout).toContain(`Digest: ${skopeoDigest}\n`);
    expect(await resolveDigest('--oci-layout', `${layout2}:v1`)).toBe(skopeoDigest);

    const back = `${registry.host}/back/img:v1`;
    const fromLayout = await ferryOk('cp', `${layout2}:v1`, back, '--from-oci-layout');
    expect(fromLayout).toContain(`Digest: ${skopeoDigest}\n`);
    expect(await resolveDigest(back)).toBe(skopeoDigest);

    // skopeo reads ferry's layout: the very bytes the registry holds.
    const fromLayout2 = await skopeoOk('inspect', '--raw', `oci:${layout2}:v1`);
    expect(fromLayout2.toString()).toBe(srcBytes.toString());
    expect(fromLayout2.equals((await ferryBytes(['manifest', 'fetch', back])).stdout)).toBe(true);
    const inspected = JSON.parse((await skopeoOk('inspect', `oci:${layout2}:v1`)).toString()) as {
      Digest: string;
      Architecture: string;
      Layers: string[];
    };
    expect(inspected).toMatchObject({ Digest: skopeoDigest, Architecture: 'amd64' });
    expect(inspected.Layers).toEqual([image.layerDigest]);
  });
});
