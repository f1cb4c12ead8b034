/** `ferry push`: its own flags and arguments, and the type of everything it parses. */
import type { ArtifactTypeArgs } from '../../options/artifact-type.js';
import type { TransferConcurrencyArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type {
  AnnotationArgs,
  AnnotationFileArgs,
  ConfigArgs,
  DigestCacheArgs,
  ExportManifestArgs,
  ImageSpecArgs,
  PathValidationArgs,
} from '../../options/packer.js';
import type { ArtifactPlatformArgs } from '../../options/platform.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';

// yargs hands this same array to every parse; each run gets its own copy (restoreDashes,
// commands/lazy.ts, maps every array it is given).
const NO_FILES: string[] = [];

export const pushArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'registry/repository[:tag[,tag…]]',
  },
  files: {
    type: 'string',
    array: true,
    default: NO_FILES,
    describe: '<file>[:<mediaType>], or - for stdin',
  },
});

export const pushFlags = optionGroup({
  title: { type: 'string', describe: 'Title of the file read from stdin (-)' },
});

export type PushArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  DigestCacheArgs &
  AnnotationArgs &
  AnnotationFileArgs &
  TransferConcurrencyArgs &
  ArgsOf<typeof pushArguments> &
  ArtifactTypeArgs &
  ConfigArgs &
  ImageSpecArgs &
  ExportManifestArgs &
  PathValidationArgs &
  ArgsOf<typeof pushFlags> &
  ArtifactPlatformArgs;
