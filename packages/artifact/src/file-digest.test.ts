import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFileReusing } from './file-digest.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-file-digest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('digestFileReusing', () => {
  it.each([0, 1, 4096, 1024 * 1024, 3 * 1024 * 1024 + 7])(
    'a %i-byte file: the digest and size of its bytes, whatever size hint is given',
    async (length) => {
      const bytes = randomBytes(length);
      const path = join(dir, `f-${length}`);
      await writeFile(path, bytes);
      const expected = { digest: computeDigest(bytes), size: length };
      expect(await digestFileReusing(path)).toEqual(expected);
      expect(await digestFileReusing(path, undefined, length)).toEqual(expected);
      // A hint that is wrong (the file grew) still reads to the end.
      expect(await digestFileReusing(path, undefined, 1)).toEqual(expected);
    },
  );

  it('sha512 when asked', async () => {
    const bytes = randomBytes(5000);
    const path = join(dir, 'sha512');
    await writeFile(path, bytes);
    const { digest } = await digestFileReusing(path, undefined, undefined, 'sha512');
    expect(digest).toBe(computeDigest(bytes, 'sha512'));
  });

  it('an aborted signal stops it with the signal’s reason; a missing file is ENOENT', async () => {
    const path = join(dir, 'aborted');
    await writeFile(path, randomBytes(10));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(digestFileReusing(path, controller.signal)).rejects.toThrow('stop');
    await expect(digestFileReusing(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
