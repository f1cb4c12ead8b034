/** `ferry manifest push <reference> <file>`: a manifest file as is. */
import { tagConcurrencyOption } from '../options/concurrency.js';
import { descriptorOption, prettyOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { distributionSpecOption, ociLayoutOption, remoteOptions } from '../options/remote.js';
import { manifestMediaTypeFlags } from '../run/args/manifest-push.js';
import { referenceAndFileArguments } from '../run/args/reference.js';
import { defineCommand } from './define.js';

export const manifestPushCommand = defineCommand({
  command: 'push <reference> <file>',
  describe: 'Push a manifest file (or - for stdin) as is',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    distributionSpecOption,
    referenceAndFileArguments,
    manifestMediaTypeFlags,
    descriptorOption('Print its descriptor instead'),
    prettyOption('Indent the descriptor'),
    tagConcurrencyOption('Tags (ref:a,b,c) pointed at once'),
  ],
  load: () => import('../run/manifest-push.js'),
});
