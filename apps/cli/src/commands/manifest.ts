/** `ferry manifest <command>`. */
import { defineGroupCommand } from './define.js';
import { manifestDeleteCommand } from './manifest-delete.js';
import { manifestFetchConfigCommand } from './manifest-fetch-config.js';
import { manifestFetchCommand } from './manifest-fetch.js';
import { manifestIndexCommand } from './manifest-index.js';
import { manifestPushCommand } from './manifest-push.js';

export const manifestCommand = defineGroupCommand({
  command: 'manifest <command>',
  describe: 'Fetch, push and delete manifests',
  subcommands: [
    manifestFetchCommand,
    manifestFetchConfigCommand,
    manifestPushCommand,
    manifestDeleteCommand,
    manifestIndexCommand,
  ],
  demand: 'Name a manifest command.',
});
