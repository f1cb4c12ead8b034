/** `ferry manifest index <command>`. */
import { defineGroupCommand } from './define.js';
import { manifestIndexCreateCommand } from './manifest-index-create.js';
import { manifestIndexUpdateCommand } from './manifest-index-update.js';

export const manifestIndexCommand = defineGroupCommand({
  command: 'index <command>',
  describe: 'Create and update image indexes',
  subcommands: [manifestIndexCreateCommand, manifestIndexUpdateCommand],
  demand: 'Name a manifest index command.',
});
