/** `ferry manifest push` and `manifest delete`: arguments, own flags and the types they parse. */
import type { TagConcurrencyArgs } from '../../options/concurrency.js';
import type { DescriptorArgs, ForceArgs, PrettyArgs } from '../../options/descriptor.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup } from '../../options/group.js';
import type { DistributionSpecArgs, OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceAndFileArguments, referenceArgument } from './reference.js';

export const manifestMediaTypeFlags = optionGroup({
  'media-type': { type: 'string', describe: 'Media type, when the file does not say' },
});

export type ManifestPushArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  DistributionSpecArgs &
  ArgsOf<typeof referenceAndFileArguments> &
  ArgsOf<typeof manifestMediaTypeFlags> &
  DescriptorArgs &
  PrettyArgs &
  TagConcurrencyArgs;

export type ManifestDeleteArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  ForceArgs &
  ArgsOf<typeof referenceArgument> &
  DescriptorArgs &
  PrettyArgs;
