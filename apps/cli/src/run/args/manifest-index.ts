/** `ferry manifest index create|update`: arguments, own flags and the types they parse. */
import type { ArtifactTypeArgs } from '../../options/artifact-type.js';
import type { PrettyArgs } from '../../options/descriptor.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { OutputFileArgs } from '../../options/output.js';
import type { AnnotationArgs } from '../../options/packer.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';

// yargs hands this same array to every parse; each run gets its own copy (restoreDashes,
// commands/lazy.ts, maps every array it is given).
const NONE: string[] = [];

export const indexCreateArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'registry/repository[:tag[,tag…]] (no tag: pushed by digest)',
  },
  sources: {
    type: 'string',
    array: true,
    default: NONE,
    describe: 'Tags or digests of manifests in that repository',
  },
});

export const indexUpdateArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'registry/repository:tag or @digest of the index',
  },
});

export const indexUpdateFlags = optionGroup({
  add: { type: 'string', array: true, describe: 'Manifest (tag or digest) to add' },
  merge: { type: 'string', array: true, describe: 'Index (tag or digest) whose manifests to add' },
  remove: { type: 'string', array: true, describe: 'Digest of a manifest to remove' },
  tag: {
    type: 'string',
    array: true,
    describe: 'Extra tag for the updated index (repeatable)',
    // The index goes to a file or to tags, not both.
    conflicts: 'output',
  },
});

type IndexOutput = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  AnnotationArgs &
  ArtifactTypeArgs &
  OutputFileArgs &
  PrettyArgs;

export type IndexCreateArgs = IndexOutput & ArgsOf<typeof indexCreateArguments>;
export type IndexUpdateArgs = IndexOutput &
  ArgsOf<typeof indexUpdateArguments> &
  ArgsOf<typeof indexUpdateFlags>;
