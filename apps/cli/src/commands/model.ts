/** `ferry model <command>`: models as CNCF ModelPack artifacts (and every format pulled). */
import { defineGroupCommand } from './define.js';
import { modelInspectCommand } from './model-inspect.js';
import { modelPullCommand } from './model-pull.js';
import { modelPushCommand } from './model-push.js';

export const modelCommand = defineGroupCommand({
  command: 'model <command>',
  describe: 'Publish, pull and inspect models (CNCF ModelPack; also KitOps, Docker, ORAS)',
  subcommands: [modelPushCommand, modelPullCommand, modelInspectCommand],
  demand: 'Name a model command.',
  // The model's --version replaces yargs' own --version inside `model`.
  ownVersion: true,
});
