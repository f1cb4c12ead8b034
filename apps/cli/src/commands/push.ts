/** `ferry push <reference> [files..]`: ORAS's push. */
import { artifactTypeOption } from '../options/artifact-type.js';
import { transferConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import {
  annotationFileOption,
  annotationOption,
  configOption,
  digestCacheOption,
  exportManifestOption,
  imageSpecOption,
  pathValidationOption,
} from '../options/packer.js';
import { artifactPlatformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { pushArguments, pushFlags } from '../run/args/push.js';
import { defineCommand } from './define.js';
import { DIGEST_CACHE } from './texts.js';

export const pushCommand = defineCommand({
  command: 'push <reference> [files..]',
  describe: 'Push files (and directories) to a registry as an OCI artifact',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    digestCacheOption(DIGEST_CACHE),
    annotationOption('Manifest annotation key=value (repeatable)'),
    annotationFileOption,
    transferConcurrencyOption,
    pushArguments,
    artifactTypeOption('The artifact type (OCI 1.1 artifactType)'),
    configOption,
    imageSpecOption(
      'Manifest flavour (default v1.1; v1.0 when --config is given without --artifact-type, as ORAS)',
    ),
    exportManifestOption('Also write the pushed manifest to this file'),
    pathValidationOption,
    pushFlags,
    artifactPlatformOption,
  ],
  examples: [
    [
      '$0 push localhost:5000/models/tiny:v1,latest model.safetensors:application/vnd.example.weights',
      'Push a file with a media type under two tags',
    ],
    [
      '$0 push localhost:5000/data/set:v1 ./dataset/ -a org.opencontainers.image.description="training data"',
      'Push a directory (as reproducible tar+gzip) with an annotation',
    ],
    ['cat report.pdf | $0 push localhost:5000/docs:v1 - --title report.pdf', 'Push from stdin'],
  ],
  load: () => import('../run/push.js'),
});
