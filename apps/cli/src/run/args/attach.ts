/** `ferry attach`: its arguments, and the type of everything it parses. */
import type { RequiredArtifactTypeArgs } from '../../options/artifact-type.js';
import type { TransferConcurrencyArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, positionalGroup } from '../../options/group.js';
import type {
  AnnotationArgs,
  AnnotationFileArgs,
  ConfigArgs,
  DigestCacheArgs,
  ExportManifestArgs,
  ImageSpecArgs,
  PathValidationArgs,
} from '../../options/packer.js';
import type { ArtifactPlatformArgs, PlatformArgs } from '../../options/platform.js';
import type { DistributionSpecArgs, OciLayoutArgs, RemoteArgs } from '../../options/remote.js';

// yargs hands this same array to every parse; each run gets its own copy (restoreDashes,
// commands/lazy.ts, maps every array it is given).
const NO_FILES: string[] = [];

export const attachArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'The subject: registry/repository:tag or @digest',
  },
  files: { type: 'string', array: true, default: NO_FILES, describe: '<file>[:<mediaType>]' },
});

export type AttachArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  DigestCacheArgs &
  AnnotationArgs &
  AnnotationFileArgs &
  DistributionSpecArgs &
  TransferConcurrencyArgs &
  ArgsOf<typeof attachArguments> &
  RequiredArtifactTypeArgs &
  ImageSpecArgs &
  ExportManifestArgs &
  PathValidationArgs &
  PlatformArgs &
  ConfigArgs &
  ArtifactPlatformArgs;
