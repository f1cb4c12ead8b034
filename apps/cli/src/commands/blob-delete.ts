/** `ferry blob delete <reference>`. */
import { forceOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';

export const blobDeleteCommand = defineCommand({
  command: 'delete <reference>',
  describe: 'Delete a blob by digest',
  options: [remoteOptions, ociLayoutOption, formatOptions, forceOption, referenceArgument],
  load: () => import('../run/blob-delete.js'),
});
