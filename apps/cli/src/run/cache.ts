import { BlobCache, defaultCacheDir } from '@ferry/artifact';
import { makeDirectory } from '@ferry/registry';
import type { Context } from '../context.js';

/**
 * The download cache, or none (with a warning) when its directory cannot be made. `keepLarge`:
 * keep a copy of large blobs placed at files even where that costs a second write (--keep-in-cache).
 */
export async function openCache(
  context: Context,
  dir: string | undefined,
  options: { keepLarge?: boolean } = {},
): Promise<BlobCache | undefined> {
  const path = dir ?? defaultCacheDir();
  try {
    // 0700: what is in it decides what pulls write (see BlobCache); no one else gets to look.
    await makeDirectory(path, { mode: 0o700 });
    return new BlobCache(path, { keep: options.keepLarge ? 'always' : 'when-cheap' });
  } catch (error) {
    context.io.stderr(
      `Warning: no download cache (${(error as Error).message}); downloads will not resume across runs\n`,
    );
    return undefined;
  }
}
