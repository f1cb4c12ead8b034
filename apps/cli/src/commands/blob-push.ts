/** `ferry blob push <reference> <file>`. */
import { descriptorOption, prettyOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { blobPushArguments, blobPushFlags } from '../run/args/blob.js';
import { defineCommand } from './define.js';

export const blobPushCommand = defineCommand({
  command: 'push <reference> <file>',
  describe: 'Push a file (or - for stdin) as a blob',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    blobPushArguments,
    blobPushFlags,
    descriptorOption('Print its descriptor instead'),
    prettyOption('Indent the descriptor'),
  ],
  load: () => import('../run/blob-push.js'),
});
