/** `ferry login <registry>`: ORAS's login. */
import { formatOptions } from '../options/format.js';
import { remoteOptions } from '../options/remote.js';
import { registryArgument } from '../run/args/login.js';
import { defineCommand } from './define.js';

export const loginCommand = defineCommand({
  command: 'login <registry>',
  describe: 'Log in to a registry (credentials are checked, then stored in Docker’s config.json)',
  options: [remoteOptions, formatOptions, registryArgument],
  examples: [
    [
      'echo "$TOKEN" | $0 login ghcr.io -u me --password-stdin',
      'Log in without the password on the command line',
    ],
  ],
  load: () => import('../run/login.js'),
});
