/** `ferry discover`: its own flags and arguments, and the type of everything it parses. */
import type { ArtifactTypeArgs } from '../../options/artifact-type.js';
import type { ReferrersFormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup } from '../../options/group.js';
import type { PlatformArgs } from '../../options/platform.js';
import type { DistributionSpecArgs, OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceArgument } from './reference.js';

export const discoverFlags = optionGroup({
  output: {
    choices: ['tree', 'table', 'json'],
    describe: 'tree (default), table or json; same as --format',
  },
  depth: {
    type: 'number',
    describe: 'How deep to follow referrers of referrers, 1 to 1000 [default: 100]',
  },
});

export type DiscoverArgs = RemoteArgs &
  OciLayoutArgs &
  ReferrersFormatArgs &
  DistributionSpecArgs &
  ArgsOf<typeof referenceArgument> &
  ArtifactTypeArgs &
  ArgsOf<typeof discoverFlags> &
  PlatformArgs;
