/** `ferry cache prune`: empty the download cache. */
import { cacheDirOption, CACHE_DEFAULT } from '../options/cache.js';
import { formatOptions } from '../options/format.js';
import { defineCommand } from './define.js';

export const cachePruneCommand = defineCommand({
  command: 'prune',
  describe: 'Empty the download cache (complete and partial downloads)',
  options: [formatOptions, cacheDirOption(`The cache (${CACHE_DEFAULT})`)],
  load: () => import('../run/cache-prune.js'),
});
