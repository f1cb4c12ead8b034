import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTarget, OciLayoutTarget, type Target } from '@ferry/artifact';
import { computeDigest } from '@ferry/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TargetRef } from '../context.js';
import { blobDescriptor } from './blob-shared.js';

const ref = (target: Target, kind: TargetRef['kind'] = 'oci-layout'): TargetRef => ({
  target,
  reference: undefined,
  extraTags: [],
  display: target.name,
  base: target.name,
  kind,
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-blob-shared-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('blobDescriptor asks the target for the size (statBlob), whatever it is', () => {
  it('a layout: the size of its blob file, with the media type asked for', async () => {
    const layout = await OciLayoutTarget.open(join(dir, 'layout'));
    const bytes = Buffer.from('eleven byte');
    const digest = computeDigest(bytes);
    await layout.push({ mediaType: 'application/octet-stream', digest, size: 11 }, bytes);
    expect(await blobDescriptor(ref(layout), digest, 'text/plain')).toEqual({
      mediaType: 'text/plain',
      digest,
      size: 11,
    });
  });

  it('a memory target: the stored size; a missing blob is ERR_NOT_FOUND naming the target', async () => {
    const memory = new MemoryTarget('blobs');
    const { digest } = await memory.add('four');
    expect((await blobDescriptor(ref(memory), digest)).size).toBe(4);
    const absent = computeDigest('absent');
    await expect(blobDescriptor(ref(memory), absent)).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: `blob ${absent} not found in memory:blobs`,
    });
  });

  it('a target that cannot look blobs up by digest: not found, as before', async () => {
    const memory = new MemoryTarget('plain');
    const { digest } = await memory.add('data');
    const withoutStat = new Proxy(memory, {
      get: (target, property) =>
        property === 'statBlob' ? undefined : Reflect.get(target, property, target),
    });
    await expect(blobDescriptor(ref(withoutStat), digest)).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    });
  });
});
