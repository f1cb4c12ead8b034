/** `ferry restore <reference>`: ORAS 1.3's restore, from a backup to a repository. */
import { blobConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { distributionSpecOption, remoteOptions } from '../options/remote.js';
import { restoreArguments, restoreFlags } from '../run/args/backup.js';
import { defineCommand } from './define.js';

export const restoreCommand = defineCommand({
  command: 'restore <reference>',
  describe: 'Push the tags of a backup (an OCI layout directory or .tar) to a repository',
  options: [
    remoteOptions,
    formatOptions,
    distributionSpecOption,
    blobConcurrencyOption(5),
    restoreArguments,
    restoreFlags,
  ],
  examples: [['$0 restore --input hello.tar localhost:5000/hello', 'Every tag of the backup']],
  load: () => import('../run/restore.js'),
});
