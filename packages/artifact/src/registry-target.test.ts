// RegistryTarget against a loopback registry (testing/fake-registry.ts): the requests each
// operation sends, what it makes of the answers, and the referrers fallback of registries
// without the referrers API (registry:2 before 3.0).
import {
  computeDigest,
  EmptyJson,
  EMPTY_JSON_BYTES,
  isNotFound,
  MediaType,
  type Descriptor,
} from '@ferry/oci';
import { Registry, referrersTag } from '@ferry/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  canDelete,
  canFetchReference,
  canMount,
  canPushTagged,
  canStatBlob,
} from './capabilities.js';
import { fetchManifestByReference, readAll } from './content.js';
import { MemoryTarget } from './memory-target.js';
import { RegistryTarget } from './registry-target.js';
import { startFakeRegistry, type FakeRegistry } from './testing/fake-registry.js';

let server: FakeRegistry;
let registry: Registry;

async function start(referrersApi = true) {
  server = await startFakeRegistry({ referrersApi });
  registry = new Registry(server.host, { plainHttp: true, retry: { retries: 0 } });
}

beforeEach(() => start());
afterEach(async () => {
  await registry.close();
  await server.close();
});

const target = (name = 'a/b') => new RegistryTarget(registry, name);

const blobOf = (text: string): [Descriptor, Buffer] => {
  const bytes = Buffer.from(text);
  return [
    { mediaType: MediaType.OctetStream, digest: computeDigest(bytes), size: bytes.byteLength },
    bytes,
  ];
};

function manifestOf(layers: Descriptor[], extra: object = {}): [Descriptor, Buffer] {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: 'application/vnd.test',
      config: EmptyJson,
      layers,
      ...extra,
    }),
  );
  return [
    { mediaType: MediaType.OciManifest, digest: computeDigest(bytes), size: bytes.byteLength },
    bytes,
  ];
}

/** Pushes the empty config, one layer and a manifest over them; returns the manifest. */
async function seed(t: RegistryTarget, text = 'layer', extra: object = {}): Promise<Descriptor> {
  await t.push(EmptyJson, Buffer.from(EMPTY_JSON_BYTES));
  const [layer, bytes] = blobOf(text);
  await t.push(layer, bytes);
  const [manifest, manifestBytes] = manifestOf([layer], extra);
  await t.push(manifest, manifestBytes);
  return manifest;
}

/** Requests from `from` on, without the `/v2/<name>` prefix of repository `a/b`. */
const requestsSince = (from: number) =>
  server.requests.slice(from).map((r) => r.replace('/v2/a/b/', '/'));

describe('RegistryTarget: blobs', () => {
  it('pushes a blob without asking first, then fetches, stats and finds it', async () => {
    const t = target();
    const [descriptor, bytes] = blobOf('some blob bytes');
    await t.push(descriptor, bytes);
    const pushRequests = requestsSince(0).filter((r) => !r.startsWith('GET /v2/'));
    expect(pushRequests[0]).toBe('POST /blobs/uploads/');
    expect(pushRequests.at(-1)).toMatch(/^PUT \/blobs\/uploads\/u0\?digest=sha256%3A[0-9a-f]{64}$/);
    expect(pushRequests.some((r) => r.startsWith('HEAD'))).toBe(false);
    expect(server.repository('a/b').blobs.get(descriptor.digest)).toEqual(bytes);

    expect(await readAll(await t.fetch(descriptor), 1024)).toEqual(bytes);
    expect(await t.exists(descriptor)).toBe(true);
    expect(await t.statBlob(descriptor.digest)).toEqual({
      mediaType: MediaType.OctetStream,
      digest: descriptor.digest,
      size: bytes.byteLength,
    });
  });

  it('maps a missing blob: exists false, statBlob undefined, fetch a 404 BLOB_UNKNOWN', async () => {
    const t = target();
    const [descriptor] = blobOf('never pushed');
    expect(await t.exists(descriptor)).toBe(false);
    expect(await t.statBlob(descriptor.digest)).toBeUndefined();
    await expect(readAll(await t.fetch(descriptor), 1024)).rejects.toMatchObject({
      status: 404,
      errors: [expect.objectContaining({ code: 'BLOB_UNKNOWN' })],
    });
  });

  it('mounts a blob from another repository of the same registry, in one request', async () => {
    const source = target('a/b');
    const [descriptor, bytes] = blobOf('shared');
    await source.push(descriptor, bytes);
    const destination = target('c/d');
    const before = server.requests.length;
    expect(await destination.mount(descriptor, source)).toBe(true);
    expect(server.requests.slice(before)).toEqual([
      `POST /v2/c/d/blobs/uploads/?mount=${encodeURIComponent(descriptor.digest)}&from=a%2Fb`,
    ]);
    expect(server.repository('c/d').blobs.get(descriptor.digest)).toEqual(bytes);
  });

  it('does not mount from a target of another kind, the same repository, or a manifest', async () => {
    const t = target();
    const [descriptor, bytes] = blobOf('x');
    await t.push(descriptor, bytes);
    const before = server.requests.length;
    expect(await target('c/d').mount(descriptor, new MemoryTarget())).toBe(false);
    expect(await target('a/b').mount(descriptor, t)).toBe(false);
    expect(await target('c/d').mount({ ...descriptor, mediaType: MediaType.OciManifest }, t)).toBe(
      false,
    );
    expect(server.requests.length).toBe(before);
  });
});

describe('RegistryTarget: manifests and tags', () => {
  it('pushes a manifest by digest and tags it without fetching it back', async () => {
    const t = target();
    const manifest = await seed(t);
    const before = server.requests.length;
    await t.tag(manifest, 'v1');
    expect(requestsSince(before)).toEqual(['PUT /manifests/v1']);
    expect(server.repository('a/b').tags.get('v1')).toBe(manifest.digest);
  });

  it('fetches a manifest it did not push before tagging it (GET, then PUT by tag)', async () => {
    const manifest = await seed(target());
    const fresh = target();
    const before = server.requests.length;
    await fresh.tag(manifest, 'v2');
    expect(requestsSince(before)).toEqual([
      `GET /manifests/${manifest.digest}`,
      'PUT /manifests/v2',
    ]);
  });

  it('pushTagged sends one PUT by tag', async () => {
    const t = target();
    await t.push(EmptyJson, Buffer.from(EMPTY_JSON_BYTES));
    const [manifest, bytes] = manifestOf([]);
    const before = server.requests.length;
    await t.pushTagged(manifest, bytes, 'latest');
    expect(requestsSince(before)).toEqual(['PUT /manifests/latest']);
    expect(server.repository('a/b').manifests.get(manifest.digest)?.bytes).toEqual(bytes);
  });

  it('resolves a tag with one HEAD, and fetches the manifest bytes by digest', async () => {
    const t = target();
    const manifest = await seed(t);
    await t.tag(manifest, 'v1');
    const before = server.requests.length;
    expect(await t.resolve('v1')).toEqual(manifest);
    expect(requestsSince(before)).toEqual(['HEAD /manifests/v1']);
    const bytes = await readAll(await t.fetch(manifest), 1 << 20);
    expect(computeDigest(bytes)).toBe(manifest.digest);
    expect(await t.exists(manifest)).toBe(true);
  });

  it('fetches a manifest by tag in one GET, verified, through fetchManifestByReference', async () => {
    const t = target();
    const manifest = await seed(t);
    await t.tag(manifest, 'v1');
    const before = server.requests.length;
    const fetched = await fetchManifestByReference(t, 'v1');
    // One request where resolve-then-fetch would send a HEAD and a GET.
    expect(requestsSince(before)).toEqual(['GET /manifests/v1']);
    expect(fetched.descriptor).toEqual(manifest);
    expect(computeDigest(fetched.bytes)).toBe(manifest.digest);
    expect(fetched.parsed.kind).toBe('manifest');
  });

  it('fetchReference of a missing tag rejects with the shared not-found', async () => {
    const t = target();
    const failure: unknown = await t.fetchReference('nope').catch((error: unknown) => error);
    expect(isNotFound(failure)).toBe(true);
    expect(failure).toMatchObject({ status: 404, method: 'GET' });
  });

  it('maps a missing tag: resolve rejects with the 404 of its HEAD, exists is false', async () => {
    const t = target();
    // A HEAD has no body to carry MANIFEST_UNKNOWN: the status is what callers test.
    await expect(t.resolve('nope')).rejects.toMatchObject({ status: 404, method: 'HEAD' });
    const [manifest] = manifestOf([]);
    expect(await t.exists(manifest)).toBe(false);
  });

  it('lists tags from tags/list', async () => {
    const t = target();
    const manifest = await seed(t);
    await t.tag(manifest, 'v2');
    await t.tag(manifest, 'v1');
    const before = server.requests.length;
    expect(await t.tags()).toEqual(['v1', 'v2']);
    expect(requestsSince(before)).toEqual(['GET /tags/list']);
  });

  it('deletes a manifest (read first for its subject) and a blob', async () => {
    const t = target();
    const manifest = await seed(t);
    const [layer] = blobOf('layer');
    const before = server.requests.length;
    await t.delete(manifest);
    await t.delete(layer);
    expect(requestsSince(before)).toEqual([
      `GET /manifests/${manifest.digest}`,
      `DELETE /manifests/${manifest.digest}`,
      `DELETE /blobs/${layer.digest}`,
    ]);
    expect(server.repository('a/b').manifests.has(manifest.digest)).toBe(false);
    expect(server.repository('a/b').blobs.has(layer.digest)).toBe(false);
  });
});

describe('RegistryTarget: referrers', () => {
  async function attach(t: RegistryTarget, subject: Descriptor, artifactType: string) {
    const ref = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
    return seed(t, `referrer ${artifactType}`, { artifactType, subject: ref });
  }

  it('asks the referrers API, with the artifact type, where the registry has it', async () => {
    const t = target();
    const subject = await seed(t);
    const sbom = await attach(t, subject, 'application/spdx+json');
    const signature = await attach(t, subject, 'application/vnd.sig');
    const before = server.requests.length;
    const all = await t.referrers(subject);
    expect(all.map((d) => d.digest).sort()).toEqual([sbom.digest, signature.digest].sort());
    expect(await t.referrers(subject, { artifactType: 'application/vnd.sig' })).toEqual([
      { ...signature, artifactType: 'application/vnd.sig' },
    ]);
    expect(requestsSince(before)).toEqual([
      `GET /referrers/${subject.digest}`,
      `GET /referrers/${subject.digest}?artifactType=application%2Fvnd.sig`,
    ]);
    // The registry indexed them itself: no fallback tag was written.
    expect(server.repository('a/b').tags.has(referrersTag(subject.digest))).toBe(false);
  });

  it('on a registry without the API (2.8), keeps and reads the sha256-<hex> tag index', async () => {
    await registry.close();
    await server.close();
    await start(false);
    const t = target();
    const subject = await seed(t);
    const sbom = await attach(t, subject, 'application/spdx+json');
    const fallbackTag = referrersTag(subject.digest);
    expect(server.repository('a/b').tags.has(fallbackTag)).toBe(true);

    const before = server.requests.length;
    const found = await t.referrers(subject);
    expect(found).toEqual([{ ...sbom, artifactType: 'application/spdx+json' }]);
    expect(requestsSince(before)).toEqual([
      `GET /referrers/${subject.digest}`,
      `GET /manifests/${fallbackTag}`,
    ]);
    expect(await t.referrers(subject, { artifactType: 'application/vnd.other' })).toEqual([]);
  });

  it('lists no referrers for a subject nobody refers to, on either kind of registry', async () => {
    const t = target();
    expect(await t.referrers(await seed(t))).toEqual([]);
    await registry.close();
    await server.close();
    await start(false);
    const old = target();
    expect(await old.referrers(await seed(old))).toEqual([]);
  });
});

describe('RegistryTarget: capabilities', () => {
  it('can mount, push by tag, delete, stat blobs and fetch by tag; resumes downloads', () => {
    const t = target();
    expect(canMount(t)).toBe(true);
    expect(canPushTagged(t)).toBe(true);
    expect(canDelete(t)).toBe(true);
    expect(canStatBlob(t)).toBe(true);
    expect(canFetchReference(t)).toBe(true);
    expect(t.resumable).toBe(true);
    expect(t.name).toBe(`${server.host}/a/b`);
  });
});
