/** `ferry discover <reference>`: ORAS's discover (referrers as a tree, a table or JSON). */
import { artifactTypeOption } from '../options/artifact-type.js';
import { referrersFormatOptions, referrersOutputOption } from '../options/format.js';
import { platformOption } from '../options/platform.js';
import { distributionSpecOption, ociLayoutOption, remoteOptions } from '../options/remote.js';
import { discoverFlags } from '../run/args/discover.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';

export const discoverCommand = defineCommand({
  command: 'discover <reference>',
  describe: 'Show the referrers of an artifact (attachments, signatures, SBOMs) as a tree or JSON',
  options: [
    remoteOptions,
    ociLayoutOption,
    referrersFormatOptions,
    distributionSpecOption,
    referenceArgument,
    artifactTypeOption('Only referrers of this artifact type'),
    referrersOutputOption,
    discoverFlags,
    platformOption('Start from the manifest for this platform of an index'),
  ],
  examples: [['$0 discover localhost:5000/models/tiny:v1', 'Tree of everything attached']],
  load: () => import('../run/discover.js'),
});
