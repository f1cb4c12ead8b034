import { computeDigest, EmptyJson, MediaType } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextLink, referrersTag } from './referrers.js';
import { Registry } from './registry.js';
import { json, recordingSleep, startLoopback, type LoopbackServer } from './testing/loopback.js';

let server: LoopbackServer;
let registry: Registry;
beforeEach(async () => {
  server = await startLoopback();
  registry = new Registry(server.host, { sleep: recordingSleep().sleep });
});
afterEach(async () => {
  await registry.close();
  await server.close();
});

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: 'application/vnd.example',
    config: EmptyJson,
    layers: [],
  }),
);
const manifestDigest = computeDigest(manifest);

describe('manifests', () => {
  it('fetches by tag with the full Accept list and returns the exact bytes', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'docker-content-digest': manifestDigest,
      });
      res.end(manifest);
    };
    const fetched = await registry.repository('a/b').manifests.fetch('v1');
    expect(fetched.bytes.equals(manifest)).toBe(true);
    expect(fetched.descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifestDigest,
      size: manifest.byteLength,
    });
    expect(server.requests[0]?.headers.accept).toBe(
      [
        MediaType.OciIndex,
        MediaType.OciManifest,
        MediaType.DockerManifestList,
        MediaType.DockerManifest,
      ].join(', '),
    );
  });

  it('rejects bytes that do not hash to the digest asked for', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest });
      res.end(manifest);
    };
    const wanted = computeDigest('another manifest');
    await expect(registry.repository('a/b').manifests.fetch(wanted)).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
      expected: wanted,
      actual: manifestDigest,
    });
  });

  it('refuses a 5 MiB manifest, announced or not', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    server.handle = (_req, res) => {
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'content-length': huge.byteLength,
      });
      res.end(huge);
    };
    await expect(registry.repository('a/b').manifests.fetch('big')).rejects.toMatchObject({
      code: 'ERR_MANIFEST_TOO_LARGE',
    });
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest, 'transfer-encoding': 'chunked' });
      res.end(huge);
    };
    await expect(registry.repository('a/b').manifests.fetch('big')).rejects.toMatchObject({
      message: expect.stringContaining('exceeds the 4194304-byte limit'),
    });
  });

  it('resolves with HEAD when the registry gives the digest', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'content-length': manifest.byteLength,
        'docker-content-digest': manifestDigest,
      });
      res.end();
    };
    const descriptor = await registry.repository('a/b').manifests.resolve('v1');
    expect(descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifestDigest,
      size: manifest.byteLength,
    });
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('names the repository and tag when a manifest is unknown', async () => {
    server.handle = (_req, res) =>
      json(res, 404, {
        errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'v9' } }],
      });
    const error = await registry
      .repository('a/b')
      .manifests.fetch('v9')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, registryCode: 'MANIFEST_UNKNOWN' });
    expect((error as Error).message).toBe(
      `GET http://${server.host}/v2/a/b/manifests/v9: 404 MANIFEST_UNKNOWN: manifest unknown`,
    );
  });

  it('refuses to push bytes under a digest they do not have', async () => {
    await expect(
      registry
        .repository('a/b')
        .manifests.push(computeDigest('x'), manifest, MediaType.OciManifest),
    ).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('referrers API', () => {
  const subject = computeDigest('subject');
  const sbom = {
    mediaType: MediaType.OciManifest,
    digest: computeDigest('a'),
    size: 10,
    artifactType: 'application/spdx+json',
  };
  const sig = {
    mediaType: MediaType.OciManifest,
    digest: computeDigest('b'),
    size: 10,
    artifactType: 'application/vnd.dev.cosign',
  };

  it('uses the API when the registry has it, filtering client-side when the server did not', async () => {
    server.handle = (_req, res) =>
      json(res, 200, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [sbom, sig] });
    const all = await registry.repository('a/b').referrers(subject);
    expect(all.map((d) => d.digest)).toEqual([sbom.digest, sig.digest]);
    const sboms = await registry
      .repository('a/b')
      .referrers(subject, { artifactType: 'application/spdx+json' });
    expect(sboms).toEqual([sbom]);
    expect(server.requests[1]?.url).toBe(
      `/v2/a/b/referrers/${subject}?artifactType=application%2Fspdx%2Bjson`,
    );
  });

  it('follows Link pages of referrers', async () => {
    server.handle = (req, res) => {
      const page2 = req.url?.includes('page=2');
      json(
        res,
        200,
        { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [page2 ? sig : sbom] },
        page2 ? {} : { link: `</v2/a/b/referrers/${subject}?page=2>; rel="next"` },
      );
    };
    expect((await registry.repository('a/b').referrers(subject)).map((d) => d.digest)).toEqual([
      sbom.digest,
      sig.digest,
    ]);
  });

  it('falls back to the sha256-<hex> tag on 404, and to nothing when that is missing too', async () => {
    server.handle = (req, res) => {
      if (req.url?.includes('/referrers/'))
        return json(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
      if (req.url?.endsWith(`/manifests/${referrersTag(subject)}`)) {
        return json(
          res,
          200,
          { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [sbom, sig] },
          { 'content-type': MediaType.OciIndex },
        );
      }
      json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    };
    expect(
      await registry.repository('a/b').referrers(subject, { artifactType: sig.artifactType }),
    ).toEqual([sig]);
    expect(await registry.repository('a/b').referrers(computeDigest('lonely'))).toEqual([]);
  });
});

describe('helpers', () => {
  it('names the fallback tag by algorithm and hex, cut to 64 characters', () => {
    expect(referrersTag(`sha256:${'a'.repeat(64)}`)).toBe(`sha256-${'a'.repeat(64)}`);
    expect(referrersTag(`sha512:${'b'.repeat(128)}`)).toBe(`sha512-${'b'.repeat(64)}`);
  });

  it('reads rel="next" from Link headers', () => {
    const base = new URL('https://r.example/v2/a/tags/list?n=2');
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base)?.href).toBe(
      'https://r.example/v2/a/tags/list?n=2&last=b',
    );
    expect(nextLink('<https://x/prev>; rel="prev", </next>; rel=next', base)?.href).toBe(
      'https://r.example/next',
    );
    expect(nextLink(undefined, base)).toBeUndefined();
    expect(nextLink('garbage', base)).toBeUndefined();
  });

  it('lists tags across pages', async () => {
    server.handle = (req, res) => {
      const last = new URL(req.url ?? '/', server.origin).searchParams.get('last');
      const pages: Record<string, [string[], string | undefined]> = {
        '': [['a', 'b'], 'b'],
        b: [['c', 'd'], 'd'],
        d: [['e'], undefined],
      };
      const [tags, next] = pages[last ?? ''] ?? [[], undefined];
      json(
        res,
        200,
        { name: 'x/y', tags },
        next ? { link: `</v2/x/y/tags/list?n=2&last=${next}>; rel="next"` } : {},
      );
    };
    expect(await registry.repository('x/y').tags({ n: 2 })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(server.requests[0]?.url).toBe('/v2/x/y/tags/list?n=2');
    expect(await registry.repository('x/y').tags({ n: 2, limit: 3 })).toEqual(['a', 'b', 'c']);
  });
});
