/** `ferry logout <registry>`: ORAS's logout. */
import { formatOptions } from '../options/format.js';
import { remoteOptions } from '../options/remote.js';
import { registryArgument } from '../run/args/login.js';
import { defineCommand } from './define.js';

export const logoutCommand = defineCommand({
  command: 'logout <registry>',
  describe: 'Remove stored credentials for a registry',
  options: [remoteOptions, formatOptions, registryArgument],
  load: () => import('../run/logout.js'),
});
