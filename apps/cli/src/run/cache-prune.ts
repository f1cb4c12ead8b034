import { BlobCache, defaultCacheDir } from '@ferry/artifact';
import type { CachePruneArgs } from './args/cache.js';
import type { Context } from '../context.js';
import { plural, printResult } from '../output.js';
import { formatBytes } from '../progress.js';

export async function run(context: Context, args: CachePruneArgs): Promise<void> {
  const cache = new BlobCache(args['cache-dir'] ?? defaultCacheDir());
  const { files, bytes } = await cache.prune();
  printResult(
    context,
    [`Removed ${plural(files, 'file')} (${formatBytes(bytes)}) from ${cache.dir}`],
    {
      cacheDir: cache.dir,
      files,
      bytes,
    },
  );
}
