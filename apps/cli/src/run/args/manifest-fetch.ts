/** `ferry manifest fetch` and `fetch-config`: arguments, own flags and the types they parse. */
import type { DescriptorArgs, PrettyArgs } from '../../options/descriptor.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup } from '../../options/group.js';
import type { OutputFileArgs } from '../../options/output.js';
import type { PlatformArgs } from '../../options/platform.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceArgument } from './reference.js';

export const acceptedMediaTypeFlags = optionGroup({
  'media-type': {
    type: 'string',
    describe: 'Accepted media types, comma-separated: refuse a manifest of another type',
  },
});

export type ManifestFetchArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  ArgsOf<typeof referenceArgument> &
  OutputFileArgs &
  DescriptorArgs &
  PrettyArgs &
  PlatformArgs &
  ArgsOf<typeof acceptedMediaTypeFlags>;

export type ManifestFetchConfigArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  ArgsOf<typeof referenceArgument> &
  OutputFileArgs &
  DescriptorArgs &
  PlatformArgs;
