/** `ferry repo tags|show-tags <target>`. */
import { formatOptions } from '../options/format.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { repositoryTargetArgument, repoTagsFlags } from '../run/args/repo.js';
import { defineCommand } from './define.js';

export const repoTagsCommand = defineCommand({
  command: 'tags <target>',
  aliases: ['show-tags'],
  describe: 'List the tags of a repository',
  options: [remoteOptions, ociLayoutOption, formatOptions, repositoryTargetArgument, repoTagsFlags],
  load: () => import('../run/repo-tags.js'),
});
