/** `ferry repo <command>`. */
import { defineGroupCommand } from './define.js';
import { repoLsCommand } from './repo-ls.js';
import { repoTagsCommand } from './repo-tags.js';

export const repoCommand = defineGroupCommand({
  command: 'repo <command>',
  describe: 'List repositories and tags',
  subcommands: [repoLsCommand, repoTagsCommand],
  demand: 'Name a repo command.',
});
