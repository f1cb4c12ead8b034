/** `ferry manifest index update <reference>`: ORAS 1.3's index update. */
import { artifactTypeOption } from '../options/artifact-type.js';
import { prettyOption } from '../options/descriptor.js';
import { formatOptions } from '../options/format.js';
import { outputFileOption } from '../options/output.js';
import { annotationOption } from '../options/packer.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { indexUpdateArguments, indexUpdateFlags } from '../run/args/manifest-index.js';
import { defineCommand } from './define.js';
import { INDEX_OUTPUT, INDEX_PRETTY } from './texts.js';

export const manifestIndexUpdateCommand = defineCommand({
  command: 'update <reference>',
  describe: 'Add, remove or merge manifests of an index and push the new index',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    annotationOption('Index annotation key=value (repeatable)'),
    artifactTypeOption('The index’s artifactType'),
    outputFileOption(INDEX_OUTPUT),
    prettyOption(INDEX_PRETTY),
    indexUpdateArguments,
    indexUpdateFlags,
  ],
  examples: [
    [
      '$0 manifest index update localhost:5000/hello:v1 --add linux-s390x --remove sha256:…',
      'Replace one platform; v1 then names the new index',
    ],
  ],
  load: () => import('../run/manifest-index-update.js'),
});
