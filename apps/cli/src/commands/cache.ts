/** `ferry cache <command>`. */
import { cachePruneCommand } from './cache-prune.js';
import { defineGroupCommand } from './define.js';

export const cacheCommand = defineGroupCommand({
  command: 'cache <command>',
  describe: 'Manage the download cache',
  subcommands: [cachePruneCommand],
  demand: 'Name a cache command.',
});
