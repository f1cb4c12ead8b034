import { describe, expect, it } from 'vitest';
import { EmptyJson, MANIFEST_SIZE_LIMIT, MediaType } from './constants.js';
import { computeDigest } from './digest.js';
import { FerryError, ManifestInvalidError } from './errors.js';
import { describeManifest, parseManifest } from './manifest.js';

const D1 = computeDigest('layer-1');
const D2 = computeDigest('layer-2');

function artifact(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: 'application/vnd.example.model',
    config: { ...EmptyJson },
    layers: [
      {
        mediaType: 'application/octet-stream',
        digest: D1,
        size: 7,
        annotations: { 'org.opencontainers.image.title': 'weights.bin' },
      },
    ],
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    ...overrides,
  };
}

function index(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const entry = (digest: string, architecture: string) => ({
    mediaType: MediaType.OciManifest,
    digest,
    size: 100,
    platform: { os: 'linux', architecture },
  });
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [entry(D1, 'amd64'), entry(D2, 'arm64'), entry(D1, 'riscv64')],
    ...overrides,
  };
}

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

function problem(input: Uint8Array | string, contentType?: string): ManifestInvalidError {
  try {
    parseManifest(input, contentType);
  } catch (error) {
    if (error instanceof ManifestInvalidError) return error;
    throw error;
  }
  throw new Error('expected parseManifest to refuse the input');
}

describe('parseManifest: valid documents', () => {
  it('reads an OCI 1.1 artifact manifest with an empty config', () => {
    const parsed = parseManifest(bytes(artifact()));
    expect(parsed.kind).toBe('manifest');
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    if (parsed.kind !== 'manifest') throw new Error('unreachable');
    expect(parsed.manifest.layers[0]?.annotations?.['org.opencontainers.image.title']).toBe(
      'weights.bin',
    );
    expect(parsed.manifest.config.digest).toBe(EmptyJson.digest);
  });

  it('reads an OCI index and a Docker manifest list', () => {
    expect(parseManifest(bytes(index())).kind).toBe('index');
    const list = parseManifest(bytes(index({ mediaType: MediaType.DockerManifestList })));
    expect(list).toMatchObject({ kind: 'index', mediaType: MediaType.DockerManifestList });
  });

  it('reads a Docker schema 2 manifest', () => {
    const docker = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: D1, size: 10 },
      layers: [{ mediaType: MediaType.DockerLayerGzip, digest: D2, size: 20 }],
    };
    expect(parseManifest(bytes(docker))).toMatchObject({
      kind: 'manifest',
      mediaType: MediaType.DockerManifest,
    });
  });

  it('takes the kind from the Content-Type when the document omits mediaType', () => {
    const { mediaType: _omitted, ...rest } = index();
    expect(
      parseManifest(bytes(rest), `${MediaType.DockerManifestList}; charset=utf-8`),
    ).toMatchObject({
      kind: 'index',
      mediaType: MediaType.DockerManifestList,
    });
  });

  it('infers the kind from the fields when nothing names it, ignoring generic content types', () => {
    const { mediaType: _m, ...manifest } = artifact();
    expect(parseManifest(bytes(manifest), 'application/json').mediaType).toBe(
      MediaType.OciManifest,
    );
    const { mediaType: _i, ...list } = index();
    expect(parseManifest(JSON.stringify(list)).mediaType).toBe(MediaType.OciIndex);
  });

  it('keeps unknown fields, as the spec requires of readers', () => {
    const parsed = parseManifest(bytes(artifact({ 'x-extra': { nested: true } })));
    expect(
      (parsed as unknown as { manifest: Record<string, unknown> }).manifest['x-extra'],
    ).toEqual({ nested: true });
  });

  it('checks inline data against size and digest', () => {
    expect(() => parseManifest(bytes(artifact()))).not.toThrow();
    const wrongData = artifact({ config: { ...EmptyJson, data: 'e30K' } });
    expect(problem(bytes(wrongData)).message).toBe(
      'invalid manifest: config.data: holds 3 bytes but size is 2',
    );
    const lied = artifact({ config: { ...EmptyJson, data: 'W10=' } });
    expect(problem(bytes(lied)).path).toBe('config.data');
    expect(problem(bytes(lied)).message).toContain(`hashes to ${computeDigest('[]')}`);
  });

  it('describes manifest bytes with a computed digest', () => {
    const raw = bytes(artifact());
    expect(describeManifest(raw, MediaType.OciManifest)).toEqual({
      mediaType: MediaType.OciManifest,
      digest: computeDigest(raw),
      size: raw.byteLength,
    });
  });
});

describe('parseManifest: the JSON path of the first problem', () => {
  const layer0 = (artifact().layers as Record<string, unknown>[])[0]!;
  const cases: [string, unknown, string, string][] = [
    ['schemaVersion missing', artifact({ schemaVersion: undefined }), 'schemaVersion', 'required'],
    ['schemaVersion 1', index({ schemaVersion: 1 }), 'schemaVersion', 'must be 2, got 1'],
    ['config missing', artifact({ config: undefined }), 'config', 'required'],
    ['layers not an array', artifact({ layers: {} }), 'layers', 'expected an array, got an object'],
    [
      'a layer digest',
      artifact({ layers: [layer0, { ...layer0, digest: 'sha256:abc' }] }),
      'layers[1].digest',
      'not a valid digest',
    ],
    [
      'an index digest',
      index({
        manifests: [
          ...(index().manifests as unknown[]).slice(0, 2),
          { mediaType: MediaType.OciManifest, digest: 'md5:x', size: 1 },
        ],
      }),
      'manifests[2].digest',
      'not a valid digest',
    ],
    [
      'a negative size',
      artifact({ layers: [{ ...layer0, size: -1 }] }),
      'layers[0].size',
      'non-negative integer',
    ],
    [
      'a fractional size',
      artifact({ layers: [{ ...layer0, size: 1.5 }] }),
      'layers[0].size',
      'got 1.5',
    ],
    [
      'a size beyond 2^53',
      artifact({ layers: [{ ...layer0, size: 1e300 }] }),
      'layers[0].size',
      'non-negative integer',
    ],
    [
      'a string size',
      artifact({ layers: [{ ...layer0, size: '7' }] }),
      'layers[0].size',
      'got "7"',
    ],
    [
      'an annotation that is not a string',
      artifact({ layers: [{ ...layer0, annotations: { 'org.opencontainers.image.title': 1 } }] }),
      'layers[0].annotations["org.opencontainers.image.title"]',
      'annotation values are strings, got a number',
    ],
    [
      'a bad media type',
      artifact({ layers: [{ ...layer0, mediaType: 'not a media type' }] }),
      'layers[0].mediaType',
      'is not a valid media type',
    ],
    [
      'a bad artifactType',
      artifact({ artifactType: 'x' }),
      'artifactType',
      'not a valid media type',
    ],
    [
      'a platform without os',
      index({
        manifests: [
          {
            mediaType: MediaType.OciManifest,
            digest: D1,
            size: 1,
            platform: { architecture: 'amd64' },
          },
        ],
      }),
      'manifests[0].platform.os',
      'required',
    ],
    [
      'urls that are not strings',
      artifact({ layers: [{ ...layer0, urls: [1] }] }),
      'layers[0].urls[0]',
      'expected a string, got a number',
    ],
    ['a subject that is not an object', artifact({ subject: [] }), 'subject', 'got an array'],
    ['an index with layers', index({ layers: [] }), 'layers', 'not allowed'],
    ['a manifest with manifests', artifact({ manifests: [] }), 'manifests', 'not allowed'],
    ['both shapes and no type', { schemaVersion: 2, manifests: [], layers: [] }, '(root)', 'both'],
    ['neither shape', { schemaVersion: 2 }, 'mediaType', 'missing'],
    ['an array at the root', [], '(root)', 'expected an object, got an array'],
    ['null at the root', null, '(root)', 'got null'],
    [
      'Docker schema 2 without mediaType',
      {
        schemaVersion: 2,
        config: { mediaType: MediaType.DockerConfig, digest: D1, size: 1 },
        layers: [],
      },
      'mediaType',
      'required in a Docker schema 2',
    ],
  ];

  it.each(cases)('%s', (_name, document, path, message) => {
    const contentType =
      _name === 'Docker schema 2 without mediaType' ? MediaType.DockerManifest : undefined;
    const error = problem(bytes(document), contentType);
    expect(error.code).toBe('ERR_MANIFEST_INVALID');
    expect(error.path).toBe(path);
    expect(error.message).toContain(`${path}: `);
    expect(error.message).toContain(message);
  });

  it('refuses a mediaType that contradicts the Content-Type', () => {
    const error = problem(bytes(artifact()), MediaType.OciIndex);
    expect(error.path).toBe('mediaType');
    expect(error.message).toContain('does not match the content type');
  });
});

describe('parseManifest: hostile and unsupported input', () => {
  it('refuses more than 4 MiB before parsing', () => {
    const huge = Buffer.alloc(MANIFEST_SIZE_LIMIT + 1, 0x20);
    expect(() => parseManifest(huge)).toThrow(
      expect.objectContaining({ code: 'ERR_MANIFEST_TOO_LARGE', size: MANIFEST_SIZE_LIMIT + 1 }),
    );
    const padded = Buffer.concat([bytes(artifact()), Buffer.alloc(MANIFEST_SIZE_LIMIT, 0x20)]);
    expect(() => parseManifest(padded.subarray(0, MANIFEST_SIZE_LIMIT))).not.toThrow(
      expect.objectContaining({ code: 'ERR_MANIFEST_TOO_LARGE' }),
    );
  });

  it.each([
    ['truncated JSON', bytes(artifact()).subarray(0, 40)],
    ['deeply nested JSON', Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000))],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(artifact())])],
    ['empty input', Buffer.alloc(0)],
  ])('refuses %s with a FerryError', (_name, input) => {
    let caught: unknown;
    try {
      parseManifest(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FerryError);
    expect((caught as FerryError).code).toBe('ERR_MANIFEST_INVALID');
  });

  it('refuses Docker schema 1 and the withdrawn OCI artifact manifest by media type', () => {
    expect(() => parseManifest(bytes({ schemaVersion: 1, name: 'x', fsLayers: [] }))).toThrow(
      expect.objectContaining({
        code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringContaining('schema 1'),
      }),
    );
    const withdrawn = { ...artifact(), mediaType: 'application/vnd.oci.artifact.manifest.v1+json' };
    expect(() => parseManifest(bytes(withdrawn))).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_MEDIA_TYPE' }),
    );
  });
});

describe('EMPTY_JSON_BYTES', () => {
  it('is the two bytes {} that EmptyJson describes, and streams as one chunk', async () => {
    const { Readable } = await import('node:stream');
    const { EMPTY_JSON_BYTES } = await import('./constants.js');
    expect(computeDigest(EMPTY_JSON_BYTES)).toBe(EmptyJson.digest);
    const chunks: unknown[] = [];
    for await (const chunk of Readable.from(EMPTY_JSON_BYTES)) chunks.push(chunk);
    expect(chunks).toHaveLength(1);
    expect(Buffer.isBuffer(chunks[0])).toBe(true);
  });
});
