/** `ferry model pull <reference>`: a model of any known packaging into a directory. */
import { cacheDirOption, keepInCacheOption } from '../options/cache.js';
import { transferConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { keepOldFilesOption, outputDirectoryOption } from '../options/output.js';
import { platformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { modelPullIncludeFlags } from '../run/args/model.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';
import { CACHE_DIR, PULL_PLATFORM } from './texts.js';

export const modelPullCommand = defineCommand({
  command: 'pull <reference>',
  describe: 'Pull a model (ModelPack, cnai, KitOps, Docker Model Runner or ORAS) into a directory',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    transferConcurrencyOption,
    referenceArgument,
    outputDirectoryOption('Output directory'),
    modelPullIncludeFlags,
    keepOldFilesOption,
    platformOption(PULL_PLATFORM),
    cacheDirOption(CACHE_DIR),
    keepInCacheOption,
  ],
  examples: [
    ['$0 model pull localhost:5000/models/tiny-llama:v1 -o ./tiny-llama', 'Every file'],
    [
      '$0 model pull localhost:5000/models/tiny-llama:v1 --only weights,config -o ./m',
      'Weights and configs only; nothing else is fetched',
    ],
  ],
  load: () => import('../run/model-pull.js'),
});
