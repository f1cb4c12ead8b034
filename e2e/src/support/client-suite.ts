// The mode-independent part of the @ferry/registry end-to-end suite: every client-<mode>.test.ts
// runs it against its own registry:2, then adds the tests only its mode can make.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '@ferry/registry';
import type { RegistryMode } from '../harness/index.js';
import { describeManifestSuite } from './client-suite-manifests.js';
import {
  hashStream,
  nextLinks,
  readAll,
  rejection,
  requests,
  seededBytes,
  seededStream,
  sha256,
  useClientFixture,
} from './client-fixture.js';
import type { ClientFixture } from './client-fixture.js';

const MiB = 1024 * 1024;
const UPLOAD_PATH = /\/blobs\/uploads\//;

export function describeClientSuite(
  mode: RegistryMode,
  specific?: (fx: ClientFixture) => void,
): void {
  describe(`@ferry/registry against registry:2 (${mode})`, () => {
    const fx = useClientFixture(mode);

    it('pings the registry', async () => {
      const { result, lines } = await fx.traced(() => fx.registry.ping());
      expect(result).toBeUndefined();
      expect(requests(lines, 'GET', /^\/v2\/$/).length).toBeGreaterThanOrEqual(1);
      expect(lines.some((l) => /^< 200 GET \S+\/v2\/ /.test(l))).toBe(true);
    });

    describeBlobs(fx);
    describeMounts(fx);
    describeChunkedUploads(fx);
    describeManifestSuite(fx);
    if (specific) describe(`${mode} mode`, () => specific(fx));

    it('lists every repository it created in the catalog', async () => {
      expect(fx.repositories.size).toBeGreaterThan(5);
      const catalog = await fx.registry.catalog();
      expect(catalog).toEqual(expect.arrayContaining([...fx.repositories]));

      // registry:2 pages its catalog with Link headers: ceil(count / 2) requests of 2 entries.
      const paged = await fx.traced(() => fx.registry.catalog({ n: 2 }));
      expect(paged.result).toEqual(catalog);
      const gets = requests(paged.lines, 'GET', /^\/v2\/_catalog$/);
      expect(gets).toHaveLength(Math.ceil(catalog.length / 2));
      expect(nextLinks(paged.lines, /^\/v2\/_catalog$/)).toBe(gets.length - 1);

      const limited = await fx.traced(() => fx.registry.catalog({ n: 2, limit: 3 }));
      expect(limited.result).toEqual(catalog.slice(0, 3));
      expect(requests(limited.lines, 'GET', /^\/v2\/_catalog$/)).toHaveLength(2);
    });
  });
}

function describeBlobs(fx: ClientFixture): void {
  describe('blobs', () => {
    it('uploads bytes once, then finds, streams, reads and deletes them', async () => {
      const repo = fx.registry.repository(fx.repoName('blobs'));
      const bytes = await seededBytes(`${fx.mode}/blob`, 100_003);
      const digest = sha256(bytes);

      const first = await fx.traced(() => repo.blobs.push(bytes));
      expect(first.result).toEqual({ digest, size: bytes.byteLength, outcome: 'uploaded' });
      expect(requests(first.lines, 'PUT', UPLOAD_PATH)).toHaveLength(1);

      const again = await fx.traced(() => repo.blobs.push(bytes));
      expect(again.result).toEqual({ digest, size: bytes.byteLength, outcome: 'exists' });
      expect(requests(again.lines, 'POST')).toEqual([]);
      expect(requests(again.lines, 'PUT')).toEqual([]);
      expect(requests(again.lines, 'PATCH')).toEqual([]);

      expect(await repo.blobs.stat(digest)).toEqual({ digest, size: bytes.byteLength });
      expect(await repo.blobs.exists(digest)).toBe(true);
      expect(await hashStream(repo.blobs.fetch({ digest, size: bytes.byteLength }))).toEqual({
        digest,
        size: bytes.byteLength,
      });
      const streamed = await readAll(repo.blobs.fetch({ digest, size: bytes.byteLength }));
      expect(streamed.equals(bytes)).toBe(true);
      const whole = await repo.blobs.fetchBytes({ digest, size: bytes.byteLength });
      expect(whole.equals(bytes)).toBe(true);

      await repo.blobs.delete(digest);
      expect(await repo.blobs.exists(digest)).toBe(false);
      expect(await repo.blobs.stat(digest)).toBeUndefined();
      const error = await rejection(readAll(repo.blobs.fetch({ digest, size: bytes.byteLength })));
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).status).toBe(404);
      expect((error as RegistryError).registryCode).toBe('BLOB_UNKNOWN');
    });

    it('uploads a stream of unknown digest, hashing it on the way', async () => {
      const repo = fx.registry.repository(fx.repoName('stream'));
      const bytes = await seededBytes(`${fx.mode}/stream`, 300_001);
      const pieces = [bytes.subarray(0, 1), bytes.subarray(1, 65_537), bytes.subarray(65_537)];
      const { result, lines } = await fx.traced(() => repo.blobs.push(() => Readable.from(pieces)));
      expect(result).toEqual({
        digest: sha256(bytes),
        size: bytes.byteLength,
        outcome: 'uploaded',
      });
      // No digest, so no existence check: a chunk, then the PUT that names the computed digest.
      expect(requests(lines, 'HEAD')).toEqual([]);
      expect(requests(lines, 'PATCH', UPLOAD_PATH)).toHaveLength(1);
      const [put] = requests(lines, 'PUT', UPLOAD_PATH);
      expect(put).toContain(`digest=${encodeURIComponent(result.digest)}`);
      expect((await repo.blobs.fetchBytes(result)).equals(bytes)).toBe(true);
    });

    it('uploads a stream of known digest in one PUT', async () => {
      const repo = fx.registry.repository(fx.repoName('known'));
      const size = 2 * MiB + 7;
      const expected = await hashStream(seededStream(`${fx.mode}/known`, size));
      const { result, lines } = await fx.traced(() =>
        repo.blobs.push(() => seededStream(`${fx.mode}/known`, size), expected),
      );
      expect(result).toEqual({ ...expected, outcome: 'uploaded' });
      expect(requests(lines, 'PATCH')).toEqual([]);
      expect(requests(lines, 'PUT', UPLOAD_PATH)).toHaveLength(1);
      expect(await hashStream(repo.blobs.fetch(result))).toEqual(expected);
    });
  });
}

function describeMounts(fx: ClientFixture): void {
  describe('cross-repository mounts', () => {
    it('mounts a blob from another repository instead of uploading it', async () => {
      const source = fx.registry.repository(fx.repoName('mount-a'));
      const target = fx.registry.repository(fx.repoName('mount-b'));
      const bytes = await seededBytes(`${fx.mode}/mount`, 50_021);
      const pushed = await source.blobs.push(bytes);
      expect(pushed.outcome).toBe('uploaded');

      const { result, lines } = await fx.traced(() =>
        target.blobs.push(
          bytes,
          { digest: pushed.digest, size: pushed.size },
          {
            mountFrom: source.name,
          },
        ),
      );
      expect(result).toEqual({ digest: pushed.digest, size: bytes.byteLength, outcome: 'mounted' });
      expect(requests(lines, 'PUT')).toEqual([]);
      expect(requests(lines, 'PATCH')).toEqual([]);
      expect((await target.blobs.fetchBytes(pushed)).equals(bytes)).toBe(true);
      // With tokens, registry:2 mounts only if the token also grants pull on the source.
      const grants = (fx.reg.tokenServer?.log ?? []).map((t) => t.access);
      if (fx.mode === 'token') {
        expect(grants).toContainEqual(
          expect.arrayContaining([
            { type: 'repository', name: source.name, actions: ['pull'] },
            { type: 'repository', name: target.name, actions: ['pull', 'push'] },
          ]),
        );
      }

      const third = fx.registry.repository(fx.repoName('mount-c'));
      expect(await third.blobs.mount(pushed.digest, source.name)).toBe(true);
      expect(await third.blobs.stat(pushed.digest)).toEqual({
        digest: pushed.digest,
        size: bytes.byteLength,
      });
    });

    it('falls back when the source repository lacks the blob', async () => {
      const source = fx.registry.repository(fx.repoName('nomount-a'));
      await source.blobs.push(await seededBytes(`${fx.mode}/other`, 1000));
      const target = fx.registry.repository(fx.repoName('nomount-b', false));
      const bytes = await seededBytes(`${fx.mode}/absent`, 4099);
      const digest = sha256(bytes);

      const { result, lines } = await fx.traced(() => target.blobs.mount(digest, source.name));
      expect(result).toBe(false);
      // The upload the registry opened instead is cancelled; nothing is sent.
      expect(requests(lines, 'POST', UPLOAD_PATH)).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('< ') && / DELETE /.test(l)).at(-1)).toMatch(
        /^< 204 DELETE \S+\/blobs\/uploads\//,
      );
      expect(requests(lines, 'PUT')).toEqual([]);
      expect(requests(lines, 'PATCH')).toEqual([]);
      expect(await target.blobs.exists(digest)).toBe(false);

      const fallback = fx.registry.repository(fx.repoName('nomount-c'));
      const pushed = await fallback.blobs.push(bytes, {}, { mountFrom: source.name });
      expect(pushed).toEqual({ digest, size: bytes.byteLength, outcome: 'uploaded' });
      expect((await fallback.blobs.fetchBytes(pushed)).equals(bytes)).toBe(true);
    });
  });
}

function describeChunkedUploads(fx: ClientFixture): void {
  describe('chunked uploads', () => {
    it('uploads 64 MiB of unknown digest in 13 PATCHes of 5 MiB and streams it back', async () => {
      const size = 64 * MiB;
      const seed = `${fx.mode}/big`;
      const expected = await hashStream(seededStream(seed, size));
      const { registry, lines } = fx.open({ chunkSize: 5 * MiB, monolithicThreshold: MiB });
      const repo = registry.repository(fx.repoName('big'));

      const pushed = await repo.blobs.push(() => seededStream(seed, size));
      expect(pushed).toEqual({ ...expected, outcome: 'uploaded' });
      const patches = requests(lines, 'PATCH', UPLOAD_PATH);
      expect(patches).toHaveLength(Math.ceil(64 / 5));
      expect(patches[0]).toContain(`content-range: 0-${5 * MiB - 1}`);
      expect(patches.at(-1)).toContain(`content-range: ${60 * MiB}-${size - 1}`);
      expect(requests(lines, 'PUT', UPLOAD_PATH)).toHaveLength(1);

      const download = repo.blobs.download(pushed);
      expect(await hashStream(download.stream)).toEqual(expected);
      expect(download.stats).toMatchObject({ bytesReceived: size, resumes: 0, restarts: 0 });
    });

    it('uploads a stream of known digest over the threshold in chunks', async () => {
      const size = 12 * MiB + 1;
      const seed = `${fx.mode}/chunked-known`;
      const expected = await hashStream(seededStream(seed, size));
      const { registry, lines } = fx.open({ chunkSize: 5 * MiB, monolithicThreshold: MiB });
      const repo = registry.repository(fx.repoName('chunked'));

      const pushed = await repo.blobs.push(() => seededStream(seed, size), expected);
      expect(pushed).toEqual({ ...expected, outcome: 'uploaded' });
      // The existence check came first and found nothing.
      expect(lines.some((l) => /^< 404 HEAD \S+\/blobs\/sha256:/.test(l))).toBe(true);
      expect(requests(lines, 'PATCH', UPLOAD_PATH)).toHaveLength(3);
      expect(await hashStream(repo.blobs.fetch(pushed))).toEqual(expected);
      expect((await repo.blobs.push(() => seededStream(seed, size), expected)).outcome).toBe(
        'exists',
      );
    });
  });
}
