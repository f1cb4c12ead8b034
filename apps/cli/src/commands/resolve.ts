/** `ferry resolve <reference>`: ORAS's resolve (the digest a tag points at). */
import { formatOptions } from '../options/format.js';
import { platformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { referenceArgument } from '../run/args/reference.js';
import { resolveFlags } from '../run/args/resolve.js';
import { defineCommand } from './define.js';

export const resolveCommand = defineCommand({
  command: 'resolve <reference>',
  describe: 'Print the digest a tag points at',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    referenceArgument,
    resolveFlags,
    platformOption('Resolve the manifest for this platform of an index'),
  ],
  examples: [['$0 resolve localhost:5000/models/tiny:v1', 'sha256:…']],
  load: () => import('../run/resolve.js'),
});
