// A multi-platform OCI index assembled with ferry (blob push, manifest push by digest, an index
// manifest file), then taken apart with --platform, and read by skopeo.
import { readFile, readdir, writeFile } from 'node:fs/promises';
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
  skopeoOk,
  writeImageFiles,
} from './support/interop-tools.js';

const ARCHES = ['amd64', 'arm64'] as const;
type Arch = (typeof ARCHES)[number];

interface PlatformImage {
  manifestPath: string;
  manifestBytes: Buffer;
  digest: string;
  layerBytes: Buffer;
}

let registry: TestRegistry;
let work: string;
let images: Record<Arch, PlatformImage>;
let indexBytes: Buffer;
let indexDigest: string;
const dirs = scratch('platforms');

/** Blobs, then the manifest by digest, of one single-platform image whose layer is `<arch>.tar`. */
async function pushPlatformImage(repo: string, arch: Arch): Promise<PlatformImage> {
  const files = await writeImageFiles(
    work,
    arch,
    { os: 'linux', architecture: arch },
    { [`${arch}.txt`]: `built for ${arch}\n` },
  );
  const layerBytes = await readFile(files.layerPath);
  const configBytes = await readFile(files.configPath);
  for (const path of [files.configPath, files.layerPath]) {
    await ferryOk('blob', 'push', repo, path);
  }
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: files.configDigest,
        size: configBytes.byteLength,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: files.layerDigest,
          size: layerBytes.byteLength,
          annotations: { 'org.opencontainers.image.title': `${arch}.tar` },
        },
      ],
    }),
  );
  const manifestPath = join(work, `${arch}.manifest.json`);
  await writeFile(manifestPath, manifestBytes);
  const digest = sha256(manifestBytes);
  expect(await pushedDigest(work, 'manifest', 'push', `${repo}@${digest}`, manifestPath)).toBe(
    digest,
  );
  return { manifestPath, manifestBytes, digest, layerBytes };
}

beforeAll(async () => {
  await skopeoOk('--version'); // a missing skopeo fails the file with a clear message
  registry = await startRegistry({ mode: 'anonymous' });
  work = await dirs.make();
  const repo = `${registry.host}/multi`;
  const amd64 = await pushPlatformImage(repo, 'amd64');
  const arm64 = await pushPlatformImage(repo, 'arm64');
  images = { amd64, arm64 };
  indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: ARCHES.map((arch) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: images[arch].digest,
        size: images[arch].manifestBytes.byteLength,
        platform: { architecture: arch, os: 'linux' },
      })),
    }),
  );
  const indexPath = join(work, 'index.manifest.json');
  await writeFile(indexPath, indexBytes);
  indexDigest = await pushedDigest(work, 'manifest', 'push', `${repo}:v1`, indexPath);
  expect(indexDigest).toBe(sha256(indexBytes));
});

afterAll(async () => {
  await registry?.stop();
  await dirs.cleanup();
});

describe('a multi-platform index pushed with ferry', () => {
  it('is stored and read back byte for byte, by ferry and by skopeo', async () => {
    const multi = `${registry.host}/multi:v1`;
    expect(await resolveDigest(multi)).toBe(indexDigest);
    expect((await ferryBytes(['manifest', 'fetch', multi])).stdout.equals(indexBytes)).toBe(true);
    const raw = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${multi}`);
    expect(raw.equals(indexBytes)).toBe(true);
    for (const arch of ARCHES) {
      const inspected = JSON.parse(
        (
          await skopeoOk(
            '--override-os',
            'linux',
            '--override-arch',
            arch,
            'inspect',
            '--tls-verify=false',
            `docker://${multi}`,
          )
        ).toString(),
      ) as { Digest: string; Architecture: string; Layers: string[] };
      // skopeo reports the index's digest, and the chosen platform's config and layers.
      expect(inspected.Digest).toBe(indexDigest);
      expect(inspected.Architecture).toBe(arch);
      expect(inspected.Layers).toEqual([sha256(images[arch].layerBytes)]);
    }
  });

  it('cp --platform linux/arm64 copies only the arm64 manifest', async () => {
    const arm = `${registry.host}/arm:v1`;
    const copied = await ferryOk(
      'cp',
      '--platform',
      'linux/arm64',
      `${registry.host}/multi:v1`,
      arm,
    );
    expect(copied).toContain(`Digest: ${images.arm64.digest}\n`);
    expect(copied).toMatch(/^Mounted +arm64\.tar /m);
    expect(await resolveDigest(arm)).toBe(images.arm64.digest);
    expect(
      (await ferryBytes(['manifest', 'fetch', arm])).stdout.equals(images.arm64.manifestBytes),
    ).toBe(true);
    // Neither the index nor the other platform came along.
    for (const absent of [indexDigest, images.amd64.digest]) {
      const result = await ferryBytes(['resolve', `${registry.host}/arm@${absent}`]);
      expect(result.code).toBe(1);
    }
  });

  it('pull --platform linux/arm64 pulls the arm64 files only', async () => {
    const out = join(await dirs.make(), 'out');
    const pulled = await ferryOk(
      'pull',
      '--platform',
      'linux/arm64',
      `${registry.host}/multi:v1`,
      '-o',
      out,
    );
    expect(pulled).toContain(`Digest: ${images.arm64.digest}\n`);
    expect(await readdir(out)).toEqual(['arm64.tar']);
    expect((await readFile(join(out, 'arm64.tar'))).equals(images.arm64.layerBytes)).toBe(true);
  });

  it('manifest fetch --platform linux/amd64 gives the amd64 manifest bytes', async () => {
    const multi = `${registry.host}/multi:v1`;
    const fetched = await ferryBytes(['manifest', 'fetch', '--platform', 'linux/amd64', multi]);
    expect(fetched.code).toBe(0);
    expect(fetched.stdout.equals(images.amd64.manifestBytes)).toBe(true);
    expect(await resolveDigest('--platform', 'linux/amd64', multi)).toBe(images.amd64.digest);
    const none = await ferryBytes(['manifest', 'fetch', '--platform', 'linux/s390x', multi]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no manifest for linux/s390x');
    expect(none.stderr).toContain('it offers: linux/amd64, linux/arm64');
  });

  it('skopeo copy --all makes a layout that ferry reads per platform, and ferry copies out of', async () => {
    const layout = join(await dirs.make(), 'multi');
    await skopeoOk(
      'copy',
      '--all',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${registry.host}/multi:v1`,
      `oci:${layout}:v1`,
    );
    expect(await resolveDigest('--oci-layout', `${layout}:v1`)).toBe(indexDigest);
    for (const arch of ARCHES) {
      const fetched = await ferryBytes([
        'manifest',
        'fetch',
        '--oci-layout',
        '--platform',
        `linux/${arch}`,
        `${layout}:v1`,
      ]);
      expect(fetched.stdout.equals(images[arch].manifestBytes)).toBe(true);
    }
    const back = `${registry.host}/from-layout:arm`;
    await ferryOk('cp', '--from-oci-layout', '--platform', 'linux/arm64', `${layout}:v1`, back);
    expect(await resolveDigest(back)).toBe(images.arm64.digest);
    const raw = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${back}`);
    expect(raw.equals(images.arm64.manifestBytes)).toBe(true);
  });

  it('manifest push to name@digest refuses a file with another digest', async () => {
    // ORAS: a digest in the reference must be the digest of the content pushed.
    const named = `${registry.host}/multi@${images.amd64.digest}`;
    const result = await ferryBytes(['manifest', 'push', named, images.arm64.manifestPath]);
    expect(result.stdout.toString()).not.toContain(`Pushed [registry] ${named}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*digest/m);
  });
});
