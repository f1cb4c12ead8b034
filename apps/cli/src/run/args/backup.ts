/** `ferry backup` and `ferry restore`: arguments, own flags and the types they parse. */
import type { BlobConcurrencyArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { RequiredOutputArgs } from '../../options/output.js';
import type { DistributionSpecArgs, RemoteArgs } from '../../options/remote.js';

export const backupArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'registry/repository[:tag[,tag…]]',
  },
});

export const backupFlags = optionGroup({
  'include-referrers': {
    type: 'boolean',
    describe: 'Also back up referrers (signatures, SBOMs), recursively',
  },
});

export const restoreArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'registry/repository[:tag[,tag…]] (no tags: every tag of the backup)',
  },
});

export const restoreFlags = optionGroup({
  input: {
    type: 'string',
    demandOption: true,
    describe: 'The backup: a directory, or a .tar file',
  },
  'exclude-referrers': { type: 'boolean', describe: 'Leave the referrers in the backup behind' },
  'dry-run': { type: 'boolean', describe: 'Say what would be restored, pushing nothing' },
});

type Remote = RemoteArgs & FormatArgs & DistributionSpecArgs & BlobConcurrencyArgs;

export type BackupArgs = Remote &
  ArgsOf<typeof backupArguments> &
  RequiredOutputArgs &
  ArgsOf<typeof backupFlags>;

export type RestoreArgs = Remote & ArgsOf<typeof restoreArguments> & ArgsOf<typeof restoreFlags>;
