/** `ferry copy`: its own flags and arguments, and the type of everything it parses. */
import type { CacheDirArgs } from '../../options/cache.js';
import type { BlobConcurrencyArgs, ParallelArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { PlatformArgs } from '../../options/platform.js';
import type {
  EndArgs,
  EndCredentialArgs,
  OciLayoutArgs,
  RemoteArgs,
} from '../../options/remote.js';

export const copyArguments = positionalGroup({
  from: { type: 'string', demandOption: true },
  to: { type: 'string', demandOption: true, describe: 'Destination, with optional ,tag list' },
});

export const copyFlags = optionGroup({
  recursive: { alias: 'r', type: 'boolean', describe: 'Also copy referrers, recursively' },
  'from-oci-layout': { type: 'boolean', describe: 'The source is an OCI layout directory' },
  'to-oci-layout': { type: 'boolean', describe: 'The destination is an OCI layout directory' },
});

export type CopyArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  BlobConcurrencyArgs &
  EndArgs &
  ParallelArgs &
  CacheDirArgs &
  ArgsOf<typeof copyArguments> &
  ArgsOf<typeof copyFlags> &
  PlatformArgs &
  EndCredentialArgs;
