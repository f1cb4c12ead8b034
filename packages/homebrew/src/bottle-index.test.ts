import { describe, expect, it } from 'vitest';
import type { Descriptor } from '@ferry/oci';
import { BOTTLE_INDEX_SIZE_LIMIT, buildBottleIndex, mergeBottleIndex } from './bottle-index.js';

describe('mergeBottleIndex and the size limit', () => {
  const entry = (ref: string): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${'0'.repeat(64)}`,
    size: 1,
    annotations: { 'org.opencontainers.image.ref.name': ref },
  });

  it('starts, refuses and appends', () => {
    const first = mergeBottleIndex(undefined, [entry('1.0.sonoma')], { annotations: { a: 'b' } });
    expect(first).toEqual({
      schemaVersion: 2,
      manifests: [entry('1.0.sonoma')],
      annotations: { a: 'b' },
    });
    expect(() => mergeBottleIndex(first, [entry('1.0.ventura')])).toThrow(
      expect.objectContaining({ code: 'ERR_BOTTLE_EXISTS' }),
    );
    const second = mergeBottleIndex(first, [entry('1.0.ventura')], {
      keepOld: true,
      annotations: { c: 'd' },
    });
    expect(
      second.manifests.map((m) => m.annotations!['org.opencontainers.image.ref.name']),
    ).toEqual(['1.0.sonoma', '1.0.ventura']);
    expect(second.annotations).toEqual({ a: 'b' });
    expect(() => mergeBottleIndex(second, [entry('1.0.sonoma')], { keepOld: true })).toThrow(
      /already in the image index/,
    );
    expect(() =>
      mergeBottleIndex(undefined, [entry('1.0.all'), entry('1.0.all')], { annotations: {} }),
    ).toThrow(expect.objectContaining({ code: 'ERR_BOTTLE_EXISTS' }));
    expect(() => mergeBottleIndex(undefined, [])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOTTLE' }),
    );
  });

  it('refuses an index of 4 MiB or more, and accepts one byte less', () => {
    const base = buildBottleIndex([], { pad: '' }).bytes.byteLength;
    const atLimit = { pad: 'x'.repeat(BOTTLE_INDEX_SIZE_LIMIT - base) };
    expect(() => buildBottleIndex([], atLimit)).toThrow(
      expect.objectContaining({ code: 'ERR_INDEX_TOO_LARGE' }),
    );
    const below = { pad: 'x'.repeat(BOTTLE_INDEX_SIZE_LIMIT - base - 1) };
    expect(buildBottleIndex([], below).bytes.byteLength).toBe(BOTTLE_INDEX_SIZE_LIMIT - 1);
  });
});
