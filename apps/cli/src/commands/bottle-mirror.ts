/** `ferry bottle mirror <formulas..>`: bottle images to another registry, digests kept. */
import { blobConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { remoteOptions } from '../options/remote.js';
import {
  bottleMirrorFlags,
  bottleSourceFlags,
  mirrorFormulasArgument,
} from '../run/args/bottle.js';
import { defineCommand } from './define.js';

export const bottleMirrorCommand = defineCommand({
  command: 'mirror <formulas..>',
  describe: 'Copy bottle images to another registry with every digest kept',
  options: [
    remoteOptions,
    formatOptions,
    bottleSourceFlags,
    blobConcurrencyOption(4),
    mirrorFormulasArgument,
    bottleMirrorFlags,
  ],
  examples: [
    [
      '$0 bottle mirror sqlite --with-deps --to registry.internal:5000/mirror',
      'For HOMEBREW_ARTIFACT_DOMAIN=https://registry.internal:5000/v2/mirror',
    ],
  ],
  load: () => import('../run/bottle-mirror.js'),
});
