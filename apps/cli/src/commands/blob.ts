/** `ferry blob <command>`. */
import { blobDeleteCommand } from './blob-delete.js';
import { blobFetchCommand } from './blob-fetch.js';
import { blobPushCommand } from './blob-push.js';
import { defineGroupCommand } from './define.js';

export const blobCommand = defineGroupCommand({
  command: 'blob <command>',
  describe: 'Fetch, push and delete blobs',
  subcommands: [blobFetchCommand, blobPushCommand, blobDeleteCommand],
  demand: 'Name a blob command.',
});
