/** `ferry blob fetch <reference>`: a blob by digest, verified, to a file or stdout. */
import { cacheDirOption } from '../options/cache.js';
import { parallelOption } from '../options/concurrency.js';
import { descriptorOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { outputFileOption } from '../options/output.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { blobDigestArgument } from '../run/args/blob.js';
import { defineCommand } from './define.js';
import { RANGE_CACHE_DIR } from './texts.js';

export const blobFetchCommand = defineCommand({
  command: 'fetch <reference>',
  describe: 'Fetch a blob by digest (verified) to a file or stdout',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    parallelOption,
    cacheDirOption(RANGE_CACHE_DIR),
    blobDigestArgument,
    outputFileOption('File to write, or - for stdout'),
    descriptorOption('Print the blob’s descriptor instead'),
  ],
  load: () => import('../run/blob-fetch.js'),
});
