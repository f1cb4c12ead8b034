/** `ferry model push <reference> <dir>`: a model directory as a CNCF ModelPack artifact. */
import { transferConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { annotationOption, digestCacheOption } from '../options/packer.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import {
  modelConfigFlags,
  modelDryRunFlags,
  modelKindFlags,
  modelPushArguments,
} from '../run/args/model.js';
import { defineCommand } from './define.js';

export const modelPushCommand = defineCommand({
  command: 'push <reference> <dir>',
  describe: 'Publish a model directory as a CNCF ModelPack artifact (one layer per file)',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    transferConcurrencyOption,
    modelPushArguments,
    modelKindFlags,
    modelConfigFlags,
    annotationOption('Manifest annotation key=value (repeatable)'),
    modelDryRunFlags,
    digestCacheOption(
      'Remember digests of large files (--no-digest-cache: always hash; also FERRY_DIGEST_CACHE=0)',
    ),
  ],
  examples: [
    [
      '$0 model push localhost:5000/models/tiny-llama:v1 ./tiny-llama --license Apache-2.0',
      'Publish a Hugging Face model directory',
    ],
    [
      '$0 model push ghcr.io/me/m:v1 ~/.cache/huggingface/hub/models--org--m/snapshots/<rev>',
      'Publish a Hugging Face cache snapshot (symlinks are followed)',
    ],
    [
      '$0 model push localhost:5000/m:v1 ./m --doc "*.txt" --dry-run',
      'Show the manifest and config without pushing',
    ],
  ],
  load: () => import('../run/model-push.js'),
});
