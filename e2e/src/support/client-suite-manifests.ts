// Manifests, tags and referrers of the @ferry/registry end-to-end suite (see client-suite.ts).
import { describe, expect, it } from 'vitest';
import { Annotation, computeDigest, EMPTY_JSON_BYTES, EmptyJson, MediaType } from '@ferry/oci';
import type { Descriptor, ImageIndex, ImageManifest } from '@ferry/oci';
import { referrersTag, RegistryError } from '@ferry/registry';
import type { Repository } from '@ferry/registry';
import { nextLinks, rejection, requests, seededBytes } from './client-fixture.js';
import type { ClientFixture } from './client-fixture.js';

const ARTIFACT_TYPE = 'application/vnd.ferry.e2e.test';
const SIGNATURE_TYPE = 'application/vnd.ferry.e2e.signature';
const SBOM_TYPE = 'application/vnd.ferry.e2e.sbom';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** Pushes the empty config and one titled layer; returns the manifest's bytes (not pushed). */
async function artifact(
  repo: Repository,
  seed: string,
  extra: Partial<ImageManifest> = {},
): Promise<Buffer> {
  await repo.blobs.push(EMPTY_JSON_BYTES);
  const content = await seededBytes(seed, 1234);
  const layer = await repo.blobs.push(content);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: ARTIFACT_TYPE,
    config: { ...EmptyJson },
    layers: [
      {
        mediaType: MediaType.OctetStream,
        digest: layer.digest,
        size: layer.size,
        annotations: { [Annotation.Title]: `${seed.replace(/\W/g, '-')}.bin` },
      },
    ],
    ...extra,
  };
  return json(manifest);
}

function expectNotFound(error: unknown, registryCode: string | undefined): RegistryError {
  expect(error).toBeInstanceOf(RegistryError);
  const e = error as RegistryError;
  expect(e.status).toBe(404);
  expect(e.registryCode).toBe(registryCode);
  return e;
}

export function describeManifestSuite(fx: ClientFixture): void {
  describe('manifests', () => {
    it('pushes an artifact by tag and reads it back by tag, by digest and with HEAD', async () => {
      const repo = fx.registry.repository(fx.repoName('manifests'));
      const bytes = await artifact(repo, `${fx.mode}/artifact`);
      const pushed = await repo.manifests.push('v1', bytes);
      expect(pushed).toEqual({
        mediaType: MediaType.OciManifest,
        digest: computeDigest(bytes),
        size: bytes.byteLength,
      });

      for (const reference of ['v1', pushed.digest]) {
        const fetched = await repo.manifests.fetch(reference);
        expect(fetched.bytes.equals(bytes)).toBe(true);
        expect(fetched.descriptor).toEqual(pushed);
        expect(fetched.descriptor.digest).toBe(computeDigest(fetched.bytes));
        expect(fetched.parsed.kind).toBe('manifest');
        if (fetched.parsed.kind !== 'manifest') continue;
        expect(fetched.parsed.manifest.artifactType).toBe(ARTIFACT_TYPE);
        expect(fetched.parsed.manifest.config.digest).toBe(EmptyJson.digest);
        expect(fetched.parsed.manifest.layers[0]?.annotations?.[Annotation.Title]).toBe(
          `${fx.mode}-artifact.bin`,
        );
      }
      const { result, lines } = await fx.traced(() => repo.manifests.resolve('v1'));
      expect(result).toEqual(pushed);
      expect(requests(lines, 'GET')).toEqual([]);
      expect(requests(lines, 'HEAD', /\/manifests\/v1$/).length).toBeGreaterThanOrEqual(1);
      expect(await repo.manifests.exists('v1')).toBe(true);
      expect(await repo.manifests.exists('v0')).toBe(false);

      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [{ ...pushed, platform: { os: 'linux', architecture: 'amd64' } }],
      };
      const indexBytes = json(index);
      const indexDescriptor = await repo.manifests.push('index', indexBytes);
      expect(indexDescriptor.mediaType).toBe(MediaType.OciIndex);
      const fetchedIndex = await repo.manifests.fetch('index');
      expect(fetchedIndex.bytes.equals(indexBytes)).toBe(true);
      expect(fetchedIndex.descriptor).toEqual(indexDescriptor);
      expect(fetchedIndex.parsed.kind).toBe('index');
      if (fetchedIndex.parsed.kind === 'index') {
        expect(fetchedIndex.parsed.index.manifests.map((m) => m.digest)).toEqual([pushed.digest]);
      }

      expect(await repo.manifests.tag(pushed.digest, 'v2')).toEqual(pushed);
      expect(await repo.tags()).toEqual(expect.arrayContaining(['v1', 'v2', 'index']));
      expect((await repo.manifests.resolve('v2')).digest).toBe(pushed.digest);

      expect(await repo.manifests.delete(pushed.digest)).toEqual(pushed);
      expectNotFound(await rejection(repo.manifests.fetch(pushed.digest)), 'MANIFEST_UNKNOWN');
      expect(await repo.manifests.exists(pushed.digest)).toBe(false);
    });

    it('reports a missing tag as 404 MANIFEST_UNKNOWN naming repository and tag', async () => {
      const repo = fx.registry.repository(fx.repoName('missing'));
      await repo.manifests.push('present', await artifact(repo, `${fx.mode}/present`));
      const error = expectNotFound(
        await rejection(repo.manifests.fetch('absent')),
        'MANIFEST_UNKNOWN',
      );
      expect(error.message).toContain(`${repo.name}/manifests/absent`);
      expect(error.message).toContain('MANIFEST_UNKNOWN');
      expect(error.method).toBe('GET');
      // HEAD answers have no body, so no registry code: the status alone tells.
      const head = expectNotFound(await rejection(repo.manifests.resolve('absent')), undefined);
      expect(head.method).toBe('HEAD');
      expect(head.message).toContain(`${repo.name}/manifests/absent`);
    });
  });

  describe('tags', () => {
    it('lists tags, following Link pagination when the registry sends it', async () => {
      const repo = fx.registry.repository(fx.repoName('tags'));
      const bytes = await artifact(repo, `${fx.mode}/tags`);
      const tags = ['tag-1', 'tag-2', 'tag-3', 'tag-4', 'tag-5'];
      for (const tag of tags) await repo.manifests.push(tag, bytes);
      const unpaged = await repo.tags();
      expect([...unpaged].sort()).toEqual(tags);

      const all = await fx.traced(() => repo.tags({ n: 2 }));
      expect(all.result).toEqual(unpaged);
      const gets = requests(all.lines, 'GET', /\/tags\/list$/);
      expect(gets[0]).toMatch(/\/tags\/list\?n=2 /);
      // One request per page: the first, then one per rel="next". registry:2 3.x pages by `n`
      // (3 pages of 2, 2, 1); Debian's 2.8.2 ignores `n` on tags/list and sends all in one.
      expect(gets).toHaveLength(nextLinks(all.lines, /\/tags\/list/) + 1);
      expect([1, 3]).toContain(gets.length);

      const some = await fx.traced(() => repo.tags({ n: 2, limit: 3 }));
      expect(some.result).toEqual(unpaged.slice(0, 3));
      expect(requests(some.lines, 'GET', /\/tags\/list$/).length).toBeLessThanOrEqual(2);
      expect(await repo.tags({ limit: 1 })).toEqual(unpaged.slice(0, 1));
    });
  });

  describe('referrers', () => {
    it('keeps the sha256-<hex> fallback index on a registry without the API', async () => {
      const repo = fx.registry.repository(fx.repoName('referrers'));
      const subjectBytes = await artifact(repo, `${fx.mode}/subject`);
      const subject = await repo.manifests.push('subject', subjectBytes);
      expect(await repo.referrers(subject.digest)).toEqual([]);

      const attach = async (artifactType: string, name: string): Promise<Descriptor> => {
        const annotations = { [Annotation.Description]: name };
        const bytes = await artifact(repo, `${fx.mode}/${name}`, {
          artifactType,
          subject,
          annotations,
        });
        const descriptor = await repo.manifests.push(computeDigest(bytes), bytes);
        return { ...descriptor, artifactType, annotations };
      };
      const signature = await attach(SIGNATURE_TYPE, 'signature');
      const sbom = await attach(SBOM_TYPE, 'sbom');

      const { result: listed, lines } = await fx.traced(() => repo.referrers(subject.digest));
      expect(requests(lines, 'GET', /\/referrers\//)).toHaveLength(1);
      expect(listed).toEqual([signature, sbom]);
      expect(await repo.referrers(subject.digest, { artifactType: SBOM_TYPE })).toEqual([sbom]);
      expect(await repo.referrers(subject.digest, { artifactType: 'x/none' })).toEqual([]);

      const tag = referrersTag(subject.digest);
      expect(tag).toBe(subject.digest.replace(':', '-'));
      expect(await repo.tags()).toEqual(expect.arrayContaining(['subject', tag]));
      const fallback = await repo.manifests.fetch(tag);
      expect(fallback.parsed.kind).toBe('index');

      await repo.manifests.delete(signature.digest);
      expect(await repo.referrers(subject.digest)).toEqual([sbom]);
      expect(await repo.manifests.exists(signature.digest)).toBe(false);
      expect(await repo.manifests.exists(sbom.digest)).toBe(true);
    });
  });
}
