// A .bottle.json whose sha256 disagrees with its tarball raises the one digest-mismatch error.
import { readFile, writeFile } from 'node:fs/promises';
import { DigestMismatchError } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import { readBottleFiles } from './inputs.js';
import { TAB_LINUX, usePushHarness, writeBottleJson } from './testing/push-harness.js';

usePushHarness();

describe('readBottleFiles', () => {
  it('a tarball whose sha256 is not the one its .bottle.json records: DigestMismatchError', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { x86_64_linux: { tab: TAB_LINUX } },
    });
    const actual = hash.bottle.tags['x86_64_linux']?.file.sha256 ?? '';
    const recorded = 'f'.repeat(64);
    await writeFile(jsonPath, (await readFile(jsonPath, 'utf8')).replace(actual, recorded));
    const error = await readBottleFiles([jsonPath]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
      expected: `sha256:${recorded}`,
      actual: `sha256:${actual}`,
    });
    expect((error as Error).message).toContain(jsonPath);
  });
});
