/** `ferry pull`: its own flags and arguments, and the type of everything it parses. */
import type { CacheDirArgs, KeepInCacheArgs } from '../../options/cache.js';
import type { ParallelArgs, TransferConcurrencyArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { KeepOldFilesArgs, OutputDirectoryArgs } from '../../options/output.js';
import type { PlatformArgs } from '../../options/platform.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';

export const pullArguments = positionalGroup({
  reference: { type: 'string', demandOption: true, describe: 'registry/repository:tag or @digest' },
});

export const pullIncludeFlags = optionGroup({
  include: {
    type: 'string',
    array: true,
    describe: 'Only files whose title matches this glob (repeatable)',
  },
});

export const pullSafetyFlags = optionGroup({
  'allow-path-traversal': {
    alias: 'T',
    type: 'boolean',
    describe: 'Allow titles that escape the output directory',
  },
  'allow-large-expansion': {
    type: 'boolean',
    describe:
      'Let a directory layer expand past 100 MiB and 100 times its compressed size (refused by default as a likely decompression bomb)',
  },
});

export const pullSubjectFlags = optionGroup({
  'include-subject': {
    type: 'boolean',
    describe: 'Also pull the files of its subject, recursively',
  },
});

export type PullArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  TransferConcurrencyArgs &
  ParallelArgs &
  ArgsOf<typeof pullArguments> &
  OutputDirectoryArgs &
  ArgsOf<typeof pullIncludeFlags> &
  KeepOldFilesArgs &
  ArgsOf<typeof pullSafetyFlags> &
  PlatformArgs &
  CacheDirArgs &
  KeepInCacheArgs &
  ArgsOf<typeof pullSubjectFlags>;
