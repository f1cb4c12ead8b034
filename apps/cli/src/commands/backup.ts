/** `ferry backup <reference>`: ORAS 1.3's backup, into an OCI layout directory or .tar. */
import { blobConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { requiredOutputOption } from '../options/output.js';
import { distributionSpecOption, remoteOptions } from '../options/remote.js';
import { backupArguments, backupFlags } from '../run/args/backup.js';
import { defineCommand } from './define.js';

export const backupCommand = defineCommand({
  command: 'backup <reference>',
  describe:
    'Back up tags of a repository (all, or the named ones) with their blobs into an OCI layout directory or .tar',
  options: [
    remoteOptions,
    formatOptions,
    distributionSpecOption,
    blobConcurrencyOption(3),
    backupArguments,
    requiredOutputOption('A directory, or a file ending in .tar'),
    backupFlags,
  ],
  examples: [
    [
      '$0 backup --output hello.tar --include-referrers localhost:5000/hello:v1,v2',
      'Two tags and their referrers into a tar',
    ],
  ],
  load: () => import('../run/backup.js'),
});
