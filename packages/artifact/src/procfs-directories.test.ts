// Node 20's recursive mkdir never settles for a path under /proc (the kernel answers ENOENT for
// the new directory and EEXIST for /proc, for ever): every directory a user names must fail at
// once instead, naming the path. Each test here hung until its timeout before.
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  Annotation,
  computeDigest,
  EmptyJson,
  MediaType,
  type Descriptor,
  type ImageManifest,
} from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import { ensureCacheDir } from './cache-files.js';
import { OciLayoutTarget } from './oci-layout.js';
import { unpack } from './unpack.js';

const procfs = process.platform === 'linux' && existsSync('/proc/self');
const refused = /^cannot create the directory \/proc\/ferry-test(\/[a-z-]+)*: /;

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error & { code?: string },
  );
}

describe.skipIf(!procfs)('directories under /proc', () => {
  it('a download cache there is refused at once, naming it', async () => {
    const error = await rejection(ensureCacheDir('/proc/ferry-test/cache', 'sha256'));
    expect(error.message).toMatch(refused);
    expect(error.message).toContain('/proc/ferry-test');
  }, 1000);

  it('an OCI layout there is refused at once, naming it', async () => {
    const error = await rejection(OciLayoutTarget.open('/proc/ferry-test/layout'));
    expect(error.code).toBe('ENOENT');
    expect(error.message).toMatch(refused);
  }, 1000);

  it('an output directory there is refused at once, naming it', async () => {
    const bytes = Buffer.from('payload');
    const layer: Descriptor = {
      mediaType: MediaType.OciLayer,
      digest: computeDigest(bytes),
      size: bytes.byteLength,
      annotations: { [Annotation.Title]: 'a.txt' },
    };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: EmptyJson,
      layers: [layer],
    };
    const fetcher = { fetch: async () => Readable.from([bytes]) };
    const error = await rejection(unpack(manifest, fetcher, { outputDir: '/proc/ferry-test/out' }));
    expect(error.message).toMatch(refused);
  }, 1000);
});
