/** `ferry blob fetch|push|delete`: arguments, own flags and the types they parse. */
import type { CacheDirArgs } from '../../options/cache.js';
import type { ParallelArgs } from '../../options/concurrency.js';
import type { DescriptorArgs, ForceArgs, PrettyArgs } from '../../options/descriptor.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { OutputFileArgs } from '../../options/output.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceArgument } from './reference.js';

export const blobDigestArgument = positionalGroup({
  reference: { type: 'string', demandOption: true, describe: 'registry/repository@digest' },
});

export const blobPushArguments = positionalGroup({
  reference: { type: 'string', demandOption: true, describe: 'registry/repository[@digest]' },
  file: { type: 'string', demandOption: true },
});

export const blobPushFlags = optionGroup({
  'media-type': {
    type: 'string',
    default: 'application/octet-stream',
    describe: 'For the printed descriptor',
  },
  size: { type: 'number', describe: 'Expected size (checked)' },
});

type Remote = RemoteArgs & OciLayoutArgs & FormatArgs;

export type BlobFetchArgs = Remote &
  ParallelArgs &
  CacheDirArgs &
  ArgsOf<typeof blobDigestArgument> &
  OutputFileArgs &
  DescriptorArgs;

export type BlobPushArgs = Remote &
  ArgsOf<typeof blobPushArguments> &
  ArgsOf<typeof blobPushFlags> &
  DescriptorArgs &
  PrettyArgs;

export type BlobDeleteArgs = Remote & ForceArgs & ArgsOf<typeof referenceArgument>;
