/** `ferry attach <reference> [files..]`: ORAS's attach (a referrer with a subject). */
import { requiredArtifactTypeOption } from '../options/artifact-type.js';
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
import { artifactPlatformOption, platformOption } from '../options/platform.js';
import { distributionSpecOption, ociLayoutOption, remoteOptions } from '../options/remote.js';
import { attachArguments } from '../run/args/attach.js';
import { defineCommand } from './define.js';
import { DIGEST_CACHE } from './texts.js';

export const attachCommand = defineCommand({
  command: 'attach <reference> [files..]',
  describe: 'Attach files or annotations to an existing artifact (a referrer with a subject)',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    digestCacheOption(DIGEST_CACHE),
    annotationOption('Manifest annotation key=value (repeatable)'),
    annotationFileOption,
    distributionSpecOption,
    transferConcurrencyOption,
    attachArguments,
    requiredArtifactTypeOption('The artifact type of the attachment'),
    // --artifact-type is required, so ORAS's v1.0-for-a-bare-config rule never applies here.
    imageSpecOption(
      'Manifest flavour: v1.1 (the default; a referrer needs v1.1, so v1.0 is refused)',
    ),
    exportManifestOption('Also write the attached manifest to this file'),
    pathValidationOption,
    platformOption('Attach to the manifest for this platform of an index'),
    configOption,
    artifactPlatformOption,
  ],
  examples: [
    [
      '$0 attach localhost:5000/models/tiny:v1 sbom.spdx.json --artifact-type application/spdx+json',
      'Attach an SBOM',
    ],
  ],
  load: () => import('../run/attach.js'),
});
