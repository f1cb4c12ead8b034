/** `ferry bottle push <files..>`: publish bottles as Homebrew's pr-upload does. */
import { formatOptions } from '../options/format.js';
import { remoteOptions } from '../options/remote.js';
import {
  bottleDestinationFlags,
  bottleFilesArgument,
  bottlePushFlags,
} from '../run/args/bottle.js';
import { defineCommand } from './define.js';

export const bottlePushCommand = defineCommand({
  command: 'push <files..>',
  describe: 'Publish bottles (brew bottle --json output, or bare tarballs) as Homebrew does',
  options: [
    remoteOptions,
    formatOptions,
    bottleDestinationFlags,
    bottleFilesArgument,
    bottlePushFlags,
  ],
  examples: [
    [
      '$0 bottle push *.bottle.json',
      'Publish to each bottle JSON’s root_url, as brew pr-upload does',
    ],
    [
      '$0 bottle push foo--1.0.x86_64_linux.bottle.tar.gz --namespace myorg/tap',
      'Publish a bare tarball to ghcr.io/myorg/tap/foo',
    ],
  ],
  load: () => import('../run/bottle-push.js'),
});
