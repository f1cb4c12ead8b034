/** `ferry manifest fetch <reference>`: a manifest exactly as stored. */
import { descriptorOption, prettyOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { outputFileOption } from '../options/output.js';
import { platformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { acceptedMediaTypeFlags } from '../run/args/manifest-fetch.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';
import { TO_FILE } from './texts.js';

export const manifestFetchCommand = defineCommand({
  command: 'fetch <reference>',
  describe: 'Print a manifest exactly as stored',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    referenceArgument,
    outputFileOption(TO_FILE),
    descriptorOption('Print its descriptor instead'),
    prettyOption('Indent the JSON (digest is of the stored bytes)'),
    platformOption('The manifest for this platform of an index'),
    acceptedMediaTypeFlags,
  ],
  load: () => import('../run/manifest-fetch.js'),
});
