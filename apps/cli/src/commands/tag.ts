/** `ferry tag <reference> <tags..>`: ORAS's tag. */
import { tagConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { tagArguments } from '../run/args/tag.js';
import { defineCommand } from './define.js';

export const tagCommand = defineCommand({
  command: 'tag <reference> <tags..>',
  describe: 'Point more tags at a manifest',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    tagArguments,
    tagConcurrencyOption('Tags pointed at once'),
  ],
  examples: [['$0 tag localhost:5000/models/tiny:v1 stable latest', 'Add two tags']],
  load: () => import('../run/tag.js'),
});
