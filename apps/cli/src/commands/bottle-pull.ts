/** `ferry bottle pull <formulas..>`: bottles for a platform, verified as Homebrew verifies them. */
import { cacheDirOption, keepInCacheOption } from '../options/cache.js';
import { blobConcurrencyOption, parallelOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { outputDirectoryOption } from '../options/output.js';
import { remoteOptions } from '../options/remote.js';
import {
  bottlePullFlags,
  bottleSourceFlags,
  bottleUnpackFlags,
  formulasArgument,
} from '../run/args/bottle.js';
import { defineCommand } from './define.js';
import { CACHE_DIR } from './texts.js';

export const bottlePullCommand = defineCommand({
  command: 'pull <formulas..>',
  describe: 'Download bottles for a platform, verified as Homebrew verifies them',
  options: [
    remoteOptions,
    formatOptions,
    bottleSourceFlags,
    blobConcurrencyOption(4),
    parallelOption,
    formulasArgument,
    bottlePullFlags,
    outputDirectoryOption('Directory for the bottle files'),
    bottleUnpackFlags,
    cacheDirOption(CACHE_DIR),
    keepInCacheOption,
  ],
  examples: [
    [
      '$0 bottle pull sqlite --tag arm64_sonoma',
      'sqlite--3.x.arm64_sonoma.bottle.tar.gz from ghcr.io',
    ],
    ['$0 bottle pull jq --with-deps --extract ./Cellar', 'jq and oniguruma, unpacked'],
  ],
  load: () => import('../run/bottle-pull.js'),
});
