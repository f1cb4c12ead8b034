import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, EMPTY_JSON_BYTES, MediaType, type Descriptor } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIndex, editIndex, resolveIndexSource } from './index-builder.js';
import { OciLayoutTarget } from './oci-layout.js';
import type { Target } from './target.js';

let work: string;
let target: OciLayoutTarget;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-index-'));
  target = await OciLayoutTarget.open(join(work, 'layout'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function put(bytes: Buffer | string, mediaType: string): Promise<Descriptor> {
  const data = Buffer.from(bytes);
  const descriptor = { mediaType, digest: computeDigest(data), size: data.byteLength };
  await target.push(descriptor, data);
  return descriptor;
}

/** An image manifest whose config says `config`, tagged `tag`. */
async function image(t: Target, tag: string, config: object | Buffer, configType: string) {
  void t;
  const configDescriptor = await put(
    Buffer.isBuffer(config) ? config : JSON.stringify(config),
    configType,
  );
  const manifest = await put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDescriptor,
      layers: [],
    }),
    MediaType.OciManifest,
  );
  await target.tag(manifest, tag);
  return manifest;
}

describe('resolveIndexSource', () => {
  it('takes os, architecture, variant, os.version and os.features from an image config', async () => {
    const manifest = await image(
      target,
      'win',
      {
        architecture: 'arm64',
        os: 'windows',
        'os.version': '10.0.17763.1234',
        'os.features': ['win32k'],
        variant: 'v8',
        rootfs: { type: 'layers', diff_ids: [] },
      },
      MediaType.OciConfig,
    );
    const source = await resolveIndexSource(target, 'win');
    expect(source.descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifest.digest,
      size: manifest.size,
      platform: {
        architecture: 'arm64',
        os: 'windows',
        'os.version': '10.0.17763.1234',
        'os.features': ['win32k'],
        variant: 'v8',
      },
    });
  });

  it('gives an artifact (empty config, or a config without os/architecture) no platform', async () => {
    await image(target, 'a', Buffer.from(EMPTY_JSON_BYTES), MediaType.OciEmpty);
    await image(target, 'b', { name: 'x' }, 'application/vnd.example.config+json');
    await image(target, 'c', Buffer.from('not json'), 'application/octet-stream');
    for (const tag of ['a', 'b', 'c']) {
      expect((await resolveIndexSource(target, tag)).descriptor.platform).toBeUndefined();
    }
  });

  it('refuses a missing tag and a blob, naming them', async () => {
    await expect(resolveIndexSource(target, 'nope')).rejects.toThrow(/could not find.*nope/);
    const blob = await put('data', 'application/octet-stream');
    // A layout resolves only manifests by digest: a blob's digest names no manifest.
    await expect(resolveIndexSource(target, blob.digest)).rejects.toThrow(
      `could not find the manifest ${blob.digest}`,
    );
  });
});

describe('buildIndex and editIndex', () => {
  const entry = (n: number, platform?: Descriptor['platform']): Descriptor => ({
    mediaType: MediaType.OciManifest,
    digest: computeDigest(Buffer.from(String(n))),
    size: n,
    ...(platform ? { platform } : {}),
  });

  it('writes Go’s field order, so the bytes are those ORAS writes', () => {
    const built = buildIndex({
      manifests: [entry(1, { os: 'linux', architecture: 'amd64' })],
      annotations: { z: '1', a: '2' },
      artifactType: 'application/vnd.example',
    });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","artifactType":"application/vnd.example","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${entry(1).digest}","size":1,"platform":{"architecture":"amd64","os":"linux"}}],"annotations":{"a":"2","z":"1"}}`,
    );
    expect(built.descriptor).toEqual({
      mediaType: MediaType.OciIndex,
      digest: computeDigest(built.bytes),
      size: built.bytes.byteLength,
      artifactType: 'application/vnd.example',
    });
  });

  it('escapes <, >, & and U+2028/9 in strings as Go does', () => {
    const built = buildIndex({ manifests: [], annotations: { 'a&b': '<x> \u2028' } });
    expect(built.bytes.toString()).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"a\\u0026b":"\\u003cx\\u003e \\u2028"}}',
    );
    expect(JSON.parse(built.bytes.toString())).toMatchObject({
      annotations: { 'a&b': '<x> \u2028' },
    });
  });

  it('removes, then adds and merges, and sets annotations', () => {
    const index = buildIndex({ manifests: [entry(1), entry(2)], annotations: { keep: 'k' } }).index;
    const other = buildIndex({ manifests: [entry(4)] }).index;
    const edited = editIndex(index, {
      remove: [entry(1).digest],
      add: [entry(3)],
      merge: [other],
      annotations: { added: 'yes' },
    });
    expect(edited.index.manifests.map((d) => d.size)).toEqual([2, 3, 4]);
    expect(edited.index.annotations).toEqual({ added: 'yes', keep: 'k' });
  });

  it('refuses to remove a digest the index does not hold, or a tag', () => {
    const index = buildIndex({ manifests: [entry(1)] }).index;
    expect(() => editIndex(index, { remove: [entry(9).digest] }, 'x:v1')).toThrow(
      `${entry(9).digest} does not exist in x:v1`,
    );
    expect(() => editIndex(index, { remove: ['v1'] })).toThrow(
      /--remove v1: give a manifest digest/,
    );
  });
});
