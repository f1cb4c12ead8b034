/** `ferry manifest index create|pack <reference> [sources..]`: ORAS 1.3's index create. */
import { artifactTypeOption } from '../options/artifact-type.js';
import { prettyOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { outputFileOption } from '../options/output.js';
import { annotationOption } from '../options/packer.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { indexCreateArguments } from '../run/args/manifest-index.js';
import { defineCommand } from './define.js';
import { INDEX_OUTPUT, INDEX_PRETTY } from './texts.js';

export const manifestIndexCreateCommand = defineCommand({
  command: 'create <reference> [sources..]',
  aliases: ['pack'],
  describe: 'Create an index from manifests of the same repository and push it',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    annotationOption('Index annotation key=value (repeatable)'),
    artifactTypeOption('The index’s artifactType'),
    outputFileOption(INDEX_OUTPUT),
    prettyOption(INDEX_PRETTY),
    indexCreateArguments,
  ],
  examples: [
    [
      '$0 manifest index create localhost:5000/hello:v1 linux-amd64 linux-arm64',
      'An index of two platform images, tagged v1',
    ],
  ],
  load: () => import('../run/manifest-index-create.js'),
});
