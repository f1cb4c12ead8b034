/** `ferry manifest fetch-config <reference>`: the config blob of an image or artifact. */
import { descriptorOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { outputFileOption } from '../options/output.js';
import { platformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';
import { TO_FILE } from './texts.js';

export const manifestFetchConfigCommand = defineCommand({
  command: 'fetch-config <reference>',
  describe: 'Print the config blob of an image or artifact',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    referenceArgument,
    outputFileOption(TO_FILE),
    descriptorOption('Print the config descriptor instead'),
    platformOption('From an index, the manifest for this platform'),
  ],
  load: () => import('../run/manifest-fetch-config.js'),
});
