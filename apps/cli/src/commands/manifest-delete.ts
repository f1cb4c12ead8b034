/** `ferry manifest delete <reference>`. */
import { descriptorOption, forceOption, prettyOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';

export const manifestDeleteCommand = defineCommand({
  command: 'delete <reference>',
  describe: 'Delete a manifest (the registry must allow deletes)',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    forceOption,
    referenceArgument,
    descriptorOption('Print the deleted manifest’s descriptor instead'),
    prettyOption('Indent the descriptor'),
  ],
  load: () => import('../run/manifest-delete.js'),
});
