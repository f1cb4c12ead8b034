/**
 * Interoperability with skopeo, the reference reader and writer of OCI layouts (containers/image).
 * skopeo must be installed: a missing skopeo fails these tests, it does not skip them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pack } from 'tar-stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Annotation, MediaType, computeDigest, type Descriptor } from '@ferry/oci';
import { readAll } from './content.js';
import { OciLayoutTarget } from './oci-layout.js';

const SKOPEO = process.env.SKOPEO ?? 'skopeo';
const run = promisify(execFile);

/** Runs skopeo without a trust policy file (only local directories are involved). */
async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(SKOPEO, ['--insecure-policy', ...args], {
      timeout: 60_000,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (error) {
    const { stderr, code } = error as { stderr?: string; code?: unknown };
    if (code === 'ENOENT') {
      throw new Error(`skopeo not found (${SKOPEO}): install skopeo >= 1.9 or set SKOPEO`);
    }
    throw new Error(`skopeo ${args.join(' ')} failed: ${stderr ?? String(error)}`, {
      cause: error,
    });
  }
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-oci-skopeo-'));
  dirs.push(dir);
  return dir;
}

/** An uncompressed layer with one file, reproducible byte for byte. */
async function tarLayer(): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, 'hello from ferry\n');
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A minimal runnable-shaped image: a config with rootfs diff_ids, one tar layer, a manifest. */
async function pushImage(target: OciLayoutTarget) {
  const layerBytes = await tarLayer();
  const layer: Descriptor = {
    mediaType: MediaType.OciLayer,
    digest: computeDigest(layerBytes),
    size: layerBytes.byteLength,
  };
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.digest] }, // uncompressed: diff_id = digest
    }),
  );
  const config: Descriptor = {
    mediaType: MediaType.OciConfig,
    digest: computeDigest(configBytes),
    size: configBytes.byteLength,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }),
  );
  const manifest: Descriptor = {
    mediaType: MediaType.OciManifest,
    digest: computeDigest(manifestBytes),
    size: manifestBytes.byteLength,
  };
  await target.push(layer, layerBytes);
  await target.push(config, configBytes);
  await target.push(manifest, manifestBytes);
  return { layer, layerBytes, config, manifest, manifestBytes };
}

describe('skopeo interop', () => {
  beforeAll(async () => {
    expect(await skopeo('--version')).toMatch(/skopeo version \d+\.\d+/);
  });

  it('reads a layout ferry wrote, and copies it to a layout ferry reads back', async () => {
    const root = await tempDir();
    const source = await OciLayoutTarget.open(join(root, 'ferry'));
    const image = await pushImage(source);
    await source.tag(image.manifest, 'v1');

    const raw = await run(
      SKOPEO,
      ['--insecure-policy', 'inspect', '--raw', `oci:${source.dir}:v1`],
      {
        timeout: 60_000,
        encoding: 'buffer',
      },
    );
    expect(raw.stdout.equals(image.manifestBytes)).toBe(true);

    // Without --preserve-digests skopeo gzips the uncompressed layer on its way to an oci: destination.
    const copied = join(root, 'skopeo');
    await skopeo('copy', '--preserve-digests', `oci:${source.dir}:v1`, `oci:${copied}:copied`);

    const target = await OciLayoutTarget.open(copied, { create: false });
    expect(await target.tags()).toEqual(['copied']);
    const resolved = await target.resolve('copied');
    expect(resolved).toMatchObject({
      mediaType: MediaType.OciManifest,
      digest: image.manifest.digest,
      size: image.manifest.size,
      annotations: { [Annotation.RefName]: 'copied' },
    });
    const bytes = await readAll(await target.fetch(resolved), 1 << 20);
    expect(bytes.equals(image.manifestBytes)).toBe(true);
    const layer = await readAll(await target.fetch(image.layer), 1 << 20);
    expect(layer.equals(image.layerBytes)).toBe(true);
  });

  it('reads an image skopeo rewrote (gzipped layer, new manifest) into an index without mediaType', async () => {
    const root = await tempDir();
    const source = await OciLayoutTarget.open(join(root, 'ferry'));
    const image = await pushImage(source);
    await source.tag(image.manifest, 'v1');
    const copied = join(root, 'skopeo');
    await skopeo('copy', `oci:${source.dir}:v1`, `oci:${copied}:gz`);
    // skopeo 1.9 omits the index's mediaType; ferry infers it as the image spec allows.
    expect(JSON.parse(await readFile(join(copied, 'index.json'), 'utf8'))).not.toHaveProperty(
      'mediaType',
    );

    const target = await OciLayoutTarget.open(copied, { create: false });
    const resolved = await target.resolve('gz');
    expect(resolved.digest).not.toBe(image.manifest.digest);
    const manifest = JSON.parse(
      (await readAll(await target.fetch(resolved), 1 << 20)).toString('utf8'),
    ) as { config: Descriptor; layers: Descriptor[] };
    expect(manifest.config).toEqual(image.config);
    expect(manifest.layers.map((d) => d.mediaType)).toEqual([MediaType.OciLayerGzip]);
    const [gzipped] = manifest.layers;
    expect(await target.exists(gzipped!)).toBe(true);
    await readAll(await target.fetch(gzipped!), 1 << 20); // verified against skopeo's digest
  });

  it('shares a layout with skopeo: tags written by either are seen by both', async () => {
    const dir = join(await tempDir(), 'shared');
    const ferry = await OciLayoutTarget.open(dir);
    const image = await pushImage(ferry);
    await ferry.tag(image.manifest, '3.40.1.x86_64_linux');

    // skopeo adds a tag to ferry's index.json without losing ferry's…
    const copyArgs = ['copy', '--preserve-digests'];
    await skopeo(...copyArgs, `oci:${dir}:3.40.1.x86_64_linux`, `oci:${dir}:latest`);
    expect(await ferry.tags()).toEqual(['3.40.1.x86_64_linux', 'latest']);
    expect((await ferry.resolve('latest')).digest).toBe(image.manifest.digest);

    // …and ferry adds one to the index.json skopeo rewrote, which skopeo then reads.
    await ferry.tag(image.manifest, 'v1.0');
    const digest = computeDigest(await readFile(join(dir, 'index.json')));
    const inspected = JSON.parse(await skopeo('inspect', `oci:${dir}:v1.0`)) as { Digest: string };
    expect(inspected.Digest).toBe(image.manifest.digest);
    expect(computeDigest(await readFile(join(dir, 'index.json')))).toBe(digest); // read-only

    // Replacing a tag: both tools leave one entry per ref name.
    await skopeo(...copyArgs, `oci:${dir}:v1.0`, `oci:${dir}:latest`);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: Descriptor[];
    };
    const names = index.manifests.map((entry) => entry.annotations?.[Annotation.RefName]);
    expect([...names].sort()).toEqual(['3.40.1.x86_64_linux', 'latest', 'v1.0']);
  });
});
