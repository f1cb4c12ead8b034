/** `ferry copy|cp <from> <to>`: ORAS's cp, between registries and OCI layouts. */
import { cacheDirOption } from '../options/cache.js';
import { blobConcurrencyOption, parallelOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { platformOption } from '../options/platform.js';
import {
  destinationOptions,
  endCredentialOptions,
  ociLayoutOption,
  remoteOptions,
  sourceOptions,
} from '../options/remote.js';
import { copyArguments, copyFlags } from '../run/args/copy.js';
import { defineCommand } from './define.js';
import { RANGE_CACHE_DIR } from './texts.js';

export const copyCommand = defineCommand({
  command: 'copy <from> <to>',
  aliases: ['cp'],
  describe: 'Copy an artifact or image between registries and OCI layouts, digests unchanged',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    blobConcurrencyOption(3),
    sourceOptions,
    destinationOptions,
    parallelOption,
    cacheDirOption(RANGE_CACHE_DIR),
    copyArguments,
    copyFlags,
    platformOption('Copy only this platform from an index'),
    endCredentialOptions,
  ],
  examples: [
    [
      '$0 cp --from-username me --from-password-stdin ghcr.io/a/b:v1 localhost:5000/b:v1',
      'Copy with credentials for the source registry only',
    ],
    [
      '$0 cp -r localhost:5000/a:v1 localhost:5000/b:v1',
      'Copy with referrers (blobs are mounted, not re-sent)',
    ],
    ['$0 cp localhost:5000/a:v1 ./layout:v1 --to-oci-layout', 'Copy into an OCI layout'],
  ],
  load: () => import('../run/copy.js'),
});
