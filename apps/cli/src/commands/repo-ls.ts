/** `ferry repo ls|list <target>`. */
import { formatOptions } from '../options/format.js';
import { remoteOptions } from '../options/remote.js';
import { registryTargetArgument, repoLsFlags } from '../run/args/repo.js';
import { defineCommand } from './define.js';

export const repoLsCommand = defineCommand({
  command: 'ls <target>',
  aliases: ['list'],
  describe: 'List the repositories of a registry (optionally under a namespace)',
  options: [remoteOptions, formatOptions, registryTargetArgument, repoLsFlags],
  load: () => import('../run/repo-ls.js'),
});
