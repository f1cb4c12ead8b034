/** `ferry bottle <command>`: Homebrew bottles in OCI registries. */
import { bottleInfoCommand } from './bottle-info.js';
import { bottleMirrorCommand } from './bottle-mirror.js';
import { bottlePullCommand } from './bottle-pull.js';
import { bottlePushCommand } from './bottle-push.js';
import { defineGroupCommand } from './define.js';

export const bottleCommand = defineGroupCommand({
  command: 'bottle <command>',
  describe: 'Pull, inspect, publish and mirror Homebrew bottles',
  subcommands: [bottlePullCommand, bottleInfoCommand, bottlePushCommand, bottleMirrorCommand],
  demand: 'Name a bottle command.',
  // Homebrew's --version (an image tag) replaces yargs' own --version inside `bottle`.
  ownVersion: true,
});
